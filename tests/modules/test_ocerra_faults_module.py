"""ocerra_connection when Ocerra misbehaves: outages, throttling, error shapes, TLS."""
import pytest

from sandbox import Sandbox
from tests.modules.erp_support import NEW_PW
from tests.modules.ocerra_support import BETA, LIVE, Ocerra, oc, ocerra_seed  # noqa: F401

UNKNOWN = "99999999-9999-9999-9999-999999999999"


def test_ocerra_down_during_the_save_is_not_replayed_and_a_rerun_finishes(oc):
    oc.sandbox.ocerra.faults.add("status", path="/api/Acumatica/Settings", method="PUT", status=503,
                                 body="Service Unavailable")
    down = oc.connect(LIVE, password=NEW_PW, push_password=True)
    assert down["failed"] and "HTTP 503" in down["msg"] and "run again later" in down["msg"]
    assert down["changed"] and down["password_pushed"] and len(oc.puts()) == 1
    oc.erp_user(password=NEW_PW)
    again = oc.connect(LIVE, password=NEW_PW, push_password=True)
    assert again["connection"]["status"]["code"] == "Connected"


def test_a_dropped_save_is_retried_unless_it_switches_the_connection_on(oc):
    """A save is idempotent and retried; one that switches the connection on runs Ocerra's test
    (an ERP sign-in) and is never sent twice."""
    oc.sandbox.ocerra.faults.add("drop", path="/api/Acumatica/Settings", method="PUT")
    off = oc.connect(LIVE, enabled=False)
    assert not off.get("failed") and oc.settings(LIVE)["enableConnection"] is False, off
    assert [m for m, _, _ in oc.log()].count("PUT") == 2
    oc.sandbox.ocerra.faults.add("drop", path="/api/Acumatica/Settings", method="PUT")
    on = oc.connect(LIVE)
    assert on["failed"] and "did not answer PUT" in on["msg"]
    assert oc.settings(LIVE)["enableConnection"] is False     # a replay would have switched it on


def test_reads_ride_out_a_brief_outage_and_throttling(oc):
    oc.sandbox.ocerra.faults.add("status", path="/api/Acumatica/Settings", method="GET", status=502)
    oc.sandbox.ocerra.faults.add("throttle", path="/api/Acumatica/Settings", method="GET", retry_after=1)
    result = oc.connect(LIVE)
    assert not result.get("failed") and not result["changed"], result
    assert [m for m, _, _ in oc.log()] == ["GET", "GET", "GET"]


@pytest.mark.parametrize("error_body", ["error_message", "problem_details_400", "string_500", "empty_401"])
def test_every_error_shape_fails_with_a_message_and_nothing_written(oc, error_body):
    oc.switch(error_body=error_body)
    for client_id in (BETA, UNKNOWN):
        result = oc.run(**oc.args(client_id=client_id, enabled=False))
        assert result["failed"] and result["error_kind"].startswith("ocerra_"), result
        assert len(result["msg"]) > 40 and "Unexpected" not in result["msg"]
    assert oc.puts() == []
    expected = {"error_message": "accountant role", "problem_details_400": "(HTTP 400): Access denied",
                "string_500": "HTTP 500: Access denied", "empty_401": "HTTP 401"}[error_body]
    assert expected in oc.run(**oc.args(client_id=BETA, enabled=False))["msg"]


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default_and_a_ca_bundle_is_accepted():
    with Sandbox.start(seed=ocerra_seed(), tls=True) as sb:
        oc = Ocerra(sb)
        refused = oc.run(**oc.args(client_id=LIVE))
        assert refused["failed"] and "TLS verification failed" in refused["msg"]
        trusted = oc.run(**oc.args(client_id=LIVE, ocerra_ca_path=sb.ca_path))
        assert not trusted.get("failed") and not trusted["changed"], trusted
        insecure = oc.run(**oc.args(client_id=LIVE, ocerra_validate_certs=False))
        assert not insecure.get("failed") and "verification is off" in str(insecure["warnings"])
