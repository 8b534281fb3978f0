"""AcumaticaClient against the sandbox: sessions, TLS, retries, probes, no secret in errors."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import errors as ae
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import PROBE_OK, AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError, TransportError
from sandbox import Sandbox
from tests.modules.erp_support import ADMIN_PW, API_PW, SITE, api_user, erp_seed


@pytest.fixture
def seed():
    return erp_seed(api_user())


def client(sandbox, password=ADMIN_PW, **kw):
    return AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", password,
                           sleep=lambda _s: None, **kw)


def counts(sandbox):
    return sandbox.erp.counters()[SITE]


def test_sign_in_is_lazy_and_close_is_idempotent(sandbox):
    c = client(sandbox)
    c.close()
    assert counts(sandbox)["requests"] == 0
    c = client(sandbox)
    assert c.get_user("OcerraAPI")["Username"]["value"] == "OcerraAPI"
    c.close()
    c.close()
    assert (counts(sandbox)["signins"], counts(sandbox)["signouts"], counts(sandbox)["sessions_open"]) == (1, 1, 0)


def test_sign_in_body_has_tenant_and_branch_never_company(sandbox):
    c = client(sandbox, branch="HQ")
    c.ensure_signed_in()
    c.close()
    login = sandbox.erp.log.snapshot()[0]
    assert set(login["body"]) == {"name", "password", "tenant", "branch"} and login["body"]["password"] == "***"


def test_failed_sign_out_raises_for_the_run_wrapper_to_warn(sandbox):
    c = client(sandbox)
    c.ensure_signed_in()
    sandbox.erp.faults.add("status", path="/auth/logout$", status=500)
    with pytest.raises(ToolkitError) as err:
        c.close()
    assert "idles out" in err.value.message and c.signed_in is False
    c.close()   # nothing left to do


def test_invalid_admin_credentials_are_not_retried_and_never_echo_the_password(sandbox):
    canary = "Wrong-Canary-Pass-4242"
    with pytest.raises(ae.InvalidCredentials) as err:
        client(sandbox, password=canary).ensure_signed_in()
    assert canary not in str(err.value.fail_kwargs()) and "Not retried" in err.value.message
    assert counts(sandbox)["failed_signins"] == 1 and counts(sandbox)["requests"] == 1


def test_unknown_tenant(sandbox):
    seed = erp_seed()
    seed["acumatica"]["instances"][0]["tenants"].append(dict(seed["acumatica"]["instances"][0]["tenants"][0], name="Other"))
    sandbox.reset(seed=seed)        # an instance with one tenant signs any tenant name in to it
    c = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Nope", "admin", ADMIN_PW)
    with pytest.raises(ae.UnknownTenant) as err:
        c.ensure_signed_in()
    assert "tenant 'Nope'" in err.value.message


def test_throttled_reads_are_retried_then_reported_with_the_wait(sandbox):
    c = client(sandbox, retry_timeout=100)
    c.ensure_signed_in()
    sandbox.erp.faults.add("throttle", path="/User/", count=2, retry_after=3)
    assert c.get_user("OcerraAPI") is not None
    sandbox.erp.faults.add("throttle", path="/User/", count=None, retry_after=30)
    with pytest.raises(ae.RateLimitedSite) as err:
        c.get_user("OcerraAPI")
    sandbox.erp.faults.clear()
    c.close()
    assert err.value.details["waited_seconds"] > 30 and "tenant 'Company'" in err.value.message


@pytest.mark.parametrize("patch,outcome", [({}, PROBE_OK), ({"password": "Other-Password-123x"}, ae.INVALID),
                                           ({"locked": True}, ae.LOCKED), ({"is_approved": False}, ae.DISABLED),
                                           ({"force_change": True}, ae.CHANGE_REQUIRED),
                                           ({"licence_types": []}, ae.LICENCE)])
def test_probe_signs_in_on_its_own_cookie_jar_and_signs_out(sandbox, patch, outcome):
    sandbox.erp.upsert_user("acme", "Company", {"username": "OcerraAPI", **patch})
    c = client(sandbox)
    c.ensure_signed_in()
    assert c.probe_signin("OcerraAPI", API_PW) == outcome
    assert c.get_user("OcerraAPI") is not None     # the admin session is untouched
    c.close()
    api = counts(sandbox)["users"]["OcerraAPI"]
    assert api["signins"] == api["signouts"] == (1 if outcome == PROBE_OK else 0)
    assert c.requests_sent == 3 + (2 if outcome == PROBE_OK else 1)


def test_tls_is_verified_by_default_and_a_ca_bundle_or_explicit_opt_out_works():
    with Sandbox.start(seed=erp_seed(api_user()), tls=True) as tls:
        url = f"{tls.acumatica_url}/acme"
        with pytest.raises(TransportError) as err:
            AcumaticaClient(url, "Company", "admin", ADMIN_PW).ensure_signed_in()
        assert "ca_path" in err.value.message
        trusted = AcumaticaClient(url, "Company", "admin", ADMIN_PW, ca_path=tls.ca_path)
        assert trusted.get_user("OcerraAPI") is not None
        trusted.close()
        warnings = []
        unverified = AcumaticaClient(url, "Company", "admin", ADMIN_PW, validate_certs=False, warn=warnings.append)
        assert unverified.get_user("OcerraAPI") is not None
        unverified.close()
        assert warnings and "verification is off" in warnings[0]
        site = tls.erp.counters()[SITE]
        assert site["signins"] == site["signouts"] == 2


def test_check_mode_refuses_writes_but_signs_in_and_probes(sandbox):
    c = client(sandbox, check_mode=True)
    assert c.probe_signin("OcerraAPI", API_PW) == PROBE_OK
    with pytest.raises(ToolkitError):
        c.user_action("UnlockLogin", "OcerraAPI")
    c.close()
    assert counts(sandbox)["writes"] == 0


@pytest.mark.parametrize("fault", [dict(kind="status", status=503, count=3), dict(kind="status", status=502, count=2),
                                   dict(kind="status", status=504, count=2), dict(kind="drop", count=2)])
def test_the_admin_sign_in_is_retried_while_the_site_restarts(sandbox, fault):
    waits = []
    c = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW, sleep=waits.append)
    sandbox.erp.faults.add(fault.pop("kind"), path="/auth/login$", method="POST", **fault)
    assert c.get_user("OcerraAPI") is not None
    c.close()
    assert len(waits) == fault["count"] and all(0 <= w <= 30 for w in waits)   # jittered, bounded


def test_the_admin_sign_in_gives_up_within_the_retry_timeout(sandbox):
    waits = []
    c = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW, sleep=waits.append,
                        retry_timeout=10)
    sandbox.erp.faults.add("status", path="/auth/login$", method="POST", status=503, count=None)
    with pytest.raises(ToolkitError) as err:
        c.ensure_signed_in()
    c.close()
    assert sum(waits) <= 10 and "503" in err.value.message and counts(sandbox)["failed_signins"] == 0


@pytest.mark.parametrize("status, retried", [(503, True), (502, False), (504, False)])
def test_a_probe_is_retried_only_when_the_site_cannot_have_checked_the_password(sandbox, status, retried):
    """A probe's password may be wrong: an answer that may follow a check (502/504 from a proxy
    whose site did the work) is not retried, so one probe is at most one failed attempt."""
    sandbox.erp.upsert_user("acme", "Company", {"username": "OcerraAPI", "password": "Other-Password-123x"})
    c = client(sandbox)
    c.ensure_signed_in()
    sandbox.erp.faults.add("status", path="/auth/login$", method="POST", status=status, count=1)
    if retried:
        assert c.probe_signin("OcerraAPI", API_PW) == ae.INVALID
    else:
        with pytest.raises(ToolkitError):
            c.probe_signin("OcerraAPI", API_PW)
    c.close()
    assert counts(sandbox)["users"].get("OcerraAPI", {}).get("failed_signins", 0) == (1 if retried else 0)


def test_a_probe_is_retried_when_no_connection_opened(sandbox):
    """Nothing listens (a site restarting): the probe tries again, then says so."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]     # closed when the block ends: connections are refused
    waits = []
    c = AcumaticaClient(f"http://127.0.0.1:{port}/acme", "Company", "admin", ADMIN_PW, sleep=waits.append,
                        retry_timeout=5)
    with pytest.raises(TransportError):
        c.probe_signin("OcerraAPI", API_PW)
    assert waits and sum(waits) <= 5


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_from_the_environment_is_honoured_and_proxies_are_not(variable, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):   # a CI machine may set both
        monkeypatch.delenv(name, raising=False)
    with Sandbox.start(seed=erp_seed(api_user()), tls=True) as tls:
        monkeypatch.setenv(variable, tls.ca_path)
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")   # would fail every request if used
        c = AcumaticaClient(f"{tls.acumatica_url}/acme", "Company", "admin", ADMIN_PW)
        assert c.get_user("OcerraAPI") is not None
        c.close()
        monkeypatch.setenv(variable, "/nonexistent/ca.pem")
        warnings = []
        with pytest.raises(TransportError) as err:
            AcumaticaClient(f"{tls.acumatica_url}/acme", "Company", "admin", ADMIN_PW,
                            warn=warnings.append).ensure_signed_in()
        assert "ca_path" in err.value.message and warnings == [f"{variable} names no file; the default CA bundle is used."]


@pytest.mark.parametrize("who", ["admin", "probe"])
def test_a_sign_in_answered_after_the_timeout_is_signed_out_not_left_open(sandbox, who):
    """The ERP answers a sign-in after the client stopped waiting: the session it opened is signed
    out once its answer comes (never sent twice, never left holding one of the few API slots)."""
    sandbox.erp.faults.add("latency", path=r"/entity/auth/login$", seconds=2.5)
    c = client(sandbox, timeout=1)
    with pytest.raises(TransportError, match=r"did not answer POST .*login within 1s"):
        if who == "admin":
            c.ensure_signed_in()
        else:
            c.probe_signin("OcerraAPI", API_PW)
    c.close()
    assert (counts(sandbox)["signins"], counts(sandbox)["signouts"], counts(sandbox)["sessions_open"]) == (1, 1, 0)
    logins = [e for e in sandbox.erp.log.snapshot() if e["path"].endswith("/entity/auth/login")]
    assert len(logins) == 1                                    # not sent again


def test_a_sign_in_answered_late_is_the_next_calls_session(sandbox):
    sandbox.erp.faults.add("latency", path=r"/entity/auth/login$", seconds=2.5)
    c = client(sandbox, timeout=1)
    with pytest.raises(TransportError):
        c.get_user("OcerraAPI")
    assert c.get_user("OcerraAPI")["Username"]["value"] == "OcerraAPI"     # in the session the late answer opened
    c.close()
    assert (counts(sandbox)["signins"], counts(sandbox)["signouts"], counts(sandbox)["sessions_open"]) == (1, 1, 0)
