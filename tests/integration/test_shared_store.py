"""A site whose passwords live in a shared store (HashiCorp Vault KV v2, AWS Secrets Manager),
as partners run the toolkit from AWX nodes and CI runners (issue 28): two controllers with
their own state folders never both change the site, a change killed on one is finished by the
other from the store and its lease, AWX-style jobs in throw-away folders keep their rotation,
and a store that is down or refuses fails the site before either system is touched."""
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import ansible_runner
import pytest
import yaml

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import open_store
from sandbox import aws as sandbox_aws
from sandbox import vault as sandbox_vault
from tests.integration.helpers import ANSIBLE_BIN, ENTITIES, ROOT, Site
from tests.integration.safe_change import Fakes, Killer, provisioned_seed

pytestmark = pytest.mark.integration


class Shared:
    """One shared store for the site acme: the inventory lines that select it, the environment
    that carries its credentials (never the inventory), and a reader for the test."""

    def __init__(self, name, options, env):
        self.name, self.options, self.env = name, options, env

    def inventory_text(self, **options):
        return yaml.safe_dump({"api_user_password_store": self.name,
                               "api_user_password_store_options": {**self.options, **options}})

    def select(self, site, host="acme", **options):
        site.append(host, self.inventory_text(**options))

    def read(self, host="acme"):
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return open_store(self.name, host, self.options).read()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(params=["hashi_vault", "aws_secrets_manager"])
def shared(request):
    prefix = f"ocerra-{uuid.uuid4().hex[:8]}"
    if request.param == "hashi_vault":
        _model, url = request.getfixturevalue("vault_server")
        return Shared("ocerra.acumatica.hashi_vault", {"url": url, "path": prefix + "/{host}"},
                      {"VAULT_TOKEN": sandbox_vault.DEFAULT_TOKEN})
    url = request.getfixturevalue("aws_server")
    return Shared("ocerra.acumatica.aws_secrets_manager", {"endpoint_url": url, "name": prefix + "/{host}"},
                  dict(sandbox_aws.CLIENT_ENV))


@pytest.fixture
def on_store(sandbox, site, shared):
    """Every site provisioned with the inventory's password; acme keeps its passwords in the
    shared store (still empty: the inventory's password is its current one)."""
    sandbox.reset(seed=provisioned_seed(site, max_api_users=4, admin_sessions=3))
    site.old = site.variables("acme")["api_user_password"]
    shared.select(site)
    return site


def controller(sandbox, site, shared, tmp_path, name):
    """Another controller: its own copy of the inventory and its own state folder."""
    other = Site(sandbox, tmp_path / name)
    shared.select(other)
    other.extra_secrets = site.extra_secrets
    return other


def learn(site, shared):
    """The store's passwords are secrets of the run's output too."""
    stored = shared.read()
    site.extra_secrets.update(p for p in (stored.current, stored.pending, stored.previous) if p)
    return stored


def rotate(site, shared, *args, **kw):
    return site.start("rotate.yml", "-l", "acme", "-e", "rotate_force=true", *args, env=shared.env, **kw)


@pytest.mark.parametrize("offset", [0.0, 1.0, 2.5])
def test_two_controllers_on_one_shared_store_never_both_change_the_site(on_store, sandbox, shared, tmp_path, offset):
    """Each request answers in 0.25 s, so a rotation takes seconds and the second controller
    starts while the first is changing the site. They share no lock and no journal, only the
    store: its compare-and-set keeps one pending password, its lease lets one change go."""
    site, fakes = on_store, Fakes(sandbox)
    for fake in (sandbox.erp, sandbox.ocerra):
        fake.faults.add("latency", seconds=0.25, count=None)
    other = controller(sandbox, site, shared, tmp_path, "runner-2")
    first = rotate(site, shared)
    time.sleep(offset)
    second = rotate(other, shared)
    runs = [site.finish(first, sessions_balanced=False, check_secrets=False),
            other.finish(second, sessions_balanced=False, check_secrets=False)]
    stored = learn(site, shared)
    for run in runs:
        site.assert_no_secret(run)
    statuses = [run.report["sites"]["acme"]["status"] for run in runs]
    assert statuses.count("changed") <= 1, [run.report["sites"]["acme"] for run in runs]
    for run in runs:
        entry = run.report["sites"]["acme"]
        assert entry["status"] == "changed" or "another run" in entry["reason"].lower(), entry
    assert not fakes.locked("acme") and not fakes.enabled_with_other_password("acme")
    for fake in (sandbox.erp, sandbox.ocerra):
        fake.faults.clear()
    settle = site.finish(site.start("provision.yml", "-l", "acme", env=shared.env))
    stored = learn(site, shared)
    assert settle.rc == 0 and settle.statuses()["acme"] in ("ok", "changed"), settle.report["sites"]["acme"]
    assert stored.pending is None and stored.current != site.old, "no rotation went through"
    assert fakes.in_order("acme", stored.current)


def test_a_change_killed_on_one_controller_is_finished_by_another_from_the_shared_store(
        on_store, sandbox, shared, tmp_path, monkeypatch):
    """Controller A is killed right after the ERP took the new password (the entities switched
    off, A's lease still held). B, with its own state folder, waits for A's lease to expire, reads
    the unfinished change A left in it and the pending password in the store, and finishes it."""
    site, fakes = on_store, Fakes(sandbox)
    killer = Killer(monkeypatch)
    killer.arm(sandbox.erp, "invoke", lambda s, name, version, entity, action, body: action == "ResetPasswordOK",
               "after")
    killer.started = rotate(site, shared, "-e", "toolkit_lease_seconds=4")
    site.finish(killer.started, sessions_balanced=False, check_secrets=False)
    monkeypatch.undo()
    assert killer.fired.is_set()
    stored = learn(site, shared)
    assert stored.pending and fakes.erp_accepts("acme", stored.pending)
    assert all(not fakes.entity(c).enableConnection for c in ENTITIES["acme"])
    sandbox.clock.advance(11 * 60)          # A's admin session idles out; its change is no longer "in flight"
    other = controller(sandbox, site, shared, tmp_path, "runner-b")
    finished = other.finish(rotate(other, shared), sessions_balanced=False)
    entry = finished.report["sites"]["acme"]
    assert finished.statuses() == {"acme": "changed"}, entry
    assert "left a password change unfinished" in entry["reason"], entry["reason"]
    now = learn(site, shared)
    assert (now.current, now.pending, now.previous) == (stored.pending, None, site.old)
    assert fakes.in_order("acme", now.current)


# ---- AWX: jobs in throw-away folders --------------------------------------------------------

def awx_job(site, shared, playbook, tmp_path, name, extravars=None):
    """A job as AWX runs it: ansible-runner in a fresh private data folder holding a copy of the
    project and of the inventory (both thrown away afterwards), the credential's environment."""
    private = tmp_path / name
    project = private / "project"
    project.mkdir(parents=True)
    for part in ("playbooks", "inventories"):
        shutil.copytree(ROOT / part, project / part)
    shutil.copy(ROOT / "ansible.cfg", project / "ansible.cfg")
    installed = project / "collections" / "ansible_collections" / "ocerra"
    installed.mkdir(parents=True)
    (installed / "acumatica").symlink_to(ROOT)      # the collection as the execution environment has it
    shutil.copytree(site.inventory, private / "inventory")
    runner = ansible_runner.run(
        private_data_dir=str(private), playbook=f"playbooks/{playbook}", inventory=str(private / "inventory"),
        limit="acme", envvars={**shared.env, "ANSIBLE_CONFIG": str(project / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                               "PATH": f"{ANSIBLE_BIN}{os.pathsep}{os.environ['PATH']}"},
        extravars={"toolkit_state_dir": str(private / "state"), **(extravars or {})}, quiet=True, timeout=600)
    output = runner.stdout.read()
    stats = next((e for e in runner.events if e["event"] == "playbook_on_stats"), None)
    assert stats, output[-3000:]
    shutil.rmtree(private)                  # AWX removes the job's folder
    return runner.rc, stats["event_data"].get("artifact_data") or {}, output


def test_awx_rotate_then_provision_in_fresh_job_folders_keep_the_rotated_password(on_store, sandbox, shared, tmp_path):
    site, fakes = on_store, Fakes(sandbox)
    rc, artifact, output = awx_job(site, shared, "rotate.yml", tmp_path, "job-1", {"rotate_force": True})
    stored = learn(site, shared)
    assert rc == 0 and artifact, output[-3000:]
    assert json.dumps(artifact).count('"changed"') >= 1 and stored.current != site.old
    rc, artifact, output = awx_job(site, shared, "provision.yml", tmp_path, "job-2")
    assert rc == 0, output[-3000:]
    assert "[progress] 1 of 1 site(s) done" in output        # the project's ansible.cfg enables it in AWX too
    assert not [f for f in site.forbidden_strings() if f in output]
    now = learn(site, shared)
    assert (now.current, now.pending) == (stored.current, None)
    assert fakes.in_order("acme", stored.current) and not fakes.erp_accepts("acme", site.old)
    assert not Path(tmp_path / "job-1").exists() and not Path(tmp_path / "job-2").exists()


# ---- a store that is down or refuses ---------------------------------------------------------

@pytest.mark.parametrize("how", ["vault sealed", "vault token refused", "vault down", "aws throttled", "aws down"])
def test_a_shared_store_down_or_refusing_fails_the_site_before_either_system_is_touched(
        sandbox, site, vault_server, aws_server, how):
    sandbox.reset(seed=provisioned_seed(site))
    model, url = vault_server
    closed = "http://127.0.0.1:9"           # the discard port: nothing listens on loopback
    if how.startswith("vault"):
        env = {"VAULT_TOKEN": "hvs.unknown" if how == "vault token refused" else sandbox_vault.DEFAULT_TOKEN}
        store = Shared("ocerra.acumatica.hashi_vault", {"url": closed if how == "vault down" else url}, env)
    else:
        store = Shared("ocerra.acumatica.aws_secrets_manager",
                       {"endpoint_url": closed if how == "aws down" else aws_server, "timeout": 2},
                       dict(sandbox_aws.CLIENT_ENV))
    store.select(site)
    erp_before, ocerra_before = len(site.erp_log()), len(site.ocerra_log())
    model.set_switches({"sealed": how == "vault sealed"})
    try:
        if how == "aws throttled":
            with sandbox_aws.throttled():
                run = site.finish(site.start("provision.yml", "-l", "acme", env=store.env))
        else:
            run = site.finish(site.start("provision.yml", "-l", "acme", env=store.env))
    finally:
        model.set_switches({"sealed": False})
    entry = run.report["sites"]["acme"]
    assert run.rc != 0 and entry["status"] == "failed", entry
    assert "nothing was sent to either service" in entry["reason"], entry["reason"]
    assert {"vault sealed": "sealed", "vault token refused": "permission denied", "vault down": "cannot be reached",
            "aws throttled": "throttled", "aws down": "cannot be read"}[how] in entry["reason"], entry["reason"]
    assert "hvs.unknown" not in run.out and sandbox_vault.DEFAULT_TOKEN not in run.out
    acme = [e for e in site.erp_log()[erp_before:] if "acme" in json.dumps(e)]
    assert acme == [] and site.writes()[1] == 0
    assert len(site.ocerra_log()) - ocerra_before <= 1      # at most the one listing of every entity


def test_a_wrong_admin_password_failed_on_one_controller_is_not_tried_on_another(on_store, sandbox, shared, tmp_path):
    """The admin's failed sign-ins live in the shared store: a plan on one machine with a wrong
    admin password fails once; the other machine (its own state folder) does not try it."""
    site = on_store
    other = controller(sandbox, site, shared, tmp_path, "runner-2")
    for runner in (site, other):
        runner.set_secret("acme", "erp_admin_password", "Wrong-Admin-Pw-Shared!4")
    first = site.finish(site.start("provision.yml", "--check", "-l", "acme", env=shared.env))
    second = other.finish(other.start("provision.yml", "--check", "-l", "acme", env=shared.env))
    assert first.statuses() == second.statuses() == {"acme": "failed"}, (first, second)
    assert "invalid credentials" in first.report["sites"]["acme"]["reason"]
    reason = second.report["sites"]["acme"]["reason"]
    assert "Not signing in as 'admin' on MYOB Acumatica" in reason and "refused 1 time(s)" in reason, reason
    assert sandbox.erp.counters()["acme/Company"]["failed_signins"] == 1
