"""The embedded password store (password_stores/vault_file.py): the Ansible Vault file per site,
compare-and-set, never plain text, pending kept until promoted."""
import re
import stat
import threading

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.password_stores.vault_file import PasswordStore
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import Conflict, Passwords, StoreError

SECRETS = [("partner", VaultSecret(b"a-vault-password-for-the-test"))]
CURRENT, NEW = "Current-Pw#4tQ8vLx2bN", "Pending-Pw#9kWz2Nb7vR"


@pytest.fixture
def store(tmp_path):
    return PasswordStore("acme", {}, tmp_path, "partner", secrets=SECRETS)


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


OTHER = [("partner", VaultSecret(b"not-the-partner-vault-password"))]


def damaged(store, how):
    """The store file as a mishap leaves it (it held CURRENT)."""
    path = store.path
    raw = open(path, "rb").read()
    if how == "truncated":
        open(path, "wb").write(raw[:len(raw) // 2])
    elif how == "empty":
        open(path, "wb").write(b"")
    elif how == "plaintext":
        open(path, "w").write("current: %s\n" % CURRENT)
    elif how == "corrupt":
        open(path, "wb").write(raw[:-40] + b"00" * 20)
    elif how == "other_vault_id":
        open(path, "wb").write(VaultLib([("someone", SECRETS[0][1])]).encrypt("current: x\n", SECRETS[0][1],
                                                                              vault_id="someone"))
    elif how == "not_a_store":
        open(path, "wb").write(VaultLib(SECRETS).encrypt("just text\n", SECRETS[0][1], vault_id="partner"))


@pytest.mark.parametrize("how, why", [
    ("truncated", "does not open it"), ("empty", "it is empty"), ("plaintext", "not an Ansible Vault file"),
    ("corrupt", "does not open it"), ("other_vault_id", "encrypted with the vault id 'someone'"),
    ("not_a_store", "holds no password store"), ("other_password", "does not open it"),
    ("missing_vault_id", "the vault id 'partner' (api_user_password_vault_id) is not among this run's vault secrets")])
def test_a_store_that_cannot_be_read_says_why_and_never_reads_as_empty(store, tmp_path, how, why):
    store.write(Passwords(CURRENT), 0)
    reader = store
    if how == "other_password":
        reader = PasswordStore("acme", {}, tmp_path, "partner", secrets=OTHER)
    elif how == "missing_vault_id":
        reader = PasswordStore("acme", {}, tmp_path, "partner", secrets=[])
    else:
        damaged(store, how)
    with pytest.raises(StoreError, match=re.escape(why)) as refused:
        reader.read()
    assert refused.value.message.startswith(store.path + " cannot be read: ") and CURRENT not in refused.value.message
    with pytest.raises(StoreError):                 # a write over it needs over_damaged
        reader.write(Passwords(CURRENT, NEW), 1)


def test_a_damaged_store_can_be_written_back_over(store):
    store.write(Passwords(CURRENT, NEW), 0)
    damaged(store, "truncated")
    written = store.write(Passwords(CURRENT, NEW), 1, over_damaged=True)
    assert (written.current, written.pending, written.version) == (CURRENT, NEW, 2) and store.read().pending == NEW
