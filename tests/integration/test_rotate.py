"""playbooks/rotate.yml (issue 12): a password generated to the policy, stored as pending before
either system is touched, applied in the safe order, verified, promoted; resumable after a
crash with the same pending password; scheduled by the password's age; two phases for a store
kept in git; the store never in plain text."""
import stat

import pytest
import yaml

from tests.integration.helpers import SITES, decrypt
from tests.integration.safe_change import Fakes, Killer, provisioned_seed
from tests.modules.erp_support import leaked_forms

pytestmark = pytest.mark.integration

STORE = """api_user_password_store: vault_file
api_user_password_vault_id: sandbox
"""


@pytest.fixture
def rotating(sandbox, site):
    """Every site provisioned with the inventory's password; acme keeps its password in a store
    (still empty: the inventory's password is its current one)."""
    sandbox.reset(seed=provisioned_seed(site, max_api_users=4, admin_sessions=3))
    site.old = site.variables("acme")["api_user_password"]
    site.append("acme", STORE)
    return site


def stored(site, host="acme"):
    path = site.inventory / ".api-user-passwords" / f"{host}.yml"
    if not path.exists():
        return None
    text = path.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;sandbox"), "the store is not vault-encrypted"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return yaml.safe_load(decrypt(text))


def assert_no_plain_password_on_disk(site, passwords):
    """No password of the store, in any encoding, in any file of the inventory or the state."""
    forms = {f for p in passwords if p for f in leaked_forms(p)}
    for folder in (site.inventory, site.state_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_text(errors="replace")
                assert not [f for f in forms if f in text], f"a password in plain text in {path}"


def rotate(site, *args, **kw):
    run = site.play("rotate.yml", *args, **kw)
    now = stored(site)
    if now:
        site.extra_secrets.update(p for p in (now["current"], now["pending"], now["previous"]) if p)
    return run


def test_a_rotation_reaches_the_erp_every_entity_and_the_store(rotating, sandbox):
    site, fakes = rotating, Fakes(sandbox)
    run = rotate(site, "-l", "acme", "-e", "rotate_force=true")
    assert run.rc == 0 and run.statuses() == {"acme": "changed"}, run
    entry = run.report["sites"]["acme"]
    assert entry["rotation"] == "finished" and "now the current one" in entry["reason"]
    store = stored(site)
    new = store["current"]
    assert store["pending"] is None and store["previous"] == site.old and new != site.old and len(new) == 24
    assert fakes.in_order("acme", new) and not fakes.erp_accepts("acme", site.old)
    assert_no_plain_password_on_disk(site, [new, site.old])
    # The other sites keep their password in the inventory: rotate.yml leaves them alone.
    assert all(fakes.in_order(h, site.variables(h)["api_user_password"]) for h in SITES if h != "acme")
    # Every run after it uses the store's password: nothing to change.
    assert site.provision().statuses() == dict.fromkeys(SITES, "ok")


def test_only_due_sites_are_rotated_and_the_report_shows_the_passwords_age(rotating, sandbox):
    site, fakes = rotating, Fakes(sandbox)
    site.append("acme", "api_user_password_max_age_days: 30\n")
    before = site.writes()
    early = rotate(site, "-l", "acme")
    assert early.statuses() == {"acme": "ok"}, early
    assert early.report["sites"]["acme"]["reason"].startswith("Not due. The password is 0 day(s) old")
    assert site.writes() == before and stored(site) is None
    sandbox.clock.advance(31 * 24 * 3600)
    due = rotate(site, "-l", "acme")
    assert due.statuses() == {"acme": "changed"} and stored(site)["previous"] == site.old
    assert fakes.in_order("acme", stored(site)["current"])
    again = rotate(site, "-l", "acme")                          # right after a finished one: not due
    assert again.statuses() == {"acme": "ok"} and "Not due" in again.report["sites"]["acme"]["reason"]
    report = site.play("report.yml", "-l", "acme")
    assert report.report["sites"]["acme"]["erp"]["password_age_days"] == 0


def test_two_phases_for_a_store_kept_in_git(rotating, sandbox):
    """--tags prepare stores the new password and touches neither system (the pipeline commits
    the store); --tags apply applies it. A pipeline that dies between them leaves the pending
    password, which the next run of provision.yml finishes too."""
    site, fakes = rotating, Fakes(sandbox)
    before = site.writes()
    prepared = rotate(site, "-l", "acme", "-e", "rotate_force=true", "--tags", "prepare")
    assert prepared.statuses() == {"acme": "changed"} and prepared.report["sites"]["acme"]["rotation"] == "pending"
    assert site.writes() == before and fakes.in_order("acme", site.old)
    pending = stored(site)["pending"]
    assert pending and stored(site)["current"] == site.old      # the inventory's, until it is applied
    again = rotate(site, "-l", "acme", "-e", "rotate_force=true", "--tags", "prepare")
    assert stored(site)["pending"] == pending, again            # kept, never replaced
    finished = site.provision("-l", "acme")                     # the pipeline died: provision finishes it
    assert finished.statuses() == {"acme": "changed"}, finished
    assert stored(site)["current"] == pending and fakes.in_order("acme", pending)
    applied = rotate(site, "-l", "acme", "--tags", "apply")
    assert applied.statuses() == {"acme": "ok"} and "nothing to apply" in applied.report["sites"]["acme"]["reason"]


def test_no_password_in_any_output_of_a_rotation(rotating, sandbox, tmp_path):
    site = rotating
    log = tmp_path / "ansible.log"
    for args in (["--check", "--diff"], ["--diff"]):
        run = rotate(site, "-l", "acme", "-e", "rotate_force=true", "-vvvv", *args, env={"ANSIBLE_LOG_PATH": str(log)})
        assert run.rc == 0, run
        text = log.read_text() + site.report_path.read_text()
        text += "".join(p.read_text() for p in site.state_dir.rglob("journal.json"))
        leaked = [f for s in site.secrets() for f in leaked_forms(s) if f in text]
        assert not leaked, "%d secret form(s) in the log, report or journal" % len(leaked)
    assert stored(site)["previous"] == site.old


def test_a_password_the_erps_policy_refuses_is_dropped_not_retried(rotating, sandbox, monkeypatch):
    site, fakes = rotating, Fakes(sandbox)
    tenant = sandbox.erp._tenant("acme", "Company")
    monkeypatch.setattr(tenant.security, "min_length", 40)      # stricter than the generator's 24
    run = rotate(site, "-l", "acme", "-e", "rotate_force=true")
    entry = run.report["sites"]["acme"]
    assert run.statuses() == {"acme": "failed"} and entry["rotation"] == "discarded", entry
    assert stored(site)["pending"] is None and fakes.in_order("acme", site.old)


# (name, model, method, match, when): where the rotation's apply dies.
def _off(login, client_id, body, on_target=None):
    return body == {"enableConnection": False}


def _reset(s, name, version, entity, action, body):
    return action == "ResetPasswordOK"


def _push(login, client_id, body, on_target=None):
    return "password" in body


POINTS = [
    ("stored, nothing touched yet", "ocerra", "put_settings", _off, "before"),
    ("entities off, ERP not yet written", "erp", "invoke", _reset, "before"),
    ("ERP written, no entity has it", "erp", "invoke", _reset, "after"),
    ("first entity given it", "ocerra", "put_settings", _push, "after"),
]


@pytest.mark.parametrize("point", POINTS, ids=[p[0] for p in POINTS])
def test_a_rotation_killed_anywhere_is_finished_with_the_same_password(rotating, sandbox, monkeypatch, point):
    site, fakes = rotating, Fakes(sandbox)
    name, model, method, match, when = point
    killer = Killer(monkeypatch)
    killer.arm(getattr(sandbox, model), method, match, when)
    killer.started = site.start("rotate.yml", "-l", "acme", "-e", "rotate_force=true")
    site.finish(killer.started, sessions_balanced=False)
    monkeypatch.undo()
    sandbox.clock.advance(11 * 60)                              # the killed run's session idles out
    assert killer.fired.is_set()
    pending = stored(site)["pending"]
    assert pending, "the pending password was lost"
    site.extra_secrets.add(pending)
    assert not fakes.locked("acme") and not fakes.enabled_with_other_password("acme")
    assert fakes.erp_accepts("acme", pending) or fakes.erp_accepts("acme", site.old)
    rerun = rotate(site, "-l", "acme")                          # not forced: it finishes what is pending
    assert rerun.statuses() == {"acme": "changed"}, rerun
    assert stored(site)["current"] == pending and stored(site)["pending"] is None
    assert fakes.in_order("acme", pending) and not fakes.locked("acme")
    assert_no_plain_password_on_disk(site, [pending, site.old])


def test_a_site_whose_prepare_fails_is_not_applied_and_keeps_that_failure(rotating, sandbox):
    site, fakes = rotating, Fakes(sandbox)
    run = rotate(site, "-l", "acme,bravo", "-e", "rotate_force=true")
    assert run.rc != 0 and run.statuses() == {"acme": "changed", "bravo": "failed"}, run
    assert "needs its password store" in run.report["sites"]["bravo"]["reason"]
    assert "bravo is failed: Rotating a site's password needs its password store" in run.stdout
    apply_task = run.stdout.split("TASK [Apply each site's pending password", 1)[1].split("TASK [", 1)[0]
    assert "[acme]" in apply_task and "[bravo]" not in apply_task
    assert run.report["status"] == "finished" and run.recap("bravo")["failed"] == 1
    assert fakes.in_order("bravo", site.variables("bravo")["api_user_password"])
