"""The API user's password store: the password the toolkit writes before either system is
touched, and reads back on every run.

A site's stored passwords are `current` (what the ERP and every entity hold once a change
has finished), `pending` (the next one: written, durably, before the change starts, and
reused until the change finishes) and `previous` (kept for one rotation, for a rollback),
with a `version` that every write checks and increments (compare-and-set), so two writers
never both win.

One small interface, `Store`: `read()` and `write(passwords, expected_version)`. Everything
else (`stage`, `promote`) is built on those two, so another backend needs only them (for
HashiCorp Vault KV v2: read the secret's data and metadata version; write with
`options.cas = expected_version`); see docs/secret-store.md.

The embedded backend, `VaultFileStore`, is one Ansible Vault-encrypted YAML file per site
inside the inventory, `<inventory>/.api-user-passwords/<host>.yml` (a hidden folder, which
Ansible's inventory loader skips), encrypted with the vault id the inventory names
(`api_user_password_vault_id`), mode 0600, replaced atomically. It is never written in
plain text.
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

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_atomic
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_schema import SiteError, display_path

try:  # ansible-core 2.19+: the run's own vault secrets, also those typed at a prompt
    from ansible.parsing.vault import VaultSecretsContext
except ImportError:  # older: from the vault ids and password files of the command and config
    VaultSecretsContext = None

FOLDER = ".api-user-passwords"
FIELDS = ("current", "pending", "previous")


class StoreError(ToolkitError):
    kind = "password_store"


class Conflict(StoreError):
    """Another writer changed the stored passwords since they were read."""


class Passwords:
    """current, pending, previous (each a password or None), version, updated."""

    def __init__(self, current=None, pending=None, previous=None, version=0, updated=None):
        self.current, self.pending, self.previous = current, pending, previous
        self.version, self.updated = version, updated

    def as_dict(self):
        slots = (("current", self.current), ("pending", self.pending), ("previous", self.previous))
        text = {k: None if v is None else str(v) for k, v in slots}
        return {**text, "version": self.version, "updated": self.updated}


class Store:
    """The interface every backend implements."""

    def read(self):
        """The stored Passwords (version 0, all None, when nothing is stored yet); StoreError when
        something is stored but cannot be read."""
        raise NotImplementedError

    def write(self, passwords, expected_version, over_damaged=False):
        """Store `passwords` if the stored version is still `expected_version` (else Conflict),
        durably, then read them back; the stored Passwords. `over_damaged`: a stored value that
        cannot be read is replaced (the write-back of what it held)."""
        raise NotImplementedError

    def stage(self, password, current=None):
        """Make `password` the pending one, unless one is already pending: that one is kept
        (a change in progress is finished, never restarted with another password). `current`:
        the password the site has now, for a store still empty (the inventory's). The stored
        Passwords."""
        stored = self.read()
        if stored.pending:
            return stored
        return self.write(Passwords(stored.current or current, password, stored.previous), stored.version)

    def promote(self, pending):
        """After a finished change to `pending`: previous <- current, current <- pending."""
        stored = self.read()
        if stored.pending != pending:
            raise Conflict("the pending password changed while this run applied it")
        return self.write(Passwords(pending, None, stored.current), stored.version)


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


class VaultFileStore(Store):
    def __init__(self, inventory_dir, host, vault_id, secrets=None):
        self.path = os.path.join(str(inventory_dir), FOLDER, f"{host}.yml")
        self.vault_id = vault_id
        self._secrets = secrets

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


def store_problem(host, variables, secrets, decrypt=True):
    """(store path, why it cannot serve the site) of a site whose password is kept in its store,
    checked offline before any run touches the site; None when it can, or the site has no store.
    `variables`: the host's (raw) variables; `secrets`: the vault secrets at hand (None: this
    run's); without
    `decrypt` only what needs no decryption (the file, its header, the vault id at hand)."""
    if str(variables.get("api_user_password_store") or "") != "vault_file" or not variables.get("api_user_password_vault_id"):
        return None
    store = VaultFileStore(variables.get("inventory_dir") or ".", host, str(variables["api_user_password_vault_id"]),
                           secrets=secrets)
    try:
        stored = store.read(decrypt=decrypt)
        if not decrypt and stored is None:
            store.run_secrets()
    except StoreError as exc:
        return store.path, exc.message
    empty = stored is not None and not (stored.current or stored.pending)
    if empty and "api_user_password" not in variables:
        return store.path, (f"{store.path} holds no password yet and api_user_password is not given: no run can "
                            "check the API user's password or connect an entity; give api_user_password (vaulted)")
    return None


def store_errors(hosts, secrets, decrypt=True):
    """[SiteError] of the password stores of `hosts` ({host: raw variables}), sorted by host."""
    found = ((host, store_problem(host, variables, secrets, decrypt)) for host, variables in sorted(hosts.items()))
    return [SiteError(host, "/api_user_password_store", why, file=display_path(path))
            for host, problem in found if problem for path, why in [problem]]
