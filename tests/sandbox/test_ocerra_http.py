"""The fake Ocerra over HTTP (Flask's test client), with the stub ERP of test_ocerra_support."""
import base64
import json

import pytest

from sandbox.ocerra import create_app
from test_ocerra_support import (A, B, C, ERP, ERP_PW, FOREIGN, NEW_PW, SVC, SVC_PW, UNKNOWN,
                                 clock, erp, model)  # noqa: F401

BASIC = "Basic " + base64.b64encode(f"{SVC}:{SVC_PW}".encode()).decode()
SECRETS = (ERP_PW, NEW_PW, SVC_PW, BASIC.split()[1])
PRODUCT_ROUTES = [("GET", "/api/Ping?message=x"), ("GET", "/api/Client/Current"),
                  ("GET", "/odata/OtherClients()"), ("GET", "/api/Client"),
                  ("POST", f"/api/Client/Switch?clientId={B}"),
                  ("GET", f"/api/Acumatica/Settings?clientId={A}"),
                  ("PUT", f"/api/Acumatica/Settings?clientId={A}"),
                  ("POST", f"/api/Acumatica/Connection/Test?clientId={A}"),
                  ("GET", "/api/NoSuchThing"), ("GET", "/odata/Vendor")]


class Ocerra:
    """The test client, with every answer kept so a test can grep them all for secrets."""

    def __init__(self, app):
        self.http = app.test_client()
        self.seen = []

    def call(self, method, path, auth=BASIC, **kw):
        headers = {"Authorization": auth} if auth else {}
        answer = self.http.open(path, method=method, headers=headers, **kw)
        self.seen.append(f"{answer.status} {dict(answer.headers)} {answer.get_data(as_text=True)}")
        return answer

    def control(self, method, path, body=None):
        return self.call(method, "/_sandbox/" + path, auth=None, json=body).get_json()

    def settings(self, client=A, method="GET", body=None):
        return self.call(method, f"/api/Acumatica/Settings?clientId={client}", json=body)


@pytest.fixture
def ocerra(model):
    return Ocerra(create_app(model))


# ---- auth ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path", PRODUCT_ROUTES)
@pytest.mark.parametrize("auth", [None, "Basic " + base64.b64encode(f"{SVC}:no".encode()).decode(),
                                  "Bearer abc", "Basic !!notbase64"])
def test_every_product_route_wants_basic_and_401_carries_nothing(ocerra, method, path, auth):
    answer = ocerra.call(method, path, auth=auth, json={"password": NEW_PW})
    assert answer.status_code == 401 and answer.data == b""
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Ocerra"'
    assert SVC not in str(answer.headers) and NEW_PW not in str(answer.headers)


def test_five_bad_logins_lock_the_ocerra_user_on_the_sandbox_clock(ocerra):
    bad = "Basic " + base64.b64encode(f"{SVC}:wrong".encode()).decode()
    for _ in range(5):
        assert ocerra.call("GET", "/api/Ping?message=x", auth=bad).status_code == 401
    assert ocerra.call("GET", "/api/Ping?message=x").status_code == 401
    ocerra.control("POST", "clock/advance", {"seconds": 301})
    assert ocerra.call("GET", "/api/Ping?message=x").status_code == 200


# ---- the confirmed public API ------------------------------------------------------------------
def test_ping_echoes_a_json_string(ocerra):
    answer = ocerra.call("GET", "/api/Ping?message=hello%20there")
    assert (answer.status_code, answer.get_json(), answer.mimetype) == \
        (200, "hello there", "application/json")


def test_current_other_and_listed_clients(ocerra):
    assert ocerra.call("GET", "/api/Client/Current").get_json()["clientId"] == A
    other = ocerra.call("GET", "/odata/OtherClients()").get_json()
    assert other["@odata.context"].endswith("/odata/$metadata#Client")
    assert [c["clientId"] for c in other["value"]] == [B, C, "44444444-4444-4444-4444-444444444444"]
    page = ocerra.call("GET", "/api/Client?pageIndex=0&pageSize=2").get_json()
    assert [c["clientId"] for c in page] == [A, B]
    assert ocerra.call("GET", "/api/Client?pageSize=0").status_code == 400


# ---- settings ----------------------------------------------------------------------------------
def test_get_settings_returns_the_model_with_a_null_password(ocerra):
    answer = ocerra.settings()
    got = answer.get_json()
    assert answer.status_code == 200 and got["password"] is None and got["hasPassword"] is True
    assert (got["clientId"], got["baseUrl"], got["login"]) == (A, ERP + "/acme", "OcerraAPI")
    assert ocerra.call("GET", f"/api/Acumatica/Settings?clientid={B}").get_json()["clientId"] == B


@pytest.mark.parametrize("mode,first_put_enabled", [("on_save", False), ("on_edit", True),
                                                    ("never", True)])
def test_password_change_then_second_put_reenables_under_each_drop_mode(
        ocerra, erp, mode, first_put_enabled):
    ocerra.control("PUT", "switches", {"enable_drop_mode": mode})
    erp.passwords["OcerraAPI"] = NEW_PW
    first = ocerra.settings(method="PUT", body={"password": NEW_PW, "enableConnection": True})
    assert first.status_code == 200 and first.get_json()["enableConnection"] is first_put_enabled
    assert first.get_json()["password"] is None
    second = ocerra.settings(method="PUT", body={"enableConnection": True}).get_json()
    assert (second["enableConnection"], second["status"]["code"]) == (True, "Connected")
    assert erp.calls[-1]["password"] == NEW_PW


def test_validation_errors_are_400_with_an_error_message(ocerra):
    answer = ocerra.settings(method="PUT", body={"baseUrl": "acme"})
    assert answer.status_code == 400
    assert answer.get_json() == {"errorMessage": "baseUrl must be an absolute http(s) URL."}
    not_json = ocerra.call("PUT", f"/api/Acumatica/Settings?clientId={A}", data="{}",
                           content_type="text/plain")
    assert not_json.get_json() == {"errorMessage": "The request body must be a JSON object."}


def test_access_denied_and_unknown_client(ocerra):
    denied = ocerra.settings(FOREIGN)
    assert (denied.status_code, denied.get_json()) == (403, {"errorMessage": "Access denied"})
    assert ocerra.settings(UNKNOWN).status_code == 404
    assert ocerra.call("POST", f"/api/Client/Switch?clientId={B}").status_code == 404


def test_switch_call_over_http(ocerra):
    ocerra.control("PUT", "switches", {"client_selection": "switch_call"})
    assert ocerra.call("POST", f"/api/Client/Switch?clientId={B}").get_json()["clientId"] == B
    assert ocerra.call("GET", "/api/Acumatica/Settings").get_json()["clientId"] == B


@pytest.mark.parametrize("shape,status,mimetype,body", [
    ("empty_401", 401, None, ""),
    ("problem_details_400", 400, "application/problem+json", '"detail": "Access denied"'),
    ("string_500", 500, "text/plain", "Access denied")])
def test_error_body_shapes_over_http(ocerra, shape, status, mimetype, body):
    ocerra.control("PUT", "switches", {"error_body": shape})
    answer = ocerra.settings(FOREIGN)
    assert answer.status_code == status and body in answer.get_data(as_text=True)
    assert mimetype is None and answer.data == b"" or answer.mimetype == mimetype


def test_connection_test_answers_200_even_when_it_fails(ocerra, erp):
    erp.forced = "account_locked"
    answer = ocerra.call("POST", f"/api/Acumatica/Connection/Test?clientId={A}")
    got = answer.get_json()
    assert answer.status_code == 200 and got["status"]["code"] == "AccountLocked"
    assert got["errorMessage"].startswith("Your account is locked") and got["id"] == A


# ---- control routes, counters, log, secrets ------------------------------------------------------
def test_bad_switch_is_a_400_on_the_control_api(ocerra):
    answer = ocerra.call("PUT", "/_sandbox/switches", auth=None, json={"error_body": "html"})
    assert answer.status_code == 400 and "error_body" in answer.get_json()["error"]


def test_sync_and_tick_control_routes(ocerra, erp):
    results = ocerra.control("POST", "sync")["results"]
    assert [r["clientId"] for r in results] == [A, B] and len(erp.calls) == 2
    assert ocerra.control("POST", "tick") == {"runs": []}
    ocerra.control("POST", "clock/advance", {"seconds": 1200})
    assert [len(run) for run in ocerra.control("POST", "tick")["runs"]] == [2]


def test_counters_per_client_id(ocerra):
    ocerra.settings()
    ocerra.settings(method="PUT", body={"branch": "B2"})
    ocerra.call("POST", f"/api/Acumatica/Connection/Test?clientId={A}")
    ocerra.settings(FOREIGN, method="PUT", body={})
    ocerra.call("GET", "/api/Ping?message=x")
    ocerra.control("POST", "sync")
    counters = ocerra.control("GET", "counters")
    assert counters[A] == {"requests": 3, "writes": 2, "tests": 1, "syncs": 1}
    assert counters[FOREIGN] == {"requests": 1, "writes": 1}
    assert counters[B] == {"syncs": 1}


def test_no_secret_in_any_answer_log_audit_or_state(ocerra, erp):
    erp.passwords["OcerraAPI"] = NEW_PW
    for client in (A, B):
        ocerra.settings(client, "PUT", {"login": "OcerraAPI", "password": NEW_PW})
        ocerra.settings(client, "PUT", {"enableConnection": True})
        ocerra.settings(client)
    ocerra.call("POST", f"/api/Acumatica/Connection/Test?clientId={A}")
    ocerra.settings(method="PUT", body={"password": NEW_PW, "colour": "red"})   # a 400
    ocerra.call("GET", "/api/Ping?message=x", auth="Basic " + base64.b64encode(
        f"{SVC}:{NEW_PW}".encode()).decode())                                   # a 401
    ocerra.control("POST", "sync")
    log = ocerra.control("GET", "log")
    assert any(e["body"] == {"login": "OcerraAPI", "password": "***"} for e in log)
    assert {e["site"] for e in log if e["path"].startswith("/api/Acumatica")} == {A, B}
    for path in ("log", "audit", "state", "counters", "switches"):
        ocerra.control("GET", path)
    everything = "\n".join(ocerra.seen)
    assert "OcerraAPI" in everything           # the grep sees the answers ...
    for secret in SECRETS:
        assert secret not in everything        # ... and finds no secret in any of them
    assert json.dumps(ocerra.control("GET", "audit")).count('"password"') == 2
    assert {e["clientId"] for e in ocerra.control("GET", f"audit?clientId={B}")} == {B}
