"""playbooks/rotate.yml (issue 12): a password generated to the policy, stored as pending before
either system is touched, applied in the safe order, verified, promoted; resumable after a
crash with the same pending password; scheduled by the password's age; two phases for a store
kept in git; the store never in plain text."""
import shutil
import stat

import pytest
import yaml

from tests.integration.helpers import ENTITIES, SITES, decrypt
from tests.integration.safe_change import Fakes, provisioned_seed
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


def _last_off(login, client_id, body, on_target=None):
    return body == {"enableConnection": False} and str(client_id).lower() == ENTITIES["acme"][-1]


def _reset(s, name, version, entity, action, body):
    return action == "ResetPasswordOK"


def lose_store(site, how):
    path = site.inventory / ".api-user-passwords" / "acme.yml"
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "corrupted":
        raw = path.read_bytes()
        path.write_bytes(raw[:-40] + b"00" * 20)
    else:                          # the folder itself replaced by a file: nothing can be written back
        shutil.rmtree(path.parent)
        path.parent.write_text("not a folder\n")


def lose_store_at(monkeypatch, model, method, match, site, how):
    original, done = getattr(model, method), []

    def hooked(*args, **kwargs):
        if not done and match(*args, **kwargs):
            done.append(1)
            lose_store(site, how)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, method, hooked)
    return done


@pytest.mark.parametrize("moment", ["before the ERP is written", "after the ERP was written"])
@pytest.mark.parametrize("how", ["deleted", "truncated", "corrupted"])
def test_a_store_lost_mid_rotation_is_written_back_and_the_report_says_so(rotating, sandbox, monkeypatch, how,
                                                                         moment):
    """A workspace reset, a checkout or a damaged disk takes the store away while a rotation runs:
    the run reads it back before the ERP reset and after the fan-out, writes back what vanished
    (encrypted, as before), says so, and finishes; the password is never held only by the services."""
    site, fakes = rotating, Fakes(sandbox)
    if moment.startswith("before"):
        done = lose_store_at(monkeypatch, sandbox.ocerra, "put_settings", _last_off, site, how)
    else:
        done = lose_store_at(monkeypatch, sandbox.erp, "invoke", _reset, site, how)
    run = rotate(site, "-l", "acme", "-e", "rotate_force=true")
    assert done and run.rc == 0 and run.statuses() == {"acme": "changed"}, run
    entry = run.report["sites"]["acme"]
    assert "this run wrote back the passwords it holds" in entry["reason"]
    assert ("was gone" if how == "deleted" else "was unreadable") in entry["reason"]
    new = stored(site)["current"]
    assert new != site.old and stored(site)["pending"] is None and fakes.in_order("acme", new)
    assert_no_plain_password_on_disk(site, [new, site.old])


def test_a_store_that_cannot_be_written_back_fails_the_site_saying_where_the_password_is(rotating, sandbox,
                                                                                        monkeypatch):
    site, fakes = rotating, Fakes(sandbox)
    lose_store_at(monkeypatch, sandbox.erp, "invoke", _reset, site, "replaced by a file")
    run = rotate(site, "-l", "acme", "-e", "rotate_force=true")
    entry = run.report["sites"]["acme"]
    assert run.rc != 0 and entry["status"] == "failed", entry
    assert "is held only by the ERP and the entities" in entry["reason"]
    assert "restore_connection.yml with a new api_user_password" in entry["reason"]
    assert not fakes.locked("acme") and not fakes.enabled_with_other_password("acme")


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
