"""Session caps (licence, per user), idle expiry and the API Login Limit answers (§2, §9)."""
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.erp_probe import erp_signin
from tests.sandbox.acumatica_helpers import API_PW, Client, site_seed, user


@pytest.fixture
def seed():
    return site_seed(licence={"max_api_users": 2},
                     users=[user("Api2"), user("Api3"), user("Capped", allowed_sessions=2)])


def signed_in(sandbox, name, password=API_PW):
    client = Client(sandbox)
    answer = client.login(name, password)
    assert answer.status_code == 204, answer.text
    return client


def test_licence_cap_counts_sessions_of_the_instance(sandbox):
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    refused = Client(sandbox).login("Api3", API_PW)
    assert refused.status_code == 500
    assert "API Login Limit" in refused.json()["exceptionMessage"]
    assert sandbox.erp.counters()["acme/Company"]["sessions_open"] == 2


def test_sign_out_frees_the_slot(sandbox):
    first = signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    assert Client(sandbox).login("Api3", API_PW).status_code == 500
    assert first.logout().status_code == 204
    assert Client(sandbox).login("Api3", API_PW).status_code == 204


def test_leaked_session_holds_its_slot_until_idle_timeout(sandbox):
    signed_in(sandbox, "OcerraAPI")
    active = signed_in(sandbox, "Api2")
    sandbox.clock.advance(300)
    assert active.get("entity").status_code == 200      # a request keeps a session alive
    sandbox.clock.advance(299)
    assert Client(sandbox).login("Api3", API_PW).status_code == 500
    sandbox.clock.advance(2)                             # OcerraAPI idle 601 s: gone
    assert Client(sandbox).login("Api3", API_PW).status_code == 204
    counters = sandbox.erp.counters()["acme/Company"]
    assert counters["sessions_expired"] == 1 and counters["sessions_open"] == 2


def test_expired_session_is_401(sandbox):
    client = signed_in(sandbox, "OcerraAPI")
    sandbox.erp.set_switches({"session_idle_timeout_s": 60})
    sandbox.clock.advance(61)
    assert client.get("entity/Default/24.200.001/Vendor").status_code == 401


def test_per_user_cap_myob_default_is_one(sandbox):
    sandbox.reset(seed=site_seed(licence={"max_api_users": 10}))
    signed_in(sandbox, "OcerraAPI")
    refused = Client(sandbox).login("OcerraAPI", API_PW)
    assert refused.status_code == 500
    assert refused.json()["exceptionMessage"].startswith("API Login Limit")
    assert "OcerraAPI" in refused.json()["exceptionMessage"]


def test_per_user_cap_acumatica_default_is_the_licence_s_api_user_count(sandbox):
    """An empty AllowedSessions on Acumatica: the licence's API-user count applies, not 3."""
    sandbox.reset(seed=site_seed(licence={"max_api_users": 5}, flavour="acumatica"))
    for _ in range(5):
        signed_in(sandbox, "OcerraAPI")
    refused = Client(sandbox).login("OcerraAPI", API_PW)
    assert refused.status_code == 500 and "API Login Limit" in refused.json()["exceptionMessage"]


def test_per_user_cap_from_user_then_type_then_switch(sandbox):
    sandbox.reset(seed=site_seed(licence={"max_api_users": 10}, users=[user("Capped",
                                                                            allowed_sessions=2)]))
    signed_in(sandbox, "Capped")
    signed_in(sandbox, "Capped")
    assert Client(sandbox).login("Capped", API_PW).status_code == 500
    # admin's type allows 5 sessions
    for _ in range(5):
        signed_in(sandbox, "admin", "Admin-Password-2024")
    assert Client(sandbox).login().status_code == 500
    sandbox.erp.set_switches({"allowed_sessions_default": 2})
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "OcerraAPI")
    assert Client(sandbox).login("OcerraAPI", API_PW).status_code == 500


def test_licence_cap_switch_applies_to_instances_without_one(sandbox):
    seed = site_seed(users=[user("Api2")])
    del seed["acumatica"]["instances"][0]["licence"]
    seed["acumatica"]["switches"] = {"max_api_users": 1}
    sandbox.reset(seed=seed)
    signed_in(sandbox, "OcerraAPI")
    assert Client(sandbox).login("Api2", API_PW).status_code == 500


def test_login_limit_as_json429(sandbox):
    sandbox.erp.set_switches({"login_limit_response": "json429"})
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    refused = Client(sandbox).login("Api3", API_PW)
    assert refused.status_code == 429
    assert "API Login Limit" in refused.json()["exceptionMessage"]


def refused_by_the_limit(sandbox, form):
    """A third API user's sign-in over a licence of two, answered in `form`: (client, answer)."""
    sandbox.erp.set_switches({"login_limit_response": form})
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    client = Client(sandbox)
    return client, client.login("Api3", API_PW)


def test_login_limit_as_redirect_to_error_page(sandbox):
    client, refused = refused_by_the_limit(sandbox, "redirect302")
    assert refused.status_code == 302
    location = refused.headers["Location"]
    assert urlsplit(location).path == "/acme/Frames/Error.aspx"
    assert "API Login Limit" in parse_qs(urlsplit(location).query)["errorcode"][0]
    page = client.http.get(f"{sandbox.acumatica_url}{location}")
    assert page.status_code == 200 and "API Login Limit" in page.text
    assert "ASP.NET_SessionId" not in client.http.cookies


def test_login_limit_as_error_page_message_without_its_name(sandbox):
    """A MYOB site's form: message= on Error.aspx, without the words "API Login Limit"."""
    client, refused = refused_by_the_limit(sandbox, "redirect302_message")
    assert refused.status_code == 302
    query = parse_qs(urlsplit(refused.headers["Location"]).query)
    assert query["message"][0].startswith("The number of concurrent API logins") and "errorcode" not in query
    assert "API Login Limit" not in refused.headers["Location"]
    page = client.http.get(f"{sandbox.acumatica_url}{refused.headers['Location']}")
    assert "The number of concurrent API logins" in page.text


def test_login_limit_as_iis_429_page(sandbox):
    sandbox.erp.set_switches({"login_limit_response": "iis429"})
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    refused = Client(sandbox).login("Api3", API_PW)
    assert refused.status_code == 429 and refused.headers["Content-Type"].startswith("text/plain")
    assert refused.text == "The custom error module does not recognize this error."


@pytest.mark.parametrize("mode", ["json500", "json429", "redirect302", "redirect302_message", "iis429"])
def test_probe_classifies_login_limit_in_every_form(sandbox, mode):
    sandbox.erp.set_switches({"login_limit_response": mode})
    signed_in(sandbox, "OcerraAPI")
    signed_in(sandbox, "Api2")
    probe = erp_signin(f"{sandbox.acumatica_url}/acme", "Company", None, "Api3", API_PW)
    assert probe.outcome == "licence_limit"
    assert probe.message
