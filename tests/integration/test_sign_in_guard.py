"""Accounts the toolkit signs in as with a password that may be wrong (the client's admin, the
Ocerra service user) are never locked by the toolkit, across runs and plans: failed sign-ins
are remembered in the state folder, a password that failed is not tried again within the
lock-out window, and the message names the account, the failures and when it is safe."""
from tests.integration.helpers import OCERRA_LOGIN

WRONG_ADMIN = "Wrong-Admin-Pw-Bravo!93x"
WRONG_OCERRA = "Wrong-Ocerra-Pw-Partner!77"


def admin(site, instance_tenant):
    instance, tenant = instance_tenant.split("/")
    for inst in site.sandbox.erp.state()["instances"]:
        for t in inst["tenants"] if inst["name"] == instance else ():
            if t["name"] == tenant:
                return next(u for u in t["users"] if u["username"] == "admin")
    raise AssertionError(instance_tenant)


def test_ten_plans_with_a_wrong_admin_password_never_lock_the_admin(site):
    right = site.variables("bravo")["erp_admin_password"]
    site.set_secret("bravo", "erp_admin_password", WRONG_ADMIN)
    reasons = []
    for _ in range(10):
        run = site.provision("--check", "--limit", "bravo")
        assert run.rc != 0 and run.statuses() == {"bravo": "failed"}, run
        reasons.append(run.report["sites"]["bravo"]["reason"])
    counters = site.sandbox.erp.counters()["bravo/BravoLive"]
    assert counters["failed_signins"] == 1          # the first plan's; nine were refused before sending
    user = admin(site, "bravo/BravoLive")
    assert not user["locked"] and user["failed_attempts"] == 1, user
    assert "invalid credentials" in reasons[0]
    for reason in reasons[1:]:
        assert "Not signing in as 'admin' on MYOB Acumatica" in reason, reason
        assert "this password was refused 1 time(s)" in reason and "Correct erp_admin_password" in reason
        assert "the same password is tried again after " in reason
    # The corrected password signs in at once, and the failures are forgotten.
    site.set_secret("bravo", "erp_admin_password", right)
    assert site.provision("--limit", "bravo").statuses() == {"bravo": "changed"}
    assert admin(site, "bravo/BravoLive")["failed_attempts"] == 0


def test_a_wrong_ocerra_password_is_refused_once_for_the_whole_fleet_and_not_again(site):
    site.set_secret(None, "ocerra_password", WRONG_OCERRA)
    first = site.provision("--check")
    assert first.rc != 0 and set(first.statuses().values()) == {"failed"}, first
    second = site.provision("--check")
    assert set(second.statuses().values()) == {"failed"}, second
    user = next(u for u in site.sandbox.ocerra.state()["users"] if u["login"] == OCERRA_LOGIN)
    assert user["accessFailedCount"] == 1 and user["lockoutEnd"] is None, user
    reasons = [e["reason"] for e in second.report["sites"].values()]
    assert all(f"Not signing in as '{OCERRA_LOGIN}' on Ocerra" in r for r in reasons), reasons
    assert all("Correct ocerra_password" in r and "once a sign-in as that user has worked" in r for r in reasons)
