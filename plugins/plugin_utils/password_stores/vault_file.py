"""The embedded store, `vault_file`: one Ansible Vault-encrypted YAML file per site inside the
inventory, `<inventory>/.api-user-passwords/<host>.yml` (a hidden folder, which Ansible's
inventory loader skips), encrypted with the vault id the inventory names
(`api_user_password_vault_id`), mode 0600, replaced atomically. It is never written in plain
text. Not shared: one change at a time is this machine's site lock and the ERP's check.
"""
import fcntl
import os
from datetime import datetime, timezone

import yaml
from ansible import constants as C
from ansible import context
from ansible.cli import CLI
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_atomic
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import (
    FIELDS, Conflict, Passwords, Store, StoreError)

try:  # ansible-core 2.19+: the run's own vault secrets, also those typed at a prompt
    from ansible.parsing.vault import VaultSecretsContext
except ImportError:  # older: from the vault ids and password files of the command and config
    VaultSecretsContext = None

FOLDER = ".api-user-passwords"


def vault_secrets():
    """The vault secrets of this run: [(vault id, VaultSecret)]."""
    if VaultSecretsContext is not None:
        current = VaultSecretsContext.current(optional=True)
        if current is not None:
            return list(current.secrets)
    ids = list(context.CLIARGS.get("vault_ids") or []) + list(C.DEFAULT_VAULT_IDENTITY_LIST or [])
    files = list(context.CLIARGS.get("vault_password_files") or [])
    if C.DEFAULT_VAULT_PASSWORD_FILE:
        files.append(C.DEFAULT_VAULT_PASSWORD_FILE)
    return CLI.setup_vault_secrets(DataLoader(), ids, files, ask_vault_pass=False, auto_prompt=False,
                                   initialize_context=False)


class PasswordStore(Store):
    def __init__(self, host, options, inventory_dir, vault_id, secrets=None):
        if not vault_id:
            raise StoreError("api_user_password_store vault_file needs api_user_password_vault_id: the vault id "
                             "the site's password store is encrypted with")
        self.path = self.where = os.path.join(str(inventory_dir or "."), FOLDER, f"{host}.yml")
        self.vault_id = str(vault_id)
        self._secrets = secrets

    def check(self):
        self.read(decrypt=False)
        self.run_secrets()

    def run_secrets(self):
        """This run's vault secrets, among them the store's vault id's; StoreError without it."""
        secrets = self._secrets if self._secrets is not None else vault_secrets()
        if not any(vid == self.vault_id for vid, _secret in secrets):
            raise StoreError(f"{self.path} cannot be read: the vault id '{self.vault_id}' "
                             "(api_user_password_vault_id) is not among this run's vault secrets; give it "
                             "(--vault-id ID@FILE, vault_identity_list in ansible.cfg, or in AWX the vault "
                             "credential with that id)", missing_vault_id=self.vault_id)
        return secrets

    @property
    def _vault(self):
        secrets = self.run_secrets()
        return VaultLib(secrets), dict(secrets)[self.vault_id]

    def read(self, decrypt=True):
        """The stored Passwords; StoreError saying why when the file is there but cannot be used
        (empty, not vault-encrypted, another vault id, a secret that does not open it, damaged).
        `decrypt=False` checks only what needs no vault secret, and returns None for a file."""
        try:
            with open(self.path, "rb") as handle:
                ciphertext = handle.read()
        except FileNotFoundError:
            return Passwords()
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be read: {exc.strerror}") from None
        header = ciphertext.lstrip().split(b"\n", 1)[0].decode("ascii", "replace").split(";")
        if not ciphertext.strip():
            raise StoreError(f"{self.path} cannot be read: it is empty (truncated?)")
        if header[0] != "$ANSIBLE_VAULT":
            raise StoreError(f"{self.path} cannot be read: it is not an Ansible Vault file (plain text, or damaged?)")
        if len(header) > 3 and header[3] != self.vault_id:
            raise StoreError(f"{self.path} cannot be read: it is encrypted with the vault id '{header[3]}', not "
                             f"'{self.vault_id}' (api_user_password_vault_id)")
        if not decrypt:
            return None
        vault, _secret = self._vault
        try:
            data = yaml.safe_load(vault.decrypt(ciphertext))
        except Exception:  # noqa: BLE001 - a vault or YAML error names no secret; its text is not needed
            raise StoreError(f"{self.path} cannot be read: the secret of the vault id '{self.vault_id}' does not "
                             "open it (another vault password, or the file is damaged)") from None
        if not isinstance(data, dict) or not set(data) & set(FIELDS):
            raise StoreError(f"{self.path} cannot be read: it opens, but holds no password store (damaged?)")
        return Passwords(*(data.get(k) for k in FIELDS), int(data.get("version") or 0), data.get("updated"))

    def write(self, passwords, expected_version, over_damaged=False):
        try:
            return self._write(passwords, expected_version, over_damaged)
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be written: {exc.strerror or type(exc).__name__}") from None

    def _write(self, passwords, expected_version, over_damaged):
        vault, secret = self._vault
        folder = os.path.dirname(self.path)
        # Two runs may create the folder at once: neither may fail for it.
        os.makedirs(folder, mode=0o700, exist_ok=True)
        try:
            with open(os.path.join(folder, ".gitignore"), "x", encoding="utf-8") as ignore:
                ignore.write("# the store's lock and half-written files; the *.yml are vault-encrypted\n*.lock\n.store-*\n")
        except FileExistsError:
            pass
        lock = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stored = self.read()
            except StoreError:
                if not over_damaged:
                    raise
                stored = Passwords(version=expected_version)     # what cannot be read is replaced
            if stored.version != expected_version:
                raise Conflict(f"{self.path} changed since it was read (version {stored.version}, expected "
                               f"{expected_version}): another run is rotating this site's password")
            passwords.version = expected_version + 1
            passwords.updated = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            text = yaml.safe_dump(passwords.as_dict(), default_flow_style=False)
            write_atomic(self.path, vault.encrypt(text, secret, vault_id=self.vault_id), durable=True,
                         prefix=".store-")
        finally:
            os.close(lock)
        written = self.read()
        if written.version != passwords.version or written.pending != passwords.pending:
            raise StoreError(f"{self.path} does not read back what was written")
        return written
