"""playbooks/restore_connection.yml: the cases Ocerra's help names (the MYOB 2023.1.3 upgrade
reset the API user's password and forces a change, the account is locked out, Enable
Connection dropped), each repaired in the safe order and reported with what was wrong.
"""
import pytest
import requests

from tests.integration.helpers import ENTITIES, OCERRA_LOGIN, RESET_ACTION, SETTINGS_PATH

pytestmark = pytest.mark.integration

UPGRADE_PASSWORD = "Upg-2023.1.3-Reset!Zq81"     # what the upgrade set: unknown to everyone
LEGACY = "ac3e0000-0000-4000-8000-0000000000ff"   # an entity missing from the inventory


def connected(site, host):
    return all(s["status"]["code"] == "Connected" and s["enableConnection"] for s in site.connections(host).values())


def assert_safe_order(site, clients):
    """Every client switched off before the ERP reset, pushed the password and on after it."""
    resets = [e["time"] for e in site.erp_log() if e["method"] == "POST" and RESET_ACTION.search(e["path"])]
    assert len(resets) == 1, resets
    puts = [e for e in site.ocerra_log() if e["method"] == "PUT" and e["path"] == SETTINGS_PATH]
    for client in clients:
        mine = [e for e in puts if e["query"].get("clientId") == client]
        off = [e["time"] for e in mine if e["body"].get("enableConnection") is False]
        pushed = [e["time"] for e in mine if e["body"].get("password") == "***"]
        assert off and pushed and max(off) < resets[0] < min(pushed), (client, mine, resets)


def test_upgrade_reset_with_forced_change_is_restored(sandbox, site, seed_copy):
    # An entity the inventory forgot: it signs in to acme as OcerraAPI too.
    seed_copy["ocerra"]["users"][0]["clients"].append(LEGACY)
    seed_copy["ocerra"]["clients"].append({"id": LEGACY, "name": "Acme Legacy", "settings": {
        "baseUrl": "{acumatica}/acme", "tenant": "Company", "login": "OcerraAPI",
        "password": "Old-Legacy-Password-77x", "enableConnection": True}})
    site.extra_secrets.add("Old-Legacy-Password-77x")
    sandbox.reset(seed=seed_copy)
    assert site.provision().rc == 0
    # The upgrade: a new password nobody knows, and a forced change at next sign-in. Then
    # Ocerra's 20-minute sync fails for every entity (and locks the user out: 4 failures).
    site.extra_secrets.add(UPGRADE_PASSWORD)
    site.patch_api_user("acme", password=UPGRADE_PASSWORD, force_change=True)
    sandbox.ocerra.sync()
    assert site.api_user("acme")["locked"] is True
    sandbox.erp.log.clear_entries()
    sandbox.ocerra.log.clear_entries()

    run = site.play("restore_connection.yml", "-l", "acme")
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed"}
    reason = run.report["sites"]["acme"]["reason"]
    assert reason.startswith("Found: the API user is locked out; the API user must change its password")
    assert "Acme Live: status" in reason and "Acme Legacy (%s) uses this site and login but is not in ocerra_entities" \
        % LEGACY in reason
    assert "Done: Safe order" in reason and "password pushed to 4 entities; 4 of 4 entities Connected" in reason
    user = site.api_user("acme")
    assert not user["locked"] and not user["force_change"] and user["password_never_expires"]
    assert connected(site, "acme")
    legacy = next(c for c in sandbox.ocerra.state()["clients"] if c["clientId"] == LEGACY)["settings"]
    assert legacy["status"]["code"] == "Connected"
    assert_safe_order(site, ENTITIES["acme"] + [LEGACY])
    assert "password_reset" in run.report["sites"]["acme"]["erp"]["actions"]
    assert "unlocked" in run.report["sites"]["acme"]["erp"]["actions"]
    # The inventory's password is back in force: provision has nothing left to do on acme.
    before = site.writes()
    again = site.provision("-l", "acme")
    assert again.statuses() == {"acme": "ok"} and site.writes() == before


def test_locked_account_is_restored_and_other_sites_are_left_alone(site):
    assert site.provision().rc == 0
    site.patch_api_user("bravo", locked=True)
    writes = site.sandbox.erp.counters()["acme/Company"]["writes"]
    run = site.play("restore_connection.yml", "-l", "bravo")
    assert run.rc == 0, run
    assert run.statuses() == {"bravo": "changed"}
    assert run.report["sites"]["bravo"]["reason"].startswith("Found: the API user is locked out.")
    assert site.api_user("bravo")["locked"] is False
    assert connected(site, "bravo")
    assert site.sandbox.erp.counters()["acme/Company"]["writes"] == writes


def test_enable_connection_dropped_is_restored(sandbox, site):
    assert site.provision().rc == 0
    # Someone edited Acme Test's settings in Ocerra: Enable Connection dropped.
    answer = requests.put(f"{sandbox.ocerra_url}{SETTINGS_PATH}", params={"clientId": ENTITIES["acme"][1]},
                          json={"enableConnection": False}, auth=(OCERRA_LOGIN, "NMg7j#0oxJ48%rsrrhU1A9"),
                          timeout=10)
    assert answer.status_code == 200, answer.text
    run = site.play("restore_connection.yml", "-l", "acme")
    assert run.rc == 0, run
    assert run.report["sites"]["acme"]["reason"].startswith("Found: Acme Test: Enable Connection is off.")
    assert connected(site, "acme")


def test_restore_in_check_mode_writes_nothing(site):
    assert site.provision().rc == 0
    site.patch_api_user("acme", locked=True, force_change=True)
    before = site.writes()
    run = site.play("restore_connection.yml", "-l", "acme", "--check", "--diff")
    assert run.rc == 0, run
    assert site.writes() == before
    reason = run.report["sites"]["acme"]["reason"]
    assert reason.startswith("Plan (check mode, nothing written): Found: the API user is locked out")
    assert '+    "locked": false' in run.stdout and '+    "password": "(changed)"' in run.stdout
    assert site.api_user("acme")["locked"] is True


def test_a_change_after_this_machine_s_restore_is_not_taken_for_another_machine_s(sandbox, site):
    """A restore finished here a minute ago; then the inventory gets a new password while an entity
    is switched off by hand. The ERP's recent change is this machine's restore (its journal says
    so): the provision changes the password at once instead of waiting 15 minutes for "another run"."""
    assert site.provision().rc == 0
    assert site.play("restore_connection.yml", "-l", "acme").statuses() == {"acme": "changed"}
    sandbox.ocerra._clients[ENTITIES["acme"][0]].settings.enableConnection = False
    site.set_api_password("acme", "After-Restore-Pw#7kQ2x9")
    run = site.provision("-l", "acme")
    reason = run.report["sites"]["acme"]["reason"]
    assert run.statuses() == {"acme": "changed"} and "not by a run of this machine" not in reason, reason
    assert connected(site, "acme")
