"""The password store contract (plugin_utils/store.py, docs/secret-store.md) that every backend
must pass: the embedded Ansible Vault file, HashiCorp Vault KV v2 (the fake in sandbox/vault.py)
and AWS Secrets Manager (moto's server, made strict in sandbox/aws.py), each started here on
loopback. Conflicts, stale writes, concurrent writers, durability, a password never in an
error, a backend that is down or refuses, and the lease a shared backend keeps."""
import socket
import threading
import uuid
from datetime import timedelta

import pytest
from ansible.parsing.vault import VaultSecret

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import lease as lease_module
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.lease import Lease, LeaseBusy, LeaseLost
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.password_stores import aws_secrets_manager, hashi_vault
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import (
    Conflict, Passwords, StoreError, open_store, store_problem)
from sandbox import aws as sandbox_aws
from sandbox import vault as sandbox_vault

SECRETS = [("partner", VaultSecret(b"a-vault-password-for-the-test"))]
CURRENT, NEW, OTHER = "Current-Pw#4tQ8vLx2bN", "Pending-Pw#9kWz2Nb7vR", "Another-Pw#1aB2cD3eF4"
PASSWORDS = (CURRENT, NEW, OTHER)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Backend:
    """Stores of one backend on one site (each call: a new object, as a new run has); down():
    the same site with its backend down (a closed port; for the file, a path it cannot read)."""

    def __init__(self, name, host, folder, options, down_options):
        self.name, self.host, self.folder = name, host, folder
        self.options, self.down_options = options, down_options

    def variables(self, options):
        return {"api_user_password_store": self.name, "api_user_password_store_options": options,
                "api_user_password_vault_id": "partner", "inventory_dir": str(self.folder)}

    def __call__(self):
        return open_store(self.name, self.host, self.options, self.folder, "partner", secrets=SECRETS)

    def down(self, host=None):
        host = host or self.host
        if self.name == "vault_file":
            (self.folder / ".api-user-passwords" / f"{host}.yml").mkdir(parents=True)
        return open_store(self.name, host, self.down_options, self.folder, "partner", secrets=SECRETS)


@pytest.fixture(params=["vault_file", "hashi_vault", "aws_secrets_manager"])
def backend(request, tmp_path, monkeypatch):
    host = f"site-{uuid.uuid4().hex[:8]}"
    closed = f"http://127.0.0.1:{closed_port()}"
    if request.param == "vault_file":
        return Backend("vault_file", host, tmp_path, {}, {})
    if request.param == "hashi_vault":
        _model, url = request.getfixturevalue("vault_server")
        monkeypatch.setenv("VAULT_TOKEN", sandbox_vault.DEFAULT_TOKEN)
        return Backend("ocerra.acumatica.hashi_vault", host, tmp_path, {"url": url, "timeout": 3},
                       {"url": closed, "timeout": 3})
    url = request.getfixturevalue("aws_server")
    for key, value in sandbox_aws.CLIENT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return Backend("ocerra.acumatica.aws_secrets_manager", host, tmp_path, {"endpoint_url": url, "timeout": 3},
                   {"endpoint_url": closed, "timeout": 2})


def no_secret_in(text):
    assert not any(password in text for password in PASSWORDS), text
    assert sandbox_vault.DEFAULT_TOKEN not in text and "testing" not in text.replace("testing)", "")


# ---- the contract ----------------------------------------------------------------------------

def test_a_store_never_written_reads_as_empty(backend):
    stored = backend().read()
    assert (stored.current, stored.pending, stored.previous) == (None, None, None) and not stored.version


def test_what_is_written_is_read_by_a_new_object_with_a_new_version(backend):
    written = backend().write(Passwords(CURRENT), 0)
    again = backend().read()
    assert (again.current, again.pending, again.version) == (CURRENT, None, written.version) and written.version


def test_stage_keeps_a_pending_password_and_promote_keeps_one_rotation_of_history(backend):
    staged = backend().stage(NEW, current=CURRENT)
    assert (staged.current, staged.pending) == (CURRENT, NEW)
    assert backend().stage(OTHER).pending == NEW            # a change in progress is finished, not restarted
    promoted = backend().promote(NEW)
    assert (promoted.current, promoted.pending, promoted.previous) == (NEW, None, CURRENT)
    assert (backend().read().current, backend().read().pending) == (NEW, None)
    with pytest.raises(Conflict):
        backend().promote(OTHER)                            # not the pending one


def test_a_stale_write_is_a_conflict_and_changes_nothing(backend):
    first = backend().write(Passwords(CURRENT), 0)
    second = backend().write(Passwords(CURRENT, NEW), first.version)
    with pytest.raises(Conflict) as refused:
        backend().write(Passwords(CURRENT, OTHER), first.version)
    no_secret_in(refused.value.message)
    now = backend().read()
    assert (now.current, now.pending, now.version) == (CURRENT, NEW, second.version)


def at_once(target, arguments):
    """target(argument) on a thread each (they meet at a barrier of their own), all joined."""
    threads = [threading.Thread(target=target, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


@pytest.mark.parametrize("writers", [6])
def test_of_concurrent_writers_from_one_version_exactly_one_wins(backend, writers):
    base = backend().write(Passwords(CURRENT), 0)
    wanted = [f"Pending-{i}-Pw#9kWz2Nb7vR" for i in range(writers)]
    won, lost, failed, start = [], [], [], threading.Barrier(writers)

    def write(password):
        store = backend()
        start.wait()
        try:
            store.write(Passwords(CURRENT, password), base.version)
            won.append(password)
        except Conflict:
            lost.append(password)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            failed.append(exc)

    at_once(write, wanted)
    assert not failed and len(won) == 1 and len(lost) == writers - 1, (won, lost, failed)
    assert backend().read().pending == won[0]


def test_a_backend_that_is_down_fails_clearly_and_names_no_secret(backend):
    store = backend.down()
    with pytest.raises(StoreError) as refused:
        store.check()
        store.read()
    assert "cannot be read" in refused.value.message or "cannot be reached" in refused.value.message
    no_secret_in(refused.value.message)
    with pytest.raises(StoreError) as refused:
        store.write(Passwords(CURRENT, NEW), 0)
    no_secret_in(refused.value.message)


def test_store_problem_names_a_store_that_cannot_serve_its_site_before_any_run(backend):
    up = backend.variables(backend.options)
    assert store_problem(backend.host, up, SECRETS) is None      # empty: the site is taken over
    backend().write(Passwords(CURRENT), 0)
    assert store_problem(backend.host, up, SECRETS) is None
    backend.down("down-site")
    problem = store_problem("down-site", backend.variables(backend.down_options), SECRETS)
    assert problem is not None and "cannot be" in problem[2], problem
    no_secret_in(problem[2])


# ---- refusals particular to each shared backend ---------------------------------------------

def test_vault_sealed_or_refusing_the_token_fails_before_anything_is_read(vault_server, monkeypatch):
    model, url = vault_server
    monkeypatch.setenv("VAULT_TOKEN", sandbox_vault.DEFAULT_TOKEN)
    store = open_store("ocerra.acumatica.hashi_vault", "sealed-site", {"url": url})
    model.set_switches({"sealed": True})
    try:
        with pytest.raises(StoreError, match="Vault is sealed or down"):
            store.read()
    finally:
        model.set_switches({"sealed": False})
    monkeypatch.setenv("VAULT_TOKEN", "hvs.a-token-vault-does-not-know")
    with pytest.raises(StoreError, match="permission denied") as refused:
        open_store("ocerra.acumatica.hashi_vault", "sealed-site", {"url": url}).read()
    assert "hvs.a-token-vault-does-not-know" not in refused.value.message
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.delenv("ANSIBLE_HASHI_VAULT_TOKEN", raising=False)
    with pytest.raises(StoreError, match="no Vault token in the environment"):
        open_store("ocerra.acumatica.hashi_vault", "sealed-site", {"url": url}).check()


def test_vault_policy_without_write_is_refused_on_write(vault_server, monkeypatch):
    model, url = vault_server
    model.tokens["hvs.read-only"] = {"policy": {"paths": ["secret/"], "capabilities": ["read"]}}
    monkeypatch.setenv("VAULT_TOKEN", "hvs.read-only")
    store = open_store("ocerra.acumatica.hashi_vault", "read-only-site", {"url": url})
    assert store.read().version == 0
    with pytest.raises(StoreError, match="permission denied"):
        store.write(Passwords(CURRENT), 0)


def test_vault_never_logs_a_password(vault_server, monkeypatch):
    model, url = vault_server
    monkeypatch.setenv("VAULT_TOKEN", sandbox_vault.DEFAULT_TOKEN)
    open_store("ocerra.acumatica.hashi_vault", "logged-site", {"url": url}).stage(NEW, current=CURRENT)
    logged = repr(model.log.entries)
    assert "logged-site" in logged
    no_secret_in(logged)


def test_aws_throttling_fails_clearly_after_the_sdk_s_retries(aws_server, monkeypatch):
    for key, value in sandbox_aws.CLIENT_ENV.items():
        monkeypatch.setenv(key, value)
    store = open_store("ocerra.acumatica.aws_secrets_manager", "throttled-site", {"endpoint_url": aws_server})
    with sandbox_aws.throttled(), pytest.raises(StoreError, match="AWS throttled the requests") as refused:
        store.read()
    no_secret_in(refused.value.message)


def test_aws_keeps_its_own_labels_so_aws_tools_read_the_password_in_force(aws_server, monkeypatch):
    import boto3

    for key, value in sandbox_aws.CLIENT_ENV.items():
        monkeypatch.setenv(key, value)
    store = open_store("ocerra.acumatica.aws_secrets_manager", "labelled-site", {"endpoint_url": aws_server})
    store.stage(NEW, current=CURRENT)
    client = boto3.client("secretsmanager", endpoint_url=aws_server)
    read = client.get_secret_value(SecretId=store.secret, VersionStage="AWSCURRENT")["SecretString"]
    pending = client.get_secret_value(SecretId=store.secret, VersionStage="AWSPENDING")["SecretString"]
    assert (read, pending) == (CURRENT, NEW)
    store.promote(NEW)
    labels = client.describe_secret(SecretId=store.secret)["VersionIdsToStages"]
    by_label = {label: vid for vid, names in labels.items() for label in names}
    assert "AWSPENDING" not in by_label                       # finished, as AWS's own rotation leaves it
    assert client.get_secret_value(SecretId=store.secret, VersionStage="AWSPREVIOUS")["SecretString"] == CURRENT


def test_aws_without_credentials_or_region_says_so(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreError, match="no region"):
        open_store("ocerra.acumatica.aws_secrets_manager", "s", {}).check()
    with pytest.raises(StoreError, match="no AWS credentials at hand"):
        open_store("ocerra.acumatica.aws_secrets_manager", "s", {"region": "us-east-1"}).check()


@pytest.mark.parametrize("module, library", [(hashi_vault, "hvac"), (aws_secrets_manager, "boto3")])
def test_a_missing_client_library_is_ansible_s_missing_library_message(module, library, monkeypatch):
    monkeypatch.setattr(module, library, None)
    with pytest.raises(StoreError, match=rf"Failed to import the required Python library \({library}\)"):
        module.PasswordStore("s", {**{k: v.get("default") for k, v in module.PasswordStore.OPTIONS.items()},
                                   "url": "http://127.0.0.1:1", "region": "us-east-1"}, None, None).check()


@pytest.mark.parametrize("name, options, why", [
    ("ocerra.acumatica.no_such_store", {}, "no password store plugin 'ocerra.acumatica.no_such_store'"),
    ("keeper", {}, "is not a store's fully qualified name"),
    ("ocerra.acumatica.hashi_vault", {"adress": "x"}, "adress"),
    ("ocerra.acumatica.hashi_vault", {"timeout": "soon"}, "timeout"),
])
def test_a_store_that_cannot_be_opened_names_what_is_wrong(name, options, why):
    with pytest.raises(StoreError, match=why):
        open_store(name, "s", options)


# ---- the lease (shared backends) -------------------------------------------------------------

@pytest.fixture(params=["hashi_vault", "aws_secrets_manager"])
def shared(request, monkeypatch):
    host = f"lease-{uuid.uuid4().hex[:8]}"
    if request.param == "hashi_vault":
        _model, url = request.getfixturevalue("vault_server")
        monkeypatch.setenv("VAULT_TOKEN", sandbox_vault.DEFAULT_TOKEN)
        return lambda: open_store("ocerra.acumatica.hashi_vault", host, {"url": url})
    url = request.getfixturevalue("aws_server")
    for key, value in sandbox_aws.CLIENT_ENV.items():
        monkeypatch.setenv(key, value)
    return lambda: open_store("ocerra.acumatica.aws_secrets_manager", host, {"endpoint_url": url})


def holder(run):
    return {"run": run, "controller": f"node-{run}", "pid": 1, "started": "2026-12-04T00:00:00Z"}


def test_a_live_lease_stops_another_run_and_its_release_keeps_the_unfinished_change(shared):
    first, second = Lease(shared(), holder("a"), 60), Lease(shared(), holder("b"), 60)
    first.take(None)
    with pytest.raises(LeaseBusy) as busy:
        second.take(None, wait=0)
    assert busy.value.holder["controller"] == "node-a"
    change = {"run": "a", "step": "erp_password", "fingerprint": "f0"}
    first.renew(change)
    first.release(change)
    assert second.take(None) is None
    assert second.left == (change, None)            # b finishes a's change; a released its lease
    second.release(None)                            # b's run failed before a change of its own
    third = Lease(shared(), holder("c"), 60)
    third.take(None)
    assert third.left == (change, None)             # a's unfinished change is still there


def test_a_lease_whose_holder_stopped_renewing_expires_and_names_that_run(shared, monkeypatch):
    first, second = Lease(shared(), holder("a"), 30), Lease(shared(), holder("b"), 30)
    first.take({"run": "a", "step": "stage"})
    later = lease_module._now() + timedelta(seconds=31)
    monkeypatch.setattr(lease_module, "_now", lambda: later)
    second.take(None)
    change, gone = second.left
    assert change == {"run": "a", "step": "stage"} and gone["controller"] == "node-a"
    assert second.store.read_record("lease")[0]["change"] == {"run": "a", "step": "stage"}
    with pytest.raises(LeaseLost, match="lost the site's lease"):
        first.renew({"run": "a", "step": "erp_password"})


def test_a_waiting_run_takes_the_lease_once_it_is_released(shared):
    first, second = Lease(shared(), holder("a"), 60), Lease(shared(), holder("b"), 60)
    first.take(None)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        first.release(None)

    assert second.take(None, wait=10, sleep=sleep)["controller"] == "node-a"     # whom it waited for
    assert slept and second.version is not None


def test_two_runs_taking_a_free_lease_at_once_one_holds_it(shared):
    runs = [Lease(shared(), holder(str(i)), 60) for i in range(5)]
    held, busy, start = [], [], threading.Barrier(len(runs))

    def take(lease):
        start.wait()
        try:
            lease.take(None, wait=0)
            held.append(lease)
        except LeaseBusy:
            busy.append(lease)

    at_once(take, runs)
    assert len(held) == 1 and len(busy) == len(runs) - 1
