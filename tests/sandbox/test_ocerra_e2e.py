"""The fake Ocerra against the real fake Acumatica, both served by the harness over HTTP
(the `sandbox` fixture of tests/conftest.py)."""
import pytest
import requests

from test_ocerra_support import A, B, C, ERP_PW, NEW_PW, SVC, SVC_PW, ocerra_seed

ACUMATICA = {"instances": [{
    "name": "acme", "flavour": "myob",
    "licence": {"max_api_users": 5, "max_concurrent_requests": 10, "max_requests_per_minute": 600},
    "tenants": [{
        "name": "Company",
        "security": {"min_length": 14, "complexity": "myob_union", "lockout_threshold": 3,
                     "lockout_duration_s": 900, "lockout_window_s": 600},
        "user_types": [{"name": "API User", "allowed": "A", "max_sessions": 3,
                        "roles": ["Administrator"]}],
        "licence_types": [{"name": "Full User (Full API)", "available": 5}],
        "users": [{"username": "OcerraAPI", "password": ERP_PW, "email": "api@example.com",
                   "user_type": "API User", "roles": ["Administrator"],
                   "licence_types": ["Full User (Full API)"], "is_approved": True,
                   "locked": False, "force_change": False, "password_never_expires": True}],
    }],
}]}


@pytest.fixture
def seed():
    """The conftest's `sandbox` is reset to this: A, B and C share the ERP user OcerraAPI."""
    ocerra = ocerra_seed()
    for client in ocerra["clients"][:3]:
        client["settings"] = {**client["settings"], "enableConnection": True}
        client["settings"].pop("branch")              # the fake ERP seeds no branches
    return {"acumatica": ACUMATICA, "ocerra": ocerra}


def put(sandbox, client, body):
    answer = requests.put(f"{sandbox.ocerra_url}/api/Acumatica/Settings",
                          params={"clientId": client}, json=body, auth=(SVC, SVC_PW), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def status(sandbox, client):
    answer = requests.get(f"{sandbox.ocerra_url}/api/Acumatica/Settings",
                          params={"clientId": client}, auth=(SVC, SVC_PW), timeout=10)
    return answer.json()["status"]


def erp_total(sandbox, name):
    counters = requests.get(f"{sandbox.acumatica_url}/_sandbox/counters", timeout=10).json()
    return sum(site.get(name, 0) for site in counters.values())


def change_erp_password(sandbox):
    answer = requests.post(f"{sandbox.acumatica_url}/_sandbox/users", timeout=10, json={
        "instance": "acme", "tenant": "Company", "username": "OcerraAPI", "password": NEW_PW})
    assert answer.status_code == 200, answer.text


def erp_user(sandbox):
    [tenant] = sandbox.erp.state()["instances"][0]["tenants"]
    return next(u for u in tenant["users"] if u["username"] == "OcerraAPI")


def test_save_runs_a_real_sign_in_that_signs_out(sandbox):
    got = put(sandbox, A, {"autoExportStatuses": "Submitted"})
    assert (got["status"]["code"], got["status"]["message"]) == \
        ("Connected", "Connection was successful.")
    assert erp_total(sandbox, "signins") == erp_total(sandbox, "signouts") == 1


def test_a_sync_with_a_stale_password_locks_the_erp_user(sandbox):
    change_erp_password(sandbox)
    sync = requests.post(f"{sandbox.ocerra_url}/_sandbox/sync", timeout=30).json()["results"]
    assert {r["clientId"] for r in sync} == {A, B, C}
    assert erp_total(sandbox, "failed_signins") == 3 and erp_user(sandbox)["locked"] is True
    # The toolkit now pushes the right password: the ERP refuses it while locked ...
    for client in (A, B, C):
        put(sandbox, client, {"password": NEW_PW})
        assert put(sandbox, client, {"enableConnection": True})["status"]["code"] == "AccountLocked"
    assert status(sandbox, A)["message"].startswith("Your account is locked")
    # ... until the lock-out span has passed on the shared clock.
    sandbox.clock.advance(901)
    test = requests.post(f"{sandbox.ocerra_url}/api/Acumatica/Connection/Test",
                         params={"clientId": B}, auth=(SVC, SVC_PW), timeout=10).json()
    assert test["status"]["code"] == "Connected" and status(sandbox, B)["code"] == "Connected"
    assert erp_total(sandbox, "signins") == erp_total(sandbox, "signouts")


def test_pushing_the_new_password_before_the_sync_keeps_every_entity_connected(sandbox):
    change_erp_password(sandbox)
    for client in (A, B, C):
        put(sandbox, client, {"password": NEW_PW})
        put(sandbox, client, {"enableConnection": True})
    requests.post(f"{sandbox.ocerra_url}/_sandbox/sync", timeout=30)
    assert {status(sandbox, c)["code"] for c in (A, B, C)} == {"Connected"}
    assert erp_total(sandbox, "failed_signins") == 0 and erp_user(sandbox)["locked"] is False
    logs = requests.get(f"{sandbox.ocerra_url}/_sandbox/log", timeout=10).text + \
        requests.get(f"{sandbox.acumatica_url}/_sandbox/log", timeout=10).text
    assert "OcerraAPI" in logs and NEW_PW not in logs and ERP_PW not in logs
