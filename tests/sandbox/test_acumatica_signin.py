"""Sign-in, sign-out, cookies, tenants, the §4 checks and texts, and the §8 lock-out."""
import http.client
from urllib.parse import urlsplit

import pytest
import requests

from tests.sandbox.acumatica_helpers import (ADMIN_PW, API_PW, Client, admin, site_seed, user)

INVALID = "Invalid credentials. Please try again."
LOCKED = "Your account is locked out. Please contact your system administrator."
CHANGE = "You need to change your password. Sign in by using your browser to set a new password."


@pytest.fixture
def seed():
    return site_seed(users=[
        user("Locked", locked=True), user("Disabled", is_approved=False),
        user("Pending", pending=True), user("Outsider", allowed_in_tenant=False),
        user("UiOnly", user_type="UI Only"), user("MustChange", force_change=True),
        user("NoPassword", password=None), user("NoLicence", licence_types=[]),
        user("Expired", expired=True)],
        security={"password_expiry_days": 90}, tenants=("Company", "Second"))


def message(answer):
    return answer.json()["exceptionMessage"]


def test_plain_requests_client_signs_in_reads_and_signs_out(sandbox):
    http = requests.Session()
    base = f"{sandbox.acumatica_url}/acme"
    answer = http.post(f"{base}/entity/auth/login",
                       json={"name": "admin", "password": ADMIN_PW, "tenant": "Company",
                             "branch": "HQ"})
    assert answer.status_code == 204 and answer.content == b""
    assert {c.name for c in http.cookies} >= {"ASP.NET_SessionId", ".ASPXAUTH", "UserBranch",
                                              "Locale", "CompanyID"}
    assert all(c.path == "/acme" for c in http.cookies)
    assert http.cookies.get("CompanyID") == "Company" and http.cookies.get("UserBranch") == "HQ"
    listing = http.get(f"{base}/entity")
    assert listing.status_code == 200
    assert {"name": "Default", "version": "24.200.001",
            "href": "/acme/entity/Default/24.200.001/"} in listing.json()["endpoints"]
    assert set(listing.json()["version"]) == {"acumaticaBuildVersion", "databaseVersion"}
    assert http.post(f"{base}/entity/auth/logout").status_code == 204
    after = http.get(f"{base}/entity/Default/24.200.001/Vendor")
    assert after.status_code == 401
    assert after.json()["exceptionMessage"] == "The user is not logged in to the system"
    counters = sandbox.erp.counters()["acme/Company"]
    assert (counters["signins"], counters["signouts"], counters["sessions_open"]) == (1, 1, 0)
    assert counters["users"]["admin"]["signins"] == 1


def test_form_body_and_legacy_company(sandbox):
    client = Client(sandbox)
    answer = client.http.post(f"{client.base}/entity/auth/login",
                              data={"name": "admin", "password": ADMIN_PW, "company": "Second"})
    assert answer.status_code == 204
    assert client.http.cookies.get("CompanyID") == "Second"


def test_tenant_and_company_together_is_400(sandbox):
    answer = Client(sandbox).login(company="Company")
    assert answer.status_code == 400
    assert "not both" in message(answer)


def test_entity_calls_without_cookies_are_401(sandbox):
    client = Client(sandbox)
    for path in ("entity/Default/24.200.001/Vendor", "entity/Default/24.200.001/swagger.json"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert message(answer) == "The user is not logged in to the system"
    forged = Client(sandbox)
    forged.http.cookies.set("ASP.NET_SessionId", "x" * 24, path="/acme")
    forged.http.cookies.set(".ASPXAUTH", "y" * 80, path="/acme")
    assert forged.get("entity/Default/24.200.001/Vendor").status_code == 401


def test_the_endpoint_list_answers_without_a_session_with_the_system_endpoints_only(sandbox):
    sandbox.reset(seed=site_seed(installed=True))
    assert "UserAdmin" in {e["name"] for e in admin(sandbox).get("entity").json()["endpoints"]}
    answer = Client(sandbox).get("entity")
    assert answer.status_code == 200
    assert [e["name"] for e in answer.json()["endpoints"]] == ["Default"]
    assert Client(sandbox, "nowhere").get("entity").status_code == 404


def test_cookies_of_one_instance_do_not_open_another(sandbox):
    seed = site_seed()
    seed["acumatica"]["instances"].append({**seed["acumatica"]["instances"][0], "name": "other"})
    sandbox.reset(seed=seed)
    client = admin(sandbox)
    other = requests.Session()
    other.cookies.update({c.name: c.value for c in client.http.cookies})
    assert other.get(f"{sandbox.acumatica_url}/other/entity/Default/24.200.001/Vendor").status_code == 401


def test_unknown_instance_is_404(sandbox):
    assert Client(sandbox, "nowhere").login().status_code == 404


@pytest.mark.parametrize("mode,status,text", [
    ("error500", 500, "A proper company ID cannot be determined"),
    ("default_tenant", 204, None)])
def test_unknown_tenant_switch(sandbox, mode, status, text):
    """With several tenants (this seed's Company and Second), a name none has."""
    sandbox.erp.set_switches({"unknown_tenant": mode})
    client = Client(sandbox)
    answer = client.login(tenant="Nope")
    assert answer.status_code == status
    if text:
        assert message(answer) == text
        assert answer.json()["exceptionType"] == "PX.Data.PXUndefinedCompanyException"
    else:
        assert client.http.cookies.get("CompanyID") == "Company"


def test_empty_tenant_lands_in_the_default_one_and_names_ignore_case(sandbox):
    client = Client(sandbox)
    assert client.login(tenant="").status_code == 204
    assert client.http.cookies.get("CompanyID") == "Company"
    other = Client(sandbox)
    assert other.login(tenant="second").status_code == 204
    assert other.http.cookies.get("CompanyID") == "Second"


@pytest.mark.parametrize("name,password,text", [
    ("nobody", API_PW, INVALID),
    ("OcerraAPI", "wrong", INVALID),
    ("Locked", API_PW, LOCKED),
    ("Disabled", API_PW, "Your account is disabled. Please contact your system administrator."),
    ("Pending", API_PW,
     "Your account is not activated yet. Please contact your system administrator."),
    ("Outsider", API_PW, "You are not allowed to log in to the tenant Company. "
                         "Please contact your system administrator."),
    ("UiOnly", API_PW, "Current user cannot send API requests."),
    ("MustChange", API_PW, CHANGE),
    ("NoPassword", "anything", CHANGE),
    ("Expired", API_PW, CHANGE),
    ("NoLicence", API_PW, "Your account does not have a license type that allows access to "
                          "the Acumatica ERP. Please contact your system administrator."),
])
def test_each_refusal_has_its_exact_text(sandbox, name, password, text):
    answer = Client(sandbox).login(name, password)
    assert answer.status_code == 500
    body = answer.json()
    assert body["exceptionMessage"] == text
    assert set(body) >= {"message", "exceptionMessage", "exceptionType", "stackTrace"}
    assert sandbox.erp.counters()["acme/Company"]["failed_signins"] == 1


def test_checks_run_in_reference_order(sandbox):
    # A disabled, pending, force-change user answers "disabled": that check comes first.
    sandbox.erp.upsert_user("acme", "Company", {"username": "Disabled", "pending": True,
                                                "force_change": True})
    assert "disabled" in message(Client(sandbox).login("Disabled", API_PW))
    # A wrong password answers invalid credentials whatever the account's state.
    assert message(Client(sandbox).login("Disabled", "wrong")) == INVALID


def test_acumatica_flavour_needs_no_licence(sandbox):
    sandbox.reset(seed=site_seed(users=[user("NoLicence", licence_types=[])],
                                 flavour="acumatica"))
    assert Client(sandbox).login("NoLicence", API_PW).status_code == 204


def test_message_brand_switch(sandbox):
    sandbox.erp.set_switches({"message_brand": "MYOB Acumatica"})
    assert "access to the MYOB Acumatica." in message(Client(sandbox).login("NoLicence", API_PW))


@pytest.mark.parametrize("status", [500, 401, 400])
def test_signin_failure_status_switch(sandbox, status):
    sandbox.erp.set_switches({"signin_failure_status": status})
    answer = Client(sandbox).login("OcerraAPI", "wrong")
    assert answer.status_code == status
    assert message(answer) == INVALID


def test_three_failures_lock_then_self_unlock_after_the_duration(sandbox):
    client = Client(sandbox)
    for _ in range(3):
        assert message(client.login("OcerraAPI", "wrong")) == INVALID
    assert message(client.login("OcerraAPI", API_PW)) == LOCKED
    state = {u["username"]: u for u in sandbox.erp.state()["instances"][0]["tenants"][0]["users"]}
    assert state["OcerraAPI"]["locked"] and state["OcerraAPI"]["failed_attempts"] == 3
    sandbox.clock.advance(899)
    assert message(client.login("OcerraAPI", API_PW)) == LOCKED
    sandbox.clock.advance(2)
    assert client.login("OcerraAPI", API_PW).status_code == 204
    state = {u["username"]: u for u in sandbox.erp.state()["instances"][0]["tenants"][0]["users"]}
    assert state["OcerraAPI"]["failed_attempts"] == 0 and not state["OcerraAPI"]["locked"]
    assert sandbox.erp.counters()["acme/Company"]["users"]["OcerraAPI"]["failed_signins"] == 5


def test_failures_outside_the_window_restart_the_count(sandbox):
    client = Client(sandbox)
    client.login("OcerraAPI", "wrong")
    client.login("OcerraAPI", "wrong")
    sandbox.clock.advance(601)
    client.login("OcerraAPI", "wrong")
    assert client.login("OcerraAPI", API_PW).status_code == 204


def test_success_resets_the_counter(sandbox):
    client = Client(sandbox)
    client.login("OcerraAPI", "wrong")
    client.login("OcerraAPI", "wrong")
    assert client.login("OcerraAPI", API_PW).status_code == 204
    client.logout()
    client.login("OcerraAPI", "wrong")
    client.login("OcerraAPI", "wrong")
    assert client.login("OcerraAPI", API_PW).status_code == 204


def test_lockout_settings_are_per_tenant(sandbox):
    sandbox.reset(seed=site_seed(security={"lockout_threshold": 5, "lockout_duration_s": 60,
                                           "lockout_window_s": 30}))
    client = Client(sandbox)
    for _ in range(4):
        client.login("OcerraAPI", "wrong")
    assert client.login("OcerraAPI", API_PW).status_code == 204
    client.logout()
    for _ in range(5):
        client.login("OcerraAPI", "wrong")
    assert message(client.login("OcerraAPI", API_PW)) == LOCKED
    sandbox.clock.advance(61)
    assert client.login("OcerraAPI", API_PW).status_code == 204


def _raw_logout(sandbox, cookie=""):
    parts = urlsplit(sandbox.acumatica_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", "/acme/entity/auth/logout")
    if cookie:
        connection.putheader("Cookie", cookie)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_logout_without_content_length_is_411_by_default(sandbox):
    client = admin(sandbox)
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.http.cookies)
    assert _raw_logout(sandbox, cookie) == 411
    assert sandbox.erp.counters()["acme/Company"]["sessions_open"] == 1
    sandbox.erp.set_switches({"logout_requires_content_length": False})
    assert _raw_logout(sandbox, cookie) == 204
    assert sandbox.erp.counters()["acme/Company"]["sessions_open"] == 0


def test_logout_without_a_session_is_still_204(sandbox):
    assert Client(sandbox).logout().status_code == 204
    assert sandbox.erp.counters()["acme/Company"]["signouts"] == 0


@pytest.mark.parametrize("tenant", ["Nope", "company", "Second"])
def test_an_instance_with_one_tenant_signs_any_tenant_name_in_to_it(sandbox, tenant):
    sandbox.reset(seed=site_seed(tenants=("Company",)))
    client = Client(sandbox)
    assert client.login(tenant=tenant).status_code == 204
    assert client.http.cookies.get("CompanyID") == "Company"
