"""The fake Acumatica's /_sandbox control API, request log redaction, counters and faults."""
import json

import pytest
import requests

from tests.sandbox.acumatica_helpers import (ADMIN_PW, CANARY, Client, admin, project_b64,
                                             site_seed, wrap)


@pytest.fixture
def seed():
    return site_seed(installed=True)


def control(sandbox, method, path, body=None):
    return requests.request(method, f"{sandbox.acumatica_url}/_sandbox/{path}", json=body,
                            timeout=10)


def test_log_never_holds_a_password_cookie_or_package(sandbox):
    client = Client(sandbox)
    client.login("admin", CANARY)                                     # failed sign-in
    form = requests.post(f"{client.base}/entity/auth/login",
                         data={"name": "admin", "password": CANARY, "tenant": "Company"})
    assert form.status_code == 500
    client = admin(sandbox)
    cookie = client.http.cookies.get(".ASPXAUTH")
    client.put_user({**wrap(Username="NewApi", Email="n@example.com", GeneratePassword=False,
                            Password=CANARY)})
    client.action("ResetPasswordOK", "OcerraAPI", NewPassword=CANARY, ConfirmPassword=CANARY)
    package = project_b64()
    client.customization("import", {"projectName": "P", "projectContentBase64": package})
    client.get("entity", params={"password": CANARY})
    client.logout()
    dumped = json.dumps(sandbox.erp.log.snapshot()) + control(sandbox, "GET", "log").text
    for secret in (CANARY, cookie, package[:40]):
        assert secret not in dumped
    assert "***" in dumped
    entry = sandbox.erp.log.snapshot()[0]
    assert set(entry) == {"time", "method", "path", "query", "status", "site", "user", "body"}
    assert (entry["site"], entry["user"], entry["status"]) == ("acme/Company", "admin", 500)
    state = json.dumps(sandbox.erp.state())
    assert CANARY not in state and "pbkdf2" not in state and cookie not in state


def test_counters_per_site_and_user(sandbox):
    client = Client(sandbox)
    client.login("admin", "wrong")
    client = admin(sandbox)
    client.get("entity")
    client.put_user(wrap(Username="OcerraAPI", FirstName="A"))
    client.action("UnlockLogin", "OcerraAPI")
    client.logout()
    counters = control(sandbox, "GET", "counters").json()["acme/Company"]
    assert {k: counters[k] for k in ("requests", "signins", "signouts", "failed_signins",
                                     "writes", "sessions_open")} == \
        {"requests": 6, "signins": 1, "signouts": 1, "failed_signins": 1, "writes": 2,
         "sessions_open": 0}
    assert counters["users"]["admin"] == {"signins": 1, "signouts": 1, "failed_signins": 1}


def test_reset_restores_the_seed_and_clears_everything(sandbox):
    client = admin(sandbox)
    client.put_user(wrap(Username="OcerraAPI", FirstName="Changed"))
    sandbox.erp.set_switches({"state_format": "codes"})
    sandbox.erp.faults.add("status", status=503)
    sandbox.clock.advance(3600)
    assert control(sandbox, "POST", "reset").status_code == 200
    assert control(sandbox, "GET", "log").json() == []
    assert control(sandbox, "GET", "faults").json() == []
    assert control(sandbox, "GET", "switches").json()["state_format"] == "labels"
    assert control(sandbox, "GET", "counters").json()["acme/Company"]["requests"] == 0
    client = admin(sandbox)
    assert client.users("/OcerraAPI").json()["FirstName"] == {"value": None}


def test_reset_with_a_new_section(sandbox):
    section = site_seed(tenants=("Other",))["acumatica"]
    assert control(sandbox, "POST", "reset", section).status_code == 200
    assert [t["name"] for t in sandbox.erp.state()["instances"][0]["tenants"]] == ["Other"]
    bad = control(sandbox, "POST", "reset", {"instances": [{"name": "x", "bogus": 1}]})
    assert bad.status_code == 400 and "bogus" in bad.json()["error"]


def test_switches_merge_and_validate(sandbox):
    changed = control(sandbox, "PUT", "switches", {"customization": {"publish_polls": 5}})
    assert changed.json()["customization"] == {"publish_polls": 5, "publish_outcome": "ok",
                                               "restart_drops": 0}
    for bad in ({"nope": 1}, {"signin_failure_status": 418}, {"action_mode": "202"},
                {"customization": {"publish_outcome": "maybe"}}, {"retry_after": -1},
                {"roles_membership_durable": "no"}):
        answer = control(sandbox, "PUT", "switches", bad)
        assert answer.status_code == 400, bad
    assert control(sandbox, "GET", "switches").json()["customization"]["publish_polls"] == 5


def test_clock_routes(sandbox):
    before = control(sandbox, "GET", "clock").json()["now"]
    after = control(sandbox, "POST", "clock/advance", {"seconds": 900}).json()["now"]
    assert after > before
    assert control(sandbox, "POST", "clock/advance", {"seconds": "x"}).status_code == 400


def test_seed_or_patch_a_user(sandbox):
    patched = control(sandbox, "POST", "users", {"instance": "acme", "tenant": "Company",
                                                 "username": "OcerraAPI", "locked": True})
    assert patched.status_code == 200 and patched.json()["locked"] is True
    answer = Client(sandbox).login("OcerraAPI", "Api-Password-2024x")
    assert "locked out" in answer.json()["exceptionMessage"]
    created = control(sandbox, "POST", "users", {
        "instance": "acme", "tenant": "Company", "username": "Fresh", "password": CANARY,
        "email": "f@example.com", "user_type": "API User", "licence_types": ["Limited API"],
        "force_change": True})
    assert created.json()["force_change"] and CANARY not in created.text
    assert control(sandbox, "POST", "users", {"instance": "acme", "tenant": "Nope",
                                              "username": "x"}).status_code == 400
    assert control(sandbox, "POST", "users", {"instance": "acme", "tenant": "Company",
                                              "username": "x", "roles": ["Boss"]}).status_code == 400


def test_state_shows_sessions_and_endpoints(sandbox):
    admin(sandbox)
    inst = control(sandbox, "GET", "state").json()["instances"][0]
    assert inst["sessions"][0]["user"] == "admin"
    assert "UserAdmin/1.0.0" in inst["tenants"][0]["endpoints"]
    assert inst["licence"]["max_api_users"] == 5


def test_faults_status_throttle_latency_and_drop(sandbox):
    client = admin(sandbox)
    assert control(sandbox, "POST", "faults", {"kind": "status", "status": 503, "count": 1,
                                               "path": "/entity$"}).status_code == 201
    assert client.get("entity").status_code == 503
    assert client.get("entity").status_code == 200                    # consumed
    control(sandbox, "POST", "faults", {"kind": "throttle", "retry_after": 3})
    throttled = client.get("entity")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    control(sandbox, "POST", "faults", {"kind": "drop", "method": "GET"})
    with pytest.raises(requests.ConnectionError):
        client.get("entity")
    assert sandbox.erp.log.snapshot()[-1]["status"] == "dropped"
    control(sandbox, "POST", "faults", {"kind": "latency", "seconds": 0.05, "count": None})
    assert len(control(sandbox, "GET", "faults").json()) == 1
    assert client.get("entity").status_code == 200
    control(sandbox, "DELETE", "faults")
    assert control(sandbox, "GET", "faults").json() == []
    assert control(sandbox, "POST", "faults", {"kind": "meteor"}).status_code == 400


def test_control_routes_are_not_logged_or_faulted(sandbox):
    sandbox.erp.faults.add("status", status=500, count=None)
    assert control(sandbox, "GET", "state").status_code == 200
    assert sandbox.erp.log.snapshot() == []


def test_clearing_the_log_keeps_counters(sandbox):
    admin(sandbox).get("entity")
    control(sandbox, "DELETE", "log")
    assert control(sandbox, "GET", "log").json() == []
    assert sandbox.erp.counters()["acme/Company"]["requests"] == 2


def test_password_is_stored_hashed(sandbox):
    sandbox.erp.upsert_user("acme", "Company", {"username": "Hashy", "password": CANARY})
    tenant = sandbox.erp._instances["acme"].tenants["Company"]
    stored = tenant.users["hashy"].password_hash
    assert CANARY not in stored and stored.startswith("pbkdf2_sha256$")
    assert ADMIN_PW not in repr(tenant.users["admin"])


def test_licence_types_are_refused_on_a_plain_acumatica_seed(sandbox):
    seed = site_seed(flavour="acumatica")
    seed["acumatica"]["instances"][0]["tenants"][0]["licence_types"] = [{"name": "Full", "available": 1}]
    with pytest.raises(ValueError, match="licence types exist only on the myob flavour"):
        sandbox.reset(seed=seed)
