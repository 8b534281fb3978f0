"""The API user's password store: the password the toolkit writes before either system is
touched, and reads back on every run.

A site's stored passwords are `current` (what the ERP and every entity hold once a change
has finished), `pending` (the next one: written, durably, before the change starts, and
reused until the change finishes) and `previous` (kept for one rotation, for a rollback),
with a `version` that every write checks (compare-and-set), so two writers never both win.

A store is a plugin (docs/secret-store.md): a module `password_stores/<name>.py` in a
collection's `plugin_utils`, named in the inventory by its fully qualified name
(`api_user_password_store: ocerra.acumatica.hashi_vault`; `vault_file` is short for
`ocerra.acumatica.vault_file`), whose class `PasswordStore` implements `Store`. A shared store
(one every controller reads) also keeps the site's lease (lease.py): one change at a time
across machines, and the change in flight for the next run on any machine; and the failed
sign-ins of the site's admin (sign_ins.py), so no machine locks it out.
"""
import importlib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_schema import SiteError, display_path

FIELDS = ("current", "pending", "previous")
# A shared store's records beside the site's passwords, JSON documents without secrets: the
# lease on the site's change (lease.py) and the failed sign-ins of the site's admin (sign_ins.py).
LEASE, SIGN_INS = "lease", "sign-ins"
BUILT_IN = "ocerra.acumatica"
SHORT_NAMES = {"vault_file": f"{BUILT_IN}.vault_file"}


class StoreError(ToolkitError):
    kind = "password_store"


class Conflict(StoreError):
    """Another writer changed the stored passwords (or the lease) since they were read."""


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
    """The contract every backend implements (docs/secret-store.md).

    `OPTIONS`: the argument spec of `api_user_password_store_options`; the class is built as
    PasswordStore(host, options, inventory_dir, vault_id). `where`: the store's name in
    messages (never a secret). A shared backend also implements read_record/write_record."""

    OPTIONS = {}
    shared = False
    where = "the site's password store"
    path = None         # the store's file, for a store kept in the inventory

    def check(self):
        """Offline: what a run needs at hand (the library, credentials, the vault id); StoreError."""

    def read(self):
        """The stored Passwords (version 0, all None, when nothing is stored yet); StoreError when
        something is stored but cannot be read, or the backend cannot be reached."""
        raise NotImplementedError

    def write(self, passwords, expected_version, over_damaged=False):
        """Store `passwords` if the stored version is still `expected_version` (else Conflict),
        durably, then read them back; the stored Passwords, with a new version. `over_damaged`:
        a stored value that cannot be read is replaced (the write-back of what it held)."""
        raise NotImplementedError

    def read_record(self, name):
        """(the document or None, its version) of a shared store's record `name`, kept beside the
        passwords: RECORDS."""
        raise NotImplementedError

    def write_record(self, name, document, expected_version):
        """Compare-and-set of the record `name`; its new version (Conflict when it moved)."""
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


def plugin_name(name):
    """The fully qualified name of the store `name` of the inventory (None: the inventory)."""
    name = str(name or "inventory")
    return None if name == "inventory" else SHORT_NAMES.get(name, name)


def store_class(name):
    """The PasswordStore class of the plugin `name` (namespace.collection.store); StoreError
    naming what is missing."""
    full = plugin_name(name)
    parts = full.split(".")
    if len(parts) != 3:
        raise StoreError(f"api_user_password_store '{name}' is not a store's fully qualified name "
                         "(namespace.collection.name, or vault_file)")
    module = f"ansible_collections.{parts[0]}.{parts[1]}.plugins.plugin_utils.password_stores.{parts[2]}"
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if not module.startswith(str(exc.name)):   # the plugin is there; a library it imports is not
            raise
        raise StoreError(f"no password store plugin '{full}': expected plugins/plugin_utils/password_stores/"
                         f"{parts[2]}.py in the collection {parts[0]}.{parts[1]} (is it installed?)") from None
    store = getattr(found, "PasswordStore", None)
    if not (isinstance(store, type) and issubclass(store, Store)):
        raise StoreError(f"{module} defines no PasswordStore (a subclass of store.Store)")
    return store


def open_store(name, host, options=None, inventory_dir=None, vault_id=None, **extra):
    """The site's store (None when the password is kept in the inventory): its options
    validated against the plugin's spec; StoreError naming the option that is wrong."""
    if plugin_name(name) is None:
        return None
    store = store_class(name)
    result = ArgumentSpecValidator(store.OPTIONS).validate(dict(options or {}))
    if result.error_messages:
        raise StoreError(f"api_user_password_store_options of {plugin_name(name)}: "
                         + "; ".join(result.error_messages))
    return store(host, result.validated_parameters, inventory_dir, vault_id, **extra)


def store_problem(host, variables, secrets, decrypt=True):
    """(where the store is, its file or None, why it cannot serve the site) of a site whose
    password is kept in a store, checked before any run touches the site; None when it can, or
    the site has none. `variables`: the host's (raw) variables; `secrets`: the vault secrets at
    hand (None: this run's); without `decrypt` only what needs no decryption or network (the
    plugin, its options, the library and credentials at hand, the file and its header)."""
    name = variables.get("api_user_password_store")
    if plugin_name(name) is None:
        return None
    try:
        store = open_store(name, host, variables.get("api_user_password_store_options"),
                           variables.get("inventory_dir") or ".", variables.get("api_user_password_vault_id"),
                           secrets=secrets)
    except StoreError as exc:
        return str(name), None, exc.message
    try:
        store.check()
        if decrypt:
            store.read()
    except StoreError as exc:
        return store.where, store.path, exc.message
    return None


def store_errors(hosts, secrets, decrypt=True):
    """[SiteError] of the password stores of `hosts` ({host: raw variables}), sorted by host."""
    found = ((host, store_problem(host, variables, secrets, decrypt)) for host, variables in sorted(hosts.items()))
    return [SiteError(host, "/api_user_password_store", why, file=display_path(path) if path else None)
            for host, problem in found if problem for _where, path, why in [problem]]
