"""playbooks/provision.yml, one story per test, through real ansible-playbook runs against the
sandbox (fake MYOB Acumatica + fake Ocerra) reset to the demo's seed.

Every run is also checked by tests/integration/helpers.py: no password of the inventory in
any form in its output, no traceback, and ERP sign-ins equal to sign-outs with no session open.
"""
import pytest

from tests.integration.helpers import (API_LOGIN, ENTITIES, RESET_ACTION, SETTINGS_PATH, SITES)

pytestmark = pytest.mark.integration

ROLES = ["AP Clerk", "AR Clerk", "CA Clerk", "DR Viewer", "FA Clerk", "GL Clerk", "TX Viewer"]
FULL_API = "Full User (Full API)"
NEW_PASSWORD = "Nw7-Rotated-Acme-Pw#42xQ"


def assert_provisioned(site):
    for host in SITES:
        user = site.api_user(host)
        assert user is not None, host
        assert user["roles"] == ROLES, host
        assert user["licence_types"] == [FULL_API], host
        assert user["password_never_expires"] is True and user["is_approved"] is True, host
        assert user["locked"] is False and user["force_change"] is False, host
    for client, settings in site.connections().items():
        assert settings["enableConnection"] is True, client
        assert settings["login"] == API_LOGIN and settings["hasPassword"] is True, client
        assert settings["status"]["code"] == "Connected", (client, settings["status"])
    assert len(site.connections()) == 6


def test_fresh_sites_are_provisioned(site):
    run = site.provision()
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "changed", "charlie": "changed"}
    assert_provisioned(site)
    acme = run.report["sites"]["acme"]
    assert acme["erp"]["password_updated"] is True and "created" in acme["erp"]["actions"]
    assert set(acme["entities"]) == set(ENTITIES["acme"])
    assert all(e["status"] == "Connected" and e["password_pushed"] for e in acme["entities"].values())
    assert run.report["check_mode"] is False and run.report["generated"].endswith("Z")
    # The summary printed before the play ends, one line per site.
    assert "acme    changed" in run.stdout and "3 site(s): 0 ok, 3 changed, 0 degraded, 0 failed" in run.stdout


def test_second_run_changes_nothing_and_sends_no_write(site):
    assert site.provision().rc == 0
    before = site.writes()
    run = site.provision()
    assert run.rc == 0, run
    assert site.writes() == before            # not one write request to either server
    assert run.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"}
    for host in SITES:
        assert run.recap(host)["changed"] == 0, run
    assert "API user OcerraAPI in sync; 3 of 3 entities Connected." in run.report["sites"]["acme"]["reason"]


def test_no_change_run_shows_the_flows_warnings_and_keeps_outcomes_out_of_results(site):
    """Each site's flow runs in its worker (no module process is packed); the ERP client's
    warning reaches the output, and each outcome goes to the run's report directory, not into
    the registered result."""
    assert site.provision().rc == 0
    before = site.writes()
    run = site.provision("-vvv", "-e", '{"erp_validate_certs": false}')
    assert run.rc == 0, run
    for host in SITES:
        assert "[WARNING]: TLS certificate verification is off for MYOB Acumatica at %s/%s." % (
            site.sandbox.acumatica_url, host) in run.out
    assert '"site": {' not in run.out and "AnsiballZ" not in run.out
    # Once per site in its own task's result; the run's summary (and its set_stats) come after.
    per_site = run.out.split("TASK [ocerra.acumatica.toolkit : Finish the run's report", 1)[0]
    assert per_site.count('"status": "ok"') == 3
    assert site.writes() == before
    assert run.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"}


def test_check_mode_on_fresh_sites_writes_nothing_and_shows_the_plan(site):
    run = site.provision("--check", "--diff")
    assert run.rc == 0, run
    assert site.writes() == (0, 0)
    assert all(site.api_user(host) is None for host in SITES)     # nothing created
    assert all(not s["hasPassword"] for s in site.connections().values())
    assert run.report["check_mode"] is True
    assert run.statuses() == {"acme": "changed", "bravo": "changed", "charlie": "changed"}
    assert run.report["sites"]["acme"]["reason"].startswith("Plan (check mode, nothing written)")
    # --diff shows what each site would get: the user with its roles, then each entity.
    assert '+    "login": "OcerraAPI",' in run.stdout
    assert '+        "Full User (Full API)"' in run.stdout and '+        "AP Clerk",' in run.stdout
    assert '+    "password": "(changed)"' in run.stdout
    assert run.stdout.count('-    "enabled": false,') == 6      # six entities switched on


def test_check_mode_after_an_inventory_change_plans_it_and_writes_nothing(site):
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    site.append("charlie", "api_user_first_name: Ocerra-Charlie\n")
    before = site.writes()
    run = site.provision("--check", "--diff")
    assert run.rc == 0, run
    assert site.writes() == before
    assert run.statuses() == {"acme": "changed", "bravo": "ok", "charlie": "changed"}
    # acme: the safe order is planned: every entity off, the password reset, pushed, on again.
    acme = run.report["sites"]["acme"]
    assert acme["erp"]["password_change_pending"] is True
    assert "Safe order" in acme["reason"] and "password would be pushed to 3 entities" in acme["reason"]
    assert '+    "first_name": "Ocerra-Charlie"' in run.stdout
    assert '+    "password": "(changed)"' in run.stdout
    assert '+    "enabled": false' in run.stdout                 # the switch-off step, planned
    # Nothing happened: the old password still connects every acme entity.
    assert all(s["status"]["code"] == "Connected" for s in site.connections("acme").values())
    assert site.api_user("charlie")["first_name"] == "Ocerra"


def test_password_change_reaches_every_entity_sharing_the_login_in_the_safe_order(site):
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    site.sandbox.erp.log.clear_entries()
    site.sandbox.ocerra.log.clear_entries()
    run = site.provision()
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "ok", "charlie": "ok"}
    acme = run.report["sites"]["acme"]
    assert acme["erp"]["password_updated"] is True and "password_reset" in acme["erp"]["actions"]
    assert all(e["status"] == "Connected" and e["password_pushed"] for e in acme["entities"].values())
    assert all_connected(site, "acme")

    resets = [e["time"] for e in site.erp_log() if e["method"] == "POST" and RESET_ACTION.search(e["path"])]
    assert len(resets) == 1
    puts = [e for e in site.ocerra_log() if e["method"] == "PUT" and e["path"] == SETTINGS_PATH]
    for client in ENTITIES["acme"]:
        mine = [e for e in puts if e["query"].get("clientId") == client]
        off = [e["time"] for e in mine if e["body"].get("enableConnection") is False and "password" not in e["body"]]
        pushed = [e["time"] for e in mine if e["body"].get("password") == "***"]
        on = [e["time"] for e in mine if e["body"].get("enableConnection") is True]
        assert off and pushed and on, mine
        # Switched off before the ERP reset, given the password and switched on after it.
        assert max(off) < resets[0] < min(pushed) <= max(on), (client, off, resets, pushed, on)
    # The other sites were not touched.
    assert not [e for e in puts if e["query"].get("clientId") not in ENTITIES["acme"]]
    # And the next run is a no-change run again.
    before = site.writes()
    again = site.provision()
    assert again.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"} and site.writes() == before


def test_ocerra_down_after_the_erp_reset_is_degraded_and_the_next_run_finishes_it(site, monkeypatch):
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    erp, ocerra = site.sandbox.erp, site.sandbox.ocerra
    invoke = erp.invoke

    def reset_then_ocerra_down(session, name, version, entity, action, body):
        done = invoke(session, name, version, entity, action, body)
        if action == "ResetPasswordOK":    # from now on every Ocerra settings save answers 503
            ocerra.faults.add("status", path=SETTINGS_PATH, method="PUT", count=None, status=503)
        return done

    monkeypatch.setattr(erp, "invoke", reset_then_ocerra_down)
    run, reason = acme_alone_ends(site, "degraded")
    assert reason.startswith("The ERP password of OcerraAPI changed, but 3 entities could not be updated")
    assert "HTTP 503" in reason and "A later run finishes it" in reason
    assert "acme is degraded" in run.out and run.recap("acme")["failed"] == 1
    assert run.recap("bravo")["failed"] == 0
    # The entities were switched off before the reset and stay off: no sync can lock the user.
    assert all(not s["enableConnection"] for s in site.connections("acme").values())

    monkeypatch.setattr(erp, "invoke", invoke)
    ocerra.faults.clear()
    later = site.provision()
    assert later.rc == 0, later
    assert later.statuses() == {"acme": "changed", "bravo": "ok", "charlie": "ok"}
    assert later.report["sites"]["acme"]["erp"]["password_updated"] is False   # the ERP was in sync
    assert all_connected(site, "acme")
    assert site.provision().statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"}


def test_a_refused_password_reset_switches_the_entities_back_on(site, monkeypatch):
    """The ERP refuses the reset (its own policy is stricter): the entities switched off for
    it are switched back on with the password that still works, and the site is failed with
    nothing left half-done."""
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    erp = site.sandbox.erp
    tenant = erp._tenant("acme", "Company")
    monkeypatch.setattr(tenant.security, "min_length", 40)   # stricter than the 2023.1.3 policy
    _run, reason = acme_alone_ends(site, "failed")
    assert reason.startswith("The ERP refused to reset the password of OcerraAPI")
    assert "Nothing was left half-done: the ERP password was not changed by this run and no entity is switched " \
           "off." in reason and "The 3 entities switched off were switched back on" in reason
    assert all_connected(site, "acme")


def test_licence_unavailable_fails_that_site_only(sandbox, site, seed_copy):
    seed_copy["acumatica"]["instances"][1]["tenants"][0]["licence_types"][0]["available"] = 1   # bravo: the admin holds the only seat
    sandbox.reset(seed=seed_copy)
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "failed", "charlie": "changed"}
    reason = run.report["sites"]["bravo"]["reason"]
    assert reason.startswith("The ERP step failed:") and "Full User (Full API)" in reason
    assert "Nothing was left half-done" in reason
    assert site.api_user("bravo") is None
    assert not any(s["hasPassword"] for s in site.connections("bravo").values())


def test_roles_drift_is_put_back_without_touching_the_password(site):
    assert site.provision().rc == 0
    site.patch_api_user("acme", roles=["AP Clerk", "AR Clerk"])
    run = site.provision("--diff")
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "ok", "charlie": "ok"}
    acme = run.report["sites"]["acme"]
    assert acme["erp"]["password_updated"] is False
    assert not any(e["changed"] for e in acme["entities"].values())
    assert site.api_user("acme")["roles"] == ROLES
    assert '+        "GL Clerk",' in run.stdout


def test_ocerra_down_before_a_password_change_fails_the_site_and_changes_nothing(sandbox, site):
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    sandbox.ocerra.faults.add("status", path=SETTINGS_PATH, method="PUT", count=None, status=503)
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": "failed", "bravo": "ok", "charlie": "ok"}
    reason = run.report["sites"]["acme"]["reason"]
    assert reason.startswith("Switching the entities off before the password change failed:")
    assert "Nothing was left half-done: the ERP password was not changed by this run and no entity is switched " \
           "off." in reason
    assert not [e for e in site.erp_log() if RESET_ACTION.search(e["path"])]
    assert all_connected(site, "acme")
    sandbox.ocerra.faults.clear()
    assert site.provision().statuses() == {"acme": "changed", "bravo": "ok", "charlie": "ok"}


def test_an_admin_refused_by_the_erp_fails_that_site_once_without_retrying(site):
    from tests.integration.helpers import vault_block
    wrong = "Wrong-Admin-Pw-Bravo!93x"
    site.extra_secrets.add(wrong)
    path = site.vars_file("bravo")
    text = path.read_text()
    start = text.index("erp_admin_password: !vault |")
    end = text.index("\n#", start) + 1
    path.write_text(text[:start] + vault_block("erp_admin_password", wrong) + text[end:])
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "failed", "charlie": "changed"}
    reason = run.report["sites"]["bravo"]["reason"]
    assert reason.startswith("The ERP step failed: Signing in to MYOB Acumatica") and "invalid credentials" in reason
    assert site.sandbox.erp.counters()["bravo/BravoLive"]["failed_signins"] == 1      # never retried
    assert not any(s["hasPassword"] for s in site.connections("bravo").values())


def test_an_entity_read_failing_fails_the_site_without_a_write_and_says_which(sandbox, site):
    assert site.provision().rc == 0
    before = site.writes()
    sandbox.ocerra.faults.add("status", path=SETTINGS_PATH, method="GET", count=None, status=403)
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": "failed", "bravo": "failed", "charlie": "failed"}
    reason = run.report["sites"]["bravo"]["reason"]
    assert reason.startswith("Reading the Ocerra entities failed: %s: " % ENTITIES["bravo"][0]), reason
    # It could not read the entity, so it does not claim what state it is in.
    assert "half-done" not in reason and "is not known" in reason
    assert site.writes() == before
    sandbox.ocerra.faults.clear()
    assert site.provision().statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"}


def all_connected(site, host):
    """Every entity of the site enabled and Connected, as the fake Ocerra holds them."""
    return all(s["status"]["code"] == "Connected" and s["enableConnection"] for s in site.connections(host).values())


def acme_alone_ends(site, status):
    """A provision in which acme alone ends `status` and the other sites are ok: (run, acme's reason)."""
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": status, "bravo": "ok", "charlie": "ok"}
    return run, run.report["sites"]["acme"]["reason"]
