"""The crash matrix (issues 11, 26, 27): a password change of acme (three entities sharing
OcerraAPI), by provision.yml (a new password in the inventory), by rotate.yml (a generated one in
the site's store) or by the take-over of provision.yml (a site whose store is empty and whose
inventory gives no password: a generated one, the ERP's reset as the admin), killed with SIGKILL, the whole process tree, at each step of the safe order; then
one run at once, or an Ocerra sync with whatever passwords the entities hold and then one run.

The admin may hold one ERP session (MYOB's default). The flow signs it out before it writes to
Ocerra, so a run killed anywhere but inside the ERP reset leaves none open and the run at once
finishes the change: 8 of the 10 points. Killed inside the reset, the run at once is refused by
the ERP until the killed run's session idles out; it says so, with the site's state and the
time, and the run after that time finishes.

Every case: at no point a lock-out, an entity enabled with a password the ERP refuses, or an ERP
password that neither the inventory nor the store holds (none lost); every report true (`ok` or
`changed` only when the ERP and every entity hold the password and are Connected, each entity as
the fakes hold it); the killed run's shared folder removed by the next run."""
import glob
import os
import tempfile

import pytest
import yaml

from tests.integration.helpers import ENTITIES, decrypt
from tests.integration.safe_change import Fakes, Killer, provisioned_seed

pytestmark = pytest.mark.integration

NEW = "Crash-Matrix-Pw#5tQ8vLx2"
STORE = "api_user_password_store: vault_file\napi_user_password_vault_id: sandbox\n"
E1, E2, E3 = ENTITIES["acme"]


def is_push(client):
    return lambda login, client_id, body, on_target=None: str(client_id).lower() == client and "password" in body


def is_off(client):
    return lambda login, client_id, body, on_target=None: (
        str(client_id).lower() == client and body == {"enableConnection": False})


def is_on(client):
    return lambda login, client_id, body, on_target=None: (
        str(client_id).lower() == client and body == {"enableConnection": True})


def is_reset(s, name, version, entity, action, body):
    return action == "ResetPasswordOK"


def is_verify(instance, body):
    return body.get("name") == "OcerraAPI" and body.get("password") not in (None, OLD[0])


OLD = [None]   # the inventory's password before the change, set by the fixture (is_verify reads it)

# (name, model, method, match, when, nth): the step of the safe order the run dies in.
POINTS = [
    ("before the first switch-off", "ocerra", "put_settings", is_off(E1), "before", 1),
    ("first entity switched off", "ocerra", "put_settings", is_off(E1), "after", 1),
    ("every entity switched off", "ocerra", "put_settings", is_off(E3), "after", 1),
    ("ERP reset sent, not done", "erp", "invoke", is_reset, "before", 1),
    ("ERP reset done, answer lost", "erp", "invoke", is_reset, "after", 1),
    ("verification sign-in", "erp", "sign_in", is_verify, "before", 2),    # the 1st: the check
    ("first entity given the password", "ocerra", "put_settings", is_push(E1), "after", 1),
    ("first entity switched on and tested", "ocerra", "put_settings", is_on(E1), "after", 1),
    ("second entity given the password", "ocerra", "put_settings", is_push(E2), "after", 1),
    ("third entity about to get it", "ocerra", "put_settings", is_push(E3), "before", 1),
]
# Killed inside the ERP step, the run leaves the admin's one session open.
SESSION_LEFT_OPEN = {"ERP reset sent, not done", "ERP reset done, answer lost"}


@pytest.fixture
def provisioned(sandbox, site):
    sandbox.reset(seed=provisioned_seed(site, max_api_users=4, admin_sessions=1))
    site.old = OLD[0] = site.variables("acme")["api_user_password"]
    site.extra_secrets.update({NEW, site.old})
    return site


def stored(site):
    path = site.inventory / ".api-user-passwords" / "acme.yml"
    return yaml.safe_load(decrypt(path.read_text())) if path.exists() else {}


def start(site, playbook, forced=True):
    if playbook == "take-over":
        return site.start("provision.yml", "-l", "acme")
    if playbook == "rotate":
        return site.start("rotate.yml", "-l", "acme", *(["-e", "rotate_force=true"] if forced else []))
    return site.start("provision.yml", "-l", "acme")


def check_invariants(site, fakes, new):
    assert not fakes.locked("acme"), "the API user was locked out"
    assert fakes.erp_accepts("acme", new) or fakes.erp_accepts("acme", site.old), "the ERP password was lost"
    assert not fakes.enabled_with_other_password("acme"), "an entity is enabled with a password the ERP refuses"


def assert_report_true(run, fakes, new):
    entry = run.report["sites"]["acme"]
    assert run.report["status"] == "finished"
    for client in ENTITIES["acme"]:
        held = fakes.entity(client)
        view = entry["entities"][client]
        if view["status"] is not None:
            assert (view["enabled"], view["status"]) == (held.enableConnection, held.status["code"]), (client, entry)
    assert (entry["status"] in ("ok", "changed")) == fakes.in_order("acme", new), entry


def run_folders(pid):
    return glob.glob(os.path.join(tempfile.gettempdir(), f"ocerra-acumatica-run-{os.getuid()}-{pid}-*"))


@pytest.mark.parametrize("then_sync", [False, True], ids=["rerun-at-once", "sync-then-rerun"])
@pytest.mark.parametrize("point", POINTS, ids=[p[0] for p in POINTS])
@pytest.mark.parametrize("playbook", ["provision", "rotate", "take-over"])
def test_a_change_killed_anywhere_is_finished(provisioned, sandbox, monkeypatch, playbook, point, then_sync):
    site, fakes = provisioned, Fakes(sandbox)
    name, model, method, match, when, nth = point
    if playbook == "take-over":
        site.drop_secret("acme", "api_user_password")
        site.append("acme", STORE)
        if name == "verification sign-in":
            nth = 1             # no check by signing in: nobody knew the password
    elif playbook == "rotate":
        site.append("acme", STORE)
    else:
        site.set_api_password("acme", NEW)
    killer = Killer(monkeypatch)
    killer.arm(getattr(sandbox, model), method, match, when, nth)
    killer.started = start(site, playbook)
    killed = site.finish(killer.started, sessions_balanced=False)
    assert killer.fired.is_set() and killed.rc < 0, killed          # really killed, at that step
    assert killed.report["status"] == "running"                      # not the previous run's "in order"
    new = NEW if playbook == "provision" else stored(site).get("pending")
    assert new, "the pending password was lost"
    site.extra_secrets.add(new)
    check_invariants(site, fakes, new)
    monkeypatch.undo()

    if then_sync:
        sandbox.clock.advance(20 * 60)    # the next 20-minute sync; the killed run's session idles out
        sandbox.ocerra.sync()
        check_invariants(site, fakes, new)
    rerun = site.finish(start(site, playbook, forced=False), sessions_balanced=False)
    check_invariants(site, fakes, new)
    assert_report_true(rerun, fakes, new)
    assert not run_folders(killer.started.proc.pid), "the killed run's folder was left behind"
    entry = rerun.report["sites"]["acme"]
    if name in SESSION_LEFT_OPEN and not then_sync:
        # Refused until the killed run's session idles out: it says what is half done and when.
        assert rerun.rc != 0 and entry["status"] == "degraded", entry
        assert "API Login Limit" in entry["reason"] and "never finished (killed?)" in entry["reason"], entry
        assert "left a password change unfinished" in entry["reason"] and "run again after" in entry["reason"]
        assert "switched off" in entry["reason"] and "half-done" not in entry["reason"]
        sandbox.clock.advance(11 * 60)
        rerun = site.finish(start(site, playbook, forced=False), sessions_balanced=False)
        check_invariants(site, fakes, new)
        assert_report_true(rerun, fakes, new)
        entry = rerun.report["sites"]["acme"]
    assert rerun.rc == 0 and entry["status"] == "changed", entry["reason"]
    assert fakes.in_order("acme", new), (name, entry)
    # The journal of this machine told the rerun what the killed run was doing.
    assert "left a password change unfinished" in entry["reason"]
    if playbook != "provision":
        assert stored(site)["current"] == new and stored(site)["pending"] is None
    sandbox.clock.advance(11 * 60)        # the ERP frees whatever the killed run left open
    again = site.finish(start(site, playbook, forced=False))
    assert again.statuses() == {"acme": "ok"}, again
