"""The 20-minute background sync and the ERP lock-out it can cause (model, stub ERP)."""
from test_ocerra_support import A, B, C, ERP_PW, NEW_PW, SVC, clock, erp, model  # noqa: F401


def codes(model):
    return {c["clientId"]: c["settings"]["status"]["code"] for c in model.state()["clients"]}


def test_sync_signs_in_once_per_enabled_client_and_stores_the_status(model, erp):
    results = model.sync()
    assert [r["clientId"] for r in results] == [A, B]
    assert [c["password"] for c in erp.calls] == [ERP_PW, ERP_PW]
    erp.forced = "tenant_not_found"
    model.sync()
    assert codes(model)[A] == codes(model)[B] == "TenantNotFound"
    assert codes(model)[C] == "Disabled"


def test_a_stale_password_locks_the_shared_erp_user_in_one_sync(model, erp):
    model.put_settings(SVC, C, {"enableConnection": True})   # three clients share the login
    erp.passwords["OcerraAPI"] = NEW_PW                       # changed in the ERP only
    model.sync()
    assert "OcerraAPI" in erp.locked
    assert {codes(model)[c] for c in (A, B, C)} == {"InvalidCredentials"}
    model.sync()
    assert {codes(model)[c] for c in (A, B, C)} == {"AccountLocked"}
    assert model.get_settings(SVC, A)["status"]["message"].startswith("Your account is locked")


def test_tick_runs_one_sync_per_20_minutes_bounded_and_keeps_the_phase(model, erp, clock):
    assert model.tick() == []
    clock.advance(19 * 60)
    assert model.tick() == []
    clock.advance(60)
    assert len(model.tick()) == 1
    clock.advance(65 * 60)
    assert len(model.tick()) == 3
    clock.advance(15 * 60)                   # 5 minutes were left over from the last jump
    assert len(model.tick()) == 1
    clock.advance(24 * 3600)
    assert len(model.tick()) == 3            # MAX_CATCH_UP, not 72
    assert model.tick() == []
    assert len(erp.calls) == 2 * 8 and model.counters(A)["syncs"] == 8


def test_a_manual_sync_restarts_the_20_minutes(model, clock):
    clock.advance(15 * 60)
    model.sync()
    clock.advance(15 * 60)
    assert model.tick() == []


def test_a_result_for_settings_changed_meanwhile_is_not_stored(model, erp):
    """The sign-in runs outside the lock; a save during it must win over its result."""
    erp.during_call = lambda: model.put_settings(SVC, A, {"enableConnection": False})
    assert model.test_connection(SVC, A)["status"]["code"] == "Connected"
    assert codes(model)[A] == "Disabled"
    erp.during_call = lambda: model.put_settings(SVC, B, {"enableConnection": False})
    model.sync()
    assert codes(model)[B] == "Disabled"
