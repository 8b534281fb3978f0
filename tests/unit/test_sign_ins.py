"""The failed sign-ins kept across runs (plugin_utils/sign_ins.py): what a run refuses, when it is
safe again, and that the record holds no secret."""
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import sign_ins
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import LockoutRisk

WRONG, OTHER, RIGHT = "Wrong-Admin-Password-1!", "Other-Admin-Password-2!", "Right-Admin-Password-3!"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def admin(tmp_path, clock, threshold=3):
    account = sign_ins.erp_admin(str(tmp_path), "https://erp.example/", "Company", "admin", threshold)
    account._now = clock
    return account


def sign_in(account, password, right=RIGHT):
    """One sign-in through the guard against a service that takes `right`; whether it worked."""
    with account.attempt(password) as attempt:
        if password == right:
            attempt.worked()
            return True
        attempt.refused()
        return False


def test_a_password_that_failed_is_not_tried_again_within_the_window(tmp_path):
    clock = Clock()
    account = admin(tmp_path, clock)
    assert sign_in(account, WRONG) is False
    with pytest.raises(LockoutRisk) as refused:
        sign_in(account, WRONG)
    message = refused.value.message
    assert "'admin' on MYOB Acumatica https://erp.example/ (tenant 'Company')" in message
    assert "refused 1 time(s) (2026-12-04T12:00:00Z)" in message and "after 2026-12-04T12:15:00Z" in message
    clock.now += timedelta(minutes=16)      # out of the window: it may be tried (and fail) once more
    assert sign_in(account, WRONG) is False


def test_at_threshold_minus_one_failures_no_password_is_tried_and_a_success_forgets(tmp_path):
    clock = Clock()
    account = admin(tmp_path, clock)
    assert sign_in(account, WRONG) is False
    clock.now += timedelta(minutes=1)
    assert sign_in(account, OTHER) is False
    with pytest.raises(LockoutRisk) as refused:
        sign_in(account, RIGHT)             # even the right one: the last attempt is a person's
    assert "2 failed sign-in(s)" in refused.value.message and "lock-out after 3" in refused.value.message
    assert "Safe after 2026-12-04T12:15:00Z" in refused.value.message
    clock.now += timedelta(minutes=15)
    assert sign_in(account, RIGHT) is True
    assert sign_in(admin(tmp_path, clock), WRONG) is False      # forgotten: one failure again, not three


def test_the_record_holds_fingerprints_not_passwords(tmp_path):
    account = admin(tmp_path, Clock())
    sign_in(account, WRONG)
    text = open(account.path, encoding="utf-8").read()
    assert WRONG not in text and "fingerprint" in text and "'admin'" in text


def test_concurrent_sign_ins_with_a_wrong_password_fail_once(tmp_path):
    failures = []

    def one(_):
        try:
            with sign_ins.ocerra_user(str(tmp_path), "https://api.ocerra.example", "svc").attempt(WRONG) as attempt:
                failures.append(1)
                attempt.refused()
        except LockoutRisk as exc:
            return exc.message
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        refusals = [m for m in pool.map(one, range(8)) if m]
    assert len(failures) == 1 and len(refusals) == 7
    assert all("Correct ocerra_password" in m and "once a sign-in as that user has worked" in m for m in refusals)
