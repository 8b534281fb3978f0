"""The password store (plugin_utils/store.py): the embedded Ansible Vault file per site,
compare-and-set, never plain text, pending kept until promoted."""
import stat
import threading

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import (
    Conflict, Passwords, StoreError, VaultFileStore)

SECRETS = [("partner", VaultSecret(b"a-vault-password-for-the-test"))]
CURRENT, NEW = "Current-Pw#4tQ8vLx2bN", "Pending-Pw#9kWz2Nb7vR"


@pytest.fixture
def store(tmp_path):
    return VaultFileStore(tmp_path, "acme", "partner", secrets=SECRETS)


def test_an_empty_store_reads_as_nothing(store):
    stored = store.read()
    assert (stored.current, stored.pending, stored.previous, stored.version) == (None, None, None, 0)


def test_stage_and_promote_keep_one_rotation_of_history(store, tmp_path):
    staged = store.stage(NEW, current=CURRENT)
    assert (staged.current, staged.pending, staged.version) == (CURRENT, NEW, 1)
    assert store.stage("Another-Pw#1aB2cD3eF4").pending == NEW          # a pending one is kept
    promoted = store.promote(NEW)
    assert (promoted.current, promoted.pending, promoted.previous) == (NEW, None, CURRENT)
    raw = (tmp_path / ".api-user-passwords" / "acme.yml").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.2;AES256;partner")
    assert CURRENT.encode() not in raw and NEW.encode() not in raw
    assert stat.S_IMODE((tmp_path / ".api-user-passwords" / "acme.yml").stat().st_mode) == 0o600
    assert b"current: " + NEW.encode() in VaultLib(SECRETS).decrypt(raw)
    assert "*.lock" in (tmp_path / ".api-user-passwords" / ".gitignore").read_text()


def test_a_write_from_a_stale_read_is_refused(store):
    store.stage(NEW, current=CURRENT)
    with pytest.raises(Conflict):
        store.write(Passwords(CURRENT, "Third-Pw#7rTq2Lm9xY"), expected_version=0)
    with pytest.raises(Conflict):
        store.promote("Not-The-Pending-Pw#1")


def test_two_writers_at_once_never_both_win(store):
    """The first write to a new store creates its folder: writers racing there must not fail either."""
    outcomes = []
    start = threading.Barrier(4)

    def writer(password):
        start.wait()
        try:
            outcomes.append(store.write(Passwords(CURRENT, password), expected_version=0).pending)
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 - counted, so the assertion shows it
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=writer, args=(f"Writer-{i}-Pw#7rTq2Lm",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("conflict") == 3 and store.read().version == 1


def test_a_missing_vault_secret_or_a_foreign_file_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="vault id 'other'"):
        VaultFileStore(tmp_path, "acme", "other", secrets=SECRETS).write(Passwords(CURRENT), 0)
    folder = tmp_path / ".api-user-passwords"
    folder.mkdir()
    (folder / "acme.yml").write_text("current: plain\n")
    with pytest.raises(StoreError, match="must be an Ansible Vault file"):
        VaultFileStore(tmp_path, "acme", "partner", secrets=SECRETS).read()
