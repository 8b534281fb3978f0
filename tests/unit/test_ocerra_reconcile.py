"""Pure logic of one entity's connection: what to write, the predicted diff, status rules."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import (
    ConnectionFailed, ensure_connection, password_diff, plan, predict, public, same_values, status_is_stale)

CID = "11111111-1111-1111-1111-111111111111"
PW = "Erp-Canary-Pw-5d2e7a1c0b"


def status(code="Connected", checked="2025-07-01T00:00:00Z"):
    return {"code": code, "message": f"{code} text", "checked": checked}


def conn(**kw):
    base = {"client_id": CID, "client_name": "Acme Live", "erp_url": "https://Acme.example/",
            "tenant": "Company", "branch": "HQ", "login": "OcerraAPI", "has_password": True,
            "enabled": True, "status": status(), "updated": "2025-06-30T00:00:00Z"}
    return {**base, **kw}


def desired(**kw):
    return {"erp_url": None, "tenant": None, "branch": None, "login": None, "enabled": True, **kw}


def test_unset_options_are_unmanaged_and_equal_values_write_nothing():
    assert plan(conn(), desired()) == {}
    assert plan(conn(), desired(erp_url="https://acme.EXAMPLE", tenant="company", login="ocerraapi")) == {}


def test_only_differing_fields_are_written():
    assert plan(conn(), desired(tenant="Other", branch="HQ")) == {"tenant": "Other"}


def test_password_is_pushed_only_when_told_or_missing():
    assert plan(conn(), desired(), password=PW) == {}
    assert plan(conn(), desired(), password=PW, push_password=True) == {"password": PW, "enabled": True}
    assert plan(conn(has_password=False), desired(), password=PW) == {"password": PW, "enabled": True}


def test_a_credential_change_carries_enable_and_switching_off_is_explicit():
    assert plan(conn(), desired(login="NewApi")) == {"login": "NewApi", "enabled": True}
    assert plan(conn(), desired(enabled=False)) == {"enabled": False}
    assert plan(conn(enabled=False), desired()) == {"enabled": True}
    assert plan(conn(), desired(enabled=False), password=PW, push_password=True) == \
        {"password": PW, "enabled": False}


def test_prediction_and_diff_show_the_password_only_as_a_placeholder():
    before = conn(has_password=False, enabled=False)
    changes = plan(before, desired(login="NewApi"), password=PW)
    after = predict(before, changes)
    assert after["login"] == "NewApi" and after["has_password"] and after["enabled"]
    diff = password_diff(before, after, pushed=True)
    assert diff == {"before": {"enabled": False, "login": "OcerraAPI", "password": None},
                    "after": {"enabled": True, "login": "NewApi", "password": "(changed)"}}
    assert PW not in repr(diff) and PW not in repr(after)
    assert password_diff(conn(), conn(), pushed=True) == {"before": {"password": "(stored)"},
                                                          "after": {"password": "(changed)"}}


def test_filters_compare_like_the_erp():
    assert same_values(conn(), {"erp_url": "HTTPS://acme.example", "login": "OCERRAAPI"})
    assert not same_values(conn(), {"tenant": "Other"})


@pytest.mark.parametrize("after,stale", [
    (conn(status=status("Disabled")), True),                                  # dropped, not tested
    (conn(status=status(checked=None)), True),
    (conn(status=status(), updated="2025-07-02T00:00:00Z"), True),             # saved after the test
    (conn(status=status(), updated="2025-07-01T00:00:00Z"), True),             # same (code, second)
    (conn(status=status("InvalidCredentials", "2025-07-01T00:00:00Z")), False),
    (conn(status=status("Connected", "2025-07-02T00:00:00Z"), updated="2025-07-02T00:00:00Z"), False),
])
def test_status_staleness_after_a_save(after, stale):
    assert status_is_stale(conn(), after) is stale


class Stub:
    """An adapter double: settings in memory, scripted connection-test statuses."""

    def __init__(self, current, tests=()):
        self.current, self.tests, self.calls = current, list(tests), []

    def get_settings(self, cid):
        self.calls.append("get")
        return dict(self.current)

    def put_settings(self, cid, changes):
        self.calls.append(("put", tuple(sorted(changes))))
        self.current = predict(self.current, changes)
        return dict(self.current)

    def ensure_enabled(self, cid):
        return self.put_settings(cid, {"enabled": True})

    def test_connection(self, cid):
        self.calls.append("test")
        return status(self.tests.pop(0), "2025-07-03T00:00:00Z")

    def scrub(self, text):
        return text


def run(stub, **kw):
    slept = []
    kw.setdefault("desired", desired())
    result = ensure_connection(stub, CID, kw.pop("desired"), sleep=slept.append, **kw)
    return result, slept


def test_retryable_statuses_are_retested_a_bounded_number_of_times():
    stub = Stub(conn(status=status("LicenseLimit")), ["LicenseLimit", "LicenseLimit", "LicenseLimit"])
    with pytest.raises(ConnectionFailed) as err:
        run(stub, status_retry=2, status_retry_delay=7)
    assert stub.calls == ["get", "test", "test", "test"]
    assert "free API session" in err.value.message and err.value.details["changed"] is False


def test_unreachable_then_connected_succeeds_after_one_delay():
    stub = Stub(conn(status=status("Unreachable")), ["Unreachable", "Connected"])
    result, slept = run(stub, status_retry_delay=7)
    assert slept == [7] and result["connection"]["status"]["code"] == "Connected"


@pytest.mark.parametrize("code,advice", [("InvalidCredentials", "restore_connection"),
                                         ("AccountLocked", "unlock it first"),
                                         ("PasswordChangeRequired", "restore_connection"),
                                         ("TenantNotFound", "check tenant")])
def test_definite_failures_are_tested_once_and_fail_with_advice(code, advice):
    stub = Stub(conn(status=status(code)), [code])
    with pytest.raises(ConnectionFailed) as err:
        run(stub, status_retry=5)
    assert stub.calls == ["get", "test"]
    assert code in err.value.message and advice in err.value.message
    assert err.value.details["connection"]["status"]["code"] == code


def test_a_failure_after_a_push_reports_what_was_written_and_reads_the_entity_back():
    stub = Stub(conn(), [])
    stub.put_settings = lambda cid, changes: (_ for _ in ()).throw(ToolkitError("down"))
    with pytest.raises(ToolkitError) as err:
        run(stub, password=PW, push_password=True)
    assert err.value.details == {"changed": True, "password_pushed": True, "connection": public(conn())}
    assert stub.calls == ["get", "get"]          # the settings read again: the save may have gone through


def test_no_password_stored_and_none_given_fails_before_any_write():
    stub = Stub(conn(has_password=False))
    with pytest.raises(ConnectionFailed) as err:
        run(stub, check_mode=True)
    assert "give password" in err.value.message and stub.calls == ["get"]


def test_check_mode_predicts_without_writing_or_testing():
    stub = Stub(conn(status=status("InvalidCredentials")))
    warned = []
    result, _ = run(stub, desired=desired(login="NewApi"), password=PW, push_password=True,
                    check_mode=True, warn=warned.append)
    assert stub.calls == ["get"] and result["changed"] and result["password_pushed"]
    assert result["diff"]["after"] == {"login": "NewApi", "password": "(changed)"}
    stub = Stub(conn(status=status("InvalidCredentials")))
    result, _ = run(stub, check_mode=True, warn=warned.append)
    assert not result["changed"] and "InvalidCredentials" in warned[0]
