"""ocerra_connection run in-process against the sandbox, under every fake-Ocerra switch."""
import itertools

import pytest

from tests.modules.erp_support import API_PW, NEW_PW
from tests.modules.ocerra_support import BETA, LIVE, NEW, SHARED, SOLO, SOLO_PW, SVC, TWO, oc  # noqa: F401

SWITCHES = [dict(enable_drop_mode=drop, same_password_drops=same, save_runs_test=test,
                 client_selection=selection)
            for drop, same, test, selection in itertools.product(
                ("on_save", "on_edit", "never"), (True, False), (True, False),
                ("query_param", "switch_call"))]


def label(switches):
    return "-".join(str(v) for v in switches.values())


@pytest.mark.parametrize("switches", SWITCHES, ids=label)
def test_new_entity_is_configured_connected_then_left_alone(oc, switches):
    oc.seed(switches)
    first = oc.connect(NEW, branch=None)
    assert first["changed"] and first["password_pushed"] and not first.get("failed"), first
    conn = first["connection"]
    assert (conn["client_id"], conn["login"], conn["tenant"], conn["enabled"], conn["has_password"]) == \
        (NEW, "OcerraAPI", "Company", True, True)
    assert conn["status"]["code"] == "Connected" and "password" not in conn
    assert first["diff"]["after"]["password"] == "(changed)"
    dropped = switches["enable_drop_mode"] == "on_save"
    assert len(oc.puts()) == (2 if dropped else 1)
    assert len(oc.tests()) == (0 if switches["save_runs_test"] else 1)
    assert oc.erp_counts()["failed_signins"] == 0

    oc.clear_log()
    second = oc.connect(NEW, branch=None)
    assert not second["changed"] and not second["password_pushed"] and second["diff"]["after"] == {}
    assert oc.log() == [("GET", "/api/Acumatica/Settings", NEW)]   # under switch_call, NEW is current


@pytest.mark.parametrize("switches", SWITCHES, ids=label)
def test_password_pushed_to_three_entities_sharing_one_login(oc, switches):
    oc.seed(switches)
    oc.erp_user(password=NEW_PW)     # the ERP password changed (by the ERP module, elsewhere)
    for client_id in SHARED:
        result = oc.connect(client_id, password=NEW_PW, push_password=True)
        assert result["changed"] and result["password_pushed"], result
        assert result["connection"]["status"]["code"] == "Connected"
        assert result["connection"]["enabled"] is True
        assert result["diff"] == {"before": {"password": "(stored)"}, "after": {"password": "(changed)"}}
    assert oc.erp_counts()["failed_signins"] == 0
    pushed = [e["clientId"] for e in oc.sandbox.ocerra.audit() if "password" in e["fields"]]
    assert pushed == list(SHARED)


@pytest.mark.parametrize("switches", SWITCHES, ids=label)
def test_wrong_password_fails_clearly_after_exactly_one_failed_sign_in(oc, switches):
    oc.seed(switches)
    result = oc.connect(LIVE, password="Wrong-But-Valid-Pw-42x", push_password=True, status_retry=3)
    assert result["failed"] and result["changed"] and result["password_pushed"]
    assert "InvalidCredentials" in result["msg"] and "restore_connection" in result["msg"]
    assert result["connection"]["status"]["code"] == "InvalidCredentials"
    assert oc.erp_counts()["failed_signins"] == 1
    assert len(oc.tests()) == (0 if switches["save_runs_test"] else 1)


def test_check_mode_sends_no_write_and_predicts_the_real_diff(oc):
    predicted = oc.connect(NEW, check=True)
    assert oc.writes() == [] and oc.sandbox.ocerra.counters(NEW).get("writes", 0) == 0
    assert predicted["changed"] and predicted["password_pushed"]
    assert predicted["connection"]["status"]["code"] == "NotConfigured"
    real = oc.connect(NEW)
    assert predicted["diff"] == real["diff"]


def test_check_mode_under_switch_call_only_reads_and_switches(oc):
    oc.switch(client_selection="switch_call")
    result = oc.connect(TWO, password=NEW_PW, push_password=True, check=True)
    assert result["changed"] and {m for m, _, _ in oc.log()} <= {"GET", "POST"}
    assert oc.puts() == [] and oc.tests() == [] and oc.sandbox.ocerra.audit() == []


def test_taking_entities_offline_and_back(oc):
    off = oc.run(**oc.args(client_id=LIVE, enabled=False))
    assert off["changed"] and off["diff"] == {"before": {"enabled": True}, "after": {"enabled": False}}
    assert off["connection"]["status"]["code"] == "Disabled"
    oc.clear_log()
    assert not oc.run(**oc.args(client_id=LIVE, enabled=False))["changed"] and oc.writes() == []
    oc.sandbox.ocerra.sync()
    assert oc.erp_counts()["signins"] == 2          # only TEST and TWO signed in
    back = oc.connect(LIVE)
    assert back["changed"] and not back["password_pushed"]
    assert back["connection"]["status"]["code"] == "Connected"


def test_entity_locked_out_by_the_sync_is_reported_locked_then_recovers(oc):
    oc.erp_user(password=NEW_PW)           # the ERP changed; Ocerra still holds the old one
    oc.sandbox.ocerra.sync()               # three entities sign in with it: the lock-out threshold
    assert oc.erp_locked()
    failed_before = oc.erp_counts()["failed_signins"]
    locked = oc.connect(LIVE, password=NEW_PW, push_password=True)
    assert locked["failed"] and locked["connection"]["status"]["code"] == "AccountLocked"
    assert "unlock it first" in locked["msg"] and "erp_user" in locked["msg"]
    assert oc.erp_counts()["failed_signins"] == failed_before + 1      # the one test
    oc.erp_user(locked=False)
    oc.clear_log()
    again = oc.connect(LIVE, password=NEW_PW)      # nothing to write: one test, then Connected
    assert not again["changed"] and again["connection"]["status"]["code"] == "Connected"
    assert len(oc.tests()) == 1


def test_unreachable_erp_is_retested_a_bounded_number_of_times(oc):
    result = oc.connect(LIVE, erp_url="http://127.0.0.1:9/acme", status_retry=2)
    assert result["failed"] and "check erp_url" in result["msg"]
    assert len(oc.tests()) == 2


def test_connected_entity_costs_one_request_by_id_and_three_by_name(oc):
    assert not oc.connect(LIVE)["changed"]
    assert oc.log() == [("GET", "/api/Acumatica/Settings", LIVE)]
    oc.clear_log()
    by_name = oc.run(**oc.connect_args(None, client_name="acme live"))
    assert not by_name["changed"] and by_name["connection"]["client_name"] == "Acme Live"
    assert len(oc.log()) == 3 and oc.writes() == []


def test_unknown_name_forbidden_client_and_bad_credentials(oc):
    missing = oc.run(**oc.args(client_name="Nope"))
    assert missing["failed"] and "no client named 'Nope'" in missing["msg"]
    forbidden = oc.run(**oc.args(client_id=BETA, enabled=False))
    assert forbidden["failed"] and "accountant role" in forbidden["msg"]
    oc.clear_log()
    rejected = oc.run(**oc.args(client_id=LIVE, ocerra_password="Wrong-Svc-Pw-1"))
    assert rejected["failed"] and "ocerra_username and ocerra_password" in rejected["msg"]
    assert len(oc.log()) == 1
    assert next(u for u in oc.sandbox.ocerra.state()["users"] if u["login"] == SVC)["accessFailedCount"] == 1


def test_one_user_per_client(oc):
    oc.switch(client_selection="one_user_per_client")
    mine = oc.connect(TWO, ocerra_username=SOLO, ocerra_password=SOLO_PW, password=NEW_PW,
                      push_password=True)
    assert mine["failed"] and mine["connection"]["status"]["code"] == "InvalidCredentials"
    oc.erp_user(locked=False, password=NEW_PW)
    assert oc.connect(TWO, ocerra_username=SOLO, ocerra_password=SOLO_PW, password=NEW_PW)[
        "connection"]["status"]["code"] == "Connected"
    oc.clear_log()
    other = oc.connect(LIVE, ocerra_username=SOLO, ocerra_password=SOLO_PW)
    assert other["failed"] and "its own service user" in other["msg"]
    assert [m for m, _, _ in oc.log()] == ["GET", "POST"]          # the read, the refused switch


def test_no_password_anywhere_when_ocerra_holds_none(oc):
    result = oc.run(**oc.args(client_id=NEW, erp_url=f"{oc.sandbox.acumatica_url}/acme", login="OcerraAPI"))
    assert result["failed"] and "give password" in result["msg"] and oc.writes() == []
    assert API_PW not in str(result)
