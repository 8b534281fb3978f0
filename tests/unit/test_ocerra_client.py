"""The Ocerra adapter against a scripted server: error mapping, retries, selection, secrets."""
import base64
import json
from urllib.parse import quote

import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ApiError, CheckModeViolation
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import OcerraClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.errors import (
    OcerraAuthError, OcerraForbidden, OcerraNotFound, OcerraRejected, OcerraServerError, WrongClient)

A = "11111111-1111-1111-1111-111111111111"
B = "22222222-2222-2222-2222-222222222222"
USER, CANARY = "svc@partner.example", "Ocerra-Canary-7Qz!x%9+/="
ERP_CANARY = "Erp-Canary-4k&Lm\"p#2"
TOKEN = base64.b64encode(f"{USER}:{CANARY}".encode()).decode()


def model(cid=A, **fields):
    return {"clientId": cid, "baseUrl": "https://x.example/", "tenant": "Company", "branch": None,
            "login": "OcerraAPI", "password": None, "hasPassword": True, "enableConnection": True,
            "status": {"code": "Connected", "message": "Connection was successful.",
                       "checkedDate": "2025-07-01T00:00:00Z"}, "updatedDate": None, **fields}


def client(server, **kw):
    return OcerraClient(f"http://127.0.0.1:{server.server_port}", USER, CANARY,
                        sleep=lambda _: None, **kw)


def assert_no_secret(text):
    for form in (CANARY, TOKEN, quote(CANARY, safe=""), json.dumps(CANARY)[1:-1],
                 ERP_CANARY, json.dumps(ERP_CANARY)[1:-1]):
        assert form not in text


def test_basic_auth_and_client_id_are_sent_and_password_never_read(server):
    server.script = [(200, model(password="should-never-surface"))]
    conn = client(server).get_settings(A)
    assert server.seen[0]["auth"] == f"Basic {TOKEN}"
    assert server.seen[0]["path"] == f"/api/Acumatica/Settings?clientId={A}"
    assert "password" not in conn and conn["has_password"] is True
    assert conn["status"] == {"code": "Connected", "message": "Connection was successful.",
                              "checked": "2025-07-01T00:00:00Z"}


def test_non_latin_passwords_are_sent_as_utf8_and_never_echoed(server):
    password = "Océrra-Canary-€-9x"
    server.script = [(401, {"errorMessage": f"bad {password}"})]
    with pytest.raises(OcerraAuthError) as err:
        OcerraClient(f"http://127.0.0.1:{server.server_port}", USER, password).get_settings(A)
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    assert server.seen[0]["auth"] == f"Basic {token}"
    assert password not in err.value.message and token not in err.value.message


def test_401_names_the_credentials_and_is_not_retried(server):
    server.script = [(401, None), (200, model())]
    with pytest.raises(OcerraAuthError) as err:
        client(server).get_settings(A)
    assert len(server.seen) == 1
    assert "ocerra_username and ocerra_password" in err.value.message
    assert "two-factor" in err.value.message and err.value.details["status"] == 401


def test_401_after_accepted_credentials_says_so(server):
    server.script = [(200, model()), (401, None)]
    c = client(server)
    c.get_settings(A)
    with pytest.raises(OcerraAuthError) as err:
        c.get_settings(A)
    assert "worked earlier in this run" in err.value.message


def test_403_names_the_accountant_role(server):
    server.script = [(403, {"errorMessage": "Access denied"})]
    with pytest.raises(OcerraForbidden) as err:
        client(server).get_settings(A)
    assert "accountant role" in err.value.message and USER in err.value.message


def test_404_with_a_reason_is_an_unknown_client(server):
    server.script = [(404, {"errorMessage": "Client not found."})]
    with pytest.raises(OcerraNotFound) as err:
        client(server).get_settings(A)
    assert f"does not know client {A}" in err.value.message


def test_empty_404_points_at_the_url(server):
    server.script = [(404, None)]
    with pytest.raises(OcerraNotFound) as err:
        client(server).get_settings(A)
    assert "check ocerra_url" in err.value.message


@pytest.mark.parametrize("body", [{"errorMessage": "baseUrl must be an absolute http(s) URL."},
                                  {"title": "Bad Request", "detail": "baseUrl must be an absolute http(s) URL."}])
def test_400_carries_the_server_reason(server, body):
    server.script = [(200, model()), (400, body)]
    c = client(server)
    c.get_settings(A)
    with pytest.raises(OcerraRejected) as err:
        c.put_settings(A, {"erp_url": "nope"})
    assert "baseUrl must be an absolute http(s) URL." in err.value.message


def test_reads_and_saves_retry_5xx_but_a_save_that_switches_on_and_tests_do_not(server):
    """A save is idempotent; one that switches the connection on runs Ocerra's test, an ERP
    sign-in, as does a test: those two are never sent twice."""
    server.script = [(503, None), (200, model())]
    c = client(server)
    c.get_settings(A)
    assert len(server.seen) == 2
    server.script = [(503, None), (200, model(login="x"))]
    assert c.put_settings(A, {"login": "x", "enabled": False})["login"] == "x"
    server.script = [(503, None)]
    with pytest.raises(OcerraServerError) as err:
        c.put_settings(A, {"login": "x", "enabled": True})
    assert "run again later" in err.value.message
    server.script = [(502, "gateway")]
    with pytest.raises(OcerraServerError):
        c.test_connection(A)
    assert [r["method"] for r in server.seen] == ["GET", "GET", "PUT", "PUT", "PUT", "POST"]


def test_errors_never_hold_a_secret_even_when_the_server_echoes_one(server):
    echo = f"bad {CANARY} {TOKEN} Basic {TOKEN} {quote(CANARY, safe='')} {ERP_CANARY} {json.dumps(ERP_CANARY)}"
    for status in (400, 403, 404, 500):
        server.script = [(200, model()), (status, {"errorMessage": echo})]
        c = client(server)
        c.get_settings(A)
        with pytest.raises(Exception) as err:
            c.put_settings(A, {"password": ERP_CANARY})
        assert_no_secret(err.value.message + repr(err.value.details))


def test_non_json_answer_is_an_api_error(server):
    server.script = [(200, "<html>login</html>")]
    with pytest.raises(ApiError) as err:
        client(server).get_settings(A)
    assert "not with JSON" in err.value.message


def test_put_sends_only_the_changed_fields_in_ocerra_names(server):
    server.script = [(200, model())]
    client(server).put_settings(A, {"erp_url": "https://y.example/", "password": ERP_CANARY, "enabled": True})
    assert server.seen[0]["body"] == {"baseUrl": "https://y.example/", "password": ERP_CANARY,
                                      "enableConnection": True}


def test_check_mode_refuses_saves_and_tests_before_sending(server):
    c = client(server, check_mode=True)
    with pytest.raises(CheckModeViolation):
        c.put_settings(A, {"login": "x"})
    with pytest.raises(CheckModeViolation):
        c.test_connection(A)
    assert server.seen == []


def test_auto_selection_switches_when_the_parameter_is_ignored(server):
    server.script = [(200, model(B)), (200, {"clientId": A}), (200, model(A)), (200, model(A))]
    c = client(server)
    assert c.get_settings(A)["client_id"] == A
    c.put_settings(A, {"login": "x"})
    assert [(r["method"], r["path"].split("?")[0]) for r in server.seen] == [
        ("GET", "/api/Acumatica/Settings"), ("POST", "/api/Client/Switch"),
        ("GET", "/api/Acumatica/Settings"), ("PUT", "/api/Acumatica/Settings")]


def test_auto_selection_without_a_switch_route_explains(server):
    server.script = [(200, model(B)), (404, None)]
    with pytest.raises(WrongClient) as err:
        client(server).get_settings(A)
    assert "its own service user" in err.value.message


def test_query_param_selection_refuses_an_answer_for_another_client(server):
    server.script = [(200, model(B))]
    with pytest.raises(WrongClient):
        client(server, selection="query_param").get_settings(A)
    assert len(server.seen) == 1


def test_a_save_answered_for_another_client_is_reported_loudly(server):
    server.script = [(200, model(A)), (200, model(B))]
    c = client(server)
    c.get_settings(A)
    with pytest.raises(WrongClient) as err:
        c.put_settings(A, {"login": "x"})
    assert f"written to client {B}" in err.value.message


def test_list_and_find_clients(server):
    current = {"clientId": A, "name": "Acme Live"}
    others = {"value": [{"clientId": B, "name": "Acme Test"}, {"clientId": A, "name": "Acme Live"}]}
    server.script = [(200, current), (200, others)]
    c = client(server)
    assert c.list_clients() == [{"client_id": A, "client_name": "Acme Live"},
                                {"client_id": B, "client_name": "Acme Test"}]
    server.script = [(200, current), (200, others)]
    assert c.find_client(" acme test ")["client_id"] == B
    server.script = [(200, current), (200, others)]
    with pytest.raises(OcerraNotFound) as err:
        c.find_client("Beta")
    assert "Acme Live, Acme Test" in err.value.message


def test_tls_verification_is_on_by_default_and_takes_a_ca_bundle(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):   # a CI machine may name its own bundle
        monkeypatch.delenv(name, raising=False)
    assert OcerraClient("https://o.example", USER, CANARY).http.session.verify is True
    assert OcerraClient("https://o.example", USER, CANARY, ca_path="/ca.pem").http.session.verify == "/ca.pem"
    warned = []
    OcerraClient("https://o.example", USER, CANARY, validate_certs=False, warn=warned.append)
    assert warned and CANARY not in warned[0]


def test_a_password_given_as_a_callable_is_asked_for_once_at_the_first_request(server):
    asked = []
    lazy = OcerraClient(f"http://127.0.0.1:{server.server_port}", USER, lambda: asked.append(1) or CANARY,
                        sleep=lambda _: None)
    assert asked == [] and lazy.scrub(CANARY) == CANARY          # nothing decrypted, nothing to scrub yet
    server.script = [(200, model()), (200, model())]
    lazy.get_settings(A)
    lazy.get_settings(A)
    assert asked == [1]
    assert [s["auth"] for s in server.seen] == [f"Basic {TOKEN}"] * 2
    assert CANARY not in lazy.scrub(f"echo {CANARY} {TOKEN}")
