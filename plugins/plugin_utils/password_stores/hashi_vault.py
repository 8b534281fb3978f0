"""`ocerra.acumatica.hashi_vault`: the site's passwords in HashiCorp Vault's KV version 2 engine,
through hvac (the client community.hashi_vault uses), shared by every controller.

The secret `<mount>/data/<path>` holds `current`, `pending` and `previous` (AWX's "HashiCorp
Vault Secret Lookup", api_version v2, key `current`, reads the password in force); its
version is the store's version, and every write is a check-and-set (`options.cas`). The lease
is the secret `<path>.lease` beside it. The address comes from the options or `VAULT_ADDR`;
the token from `VAULT_TOKEN` or `ANSIBLE_HASHI_VAULT_TOKEN` (AWX: a credential that injects
it), never from the inventory.
"""
import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import (
    FIELDS, Conflict, Passwords, Store, StoreError)

try:
    import hvac
    import requests
    from hvac import exceptions as vault_errors
except ImportError:
    hvac = None

ADDRESS_VARIABLES = ("VAULT_ADDR", "ANSIBLE_HASHI_VAULT_ADDR")
TOKEN_VARIABLES = ("VAULT_TOKEN", "ANSIBLE_HASHI_VAULT_TOKEN")


class PasswordStore(Store):
    OPTIONS = {
        "url": {"type": "str"},
        "mount": {"type": "str", "default": "secret"},
        "path": {"type": "str", "default": "ocerra-acumatica/{host}"},
        "namespace": {"type": "str"},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": 10},
    }
    shared = True

    def __init__(self, host, options, inventory_dir, vault_id, secrets=None):
        self.url = options["url"] or next((os.environ[n] for n in ADDRESS_VARIABLES if os.environ.get(n)), None)
        self.mount, self.options = options["mount"], options
        self.secret = options["path"].replace("{host}", host)
        self.where = f"the Vault secret {self.mount}/{self.secret} at {self.url or '(no address)'}"
        self._client = None

    def check(self):
        if hvac is None:
            raise StoreError(missing_required_lib("hvac") + f" ({self.where})")
        if not self.url:
            raise StoreError(f"{self.where}: no Vault address (api_user_password_store_options.url, or VAULT_ADDR)")
        if not any(os.environ.get(name) for name in TOKEN_VARIABLES):
            raise StoreError(f"{self.where}: no Vault token in the environment (VAULT_TOKEN; in AWX, a credential "
                             "that injects it). The token is never read from the inventory.")

    @property
    def client(self):
        if self._client is None:
            self.check()
            token = next(os.environ[name] for name in TOKEN_VARIABLES if os.environ.get(name))
            verify = self.options["ca_path"] or self.options["validate_certs"]
            self._client = hvac.Client(url=self.url, token=token, namespace=self.options["namespace"],
                                       verify=verify, timeout=self.options["timeout"])
        return self._client

    def _call(self, what, call):
        """`call`'s answer; Vault's refusals as StoreErrors that say what to do (never a secret:
        Vault's error texts hold none, and ours name only the path)."""
        try:
            return call()
        except vault_errors.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise Conflict(f"{self.where} changed since it was read: another run is changing this "
                               "site's password") from None
            raise StoreError(f"{self.where} cannot be {what}: Vault refused the request ({exc})") from None
        except vault_errors.Forbidden:
            raise StoreError(f"{self.where} cannot be {what}: permission denied (the token is invalid or expired, "
                             "or its policy lacks read, create and update on this path)") from None
        except vault_errors.VaultDown:
            raise StoreError(f"{self.where} cannot be {what}: Vault is sealed or down (503); unseal it and run "
                             "again") from None
        except vault_errors.VaultError as exc:
            raise StoreError(f"{self.where} cannot be {what}: {type(exc).__name__} ({exc})") from None
        except requests.RequestException as exc:
            raise StoreError(f"{self.where} cannot be {what}: Vault cannot be reached ({type(exc).__name__})") from None

    def _read(self, path):
        """(data or None, version, when written); a deleted or destroyed latest version is a StoreError."""
        kv = self.client.secrets.kv.v2

        def read():
            try:
                return kv.read_secret_version(path=path, mount_point=self.mount, raise_on_deleted_version=True)
            except vault_errors.InvalidPath as exc:
                if exc.json is not None and exc.json.get("errors") == []:
                    return None                 # never written
                meta = ((exc.json or {}).get("data") or {}).get("metadata")
                if meta:
                    raise StoreError(f"{self.where} cannot be read: its latest version ({meta.get('version')}) "
                                     f"was {'destroyed' if meta.get('destroyed') else 'deleted'}") from None
                raise StoreError(f"{self.where} cannot be read: no such KV v2 mount '{self.mount}' ({exc})") from None

        answer = self._call("read", read)
        if answer is None:
            return None, 0, None
        meta = answer["data"]["metadata"]
        return answer["data"]["data"], int(meta["version"]), meta.get("created_time")

    def _write(self, path, data, expected_version):
        answer = self._call("written", lambda: self.client.secrets.kv.v2.create_or_update_secret(
            path=path, secret=data, cas=expected_version, mount_point=self.mount))
        return int(answer["data"]["version"])

    def read(self):
        data, version, written = self._read(self.secret)
        if data is None:
            return Passwords()
        if not isinstance(data, dict) or not set(data) & set(FIELDS):
            raise StoreError(f"{self.where} cannot be read: it holds no password store (current, pending, previous)")
        return Passwords(*(data.get(k) for k in FIELDS), version, written)

    def write(self, passwords, expected_version, over_damaged=False):
        if over_damaged:        # a deleted version: write over the key's current version
            meta = self._call("read", lambda: self.client.secrets.kv.v2.read_secret_metadata(
                path=self.secret, mount_point=self.mount))
            expected_version = int(meta["data"]["current_version"])
        document = {k: v for k, v in passwords.as_dict().items() if k in FIELDS}
        version = self._write(self.secret, document, expected_version)
        written = self.read()
        if written.version != version or written.pending != passwords.pending or written.current != passwords.current:
            raise Conflict(f"{self.where} changed right after this run wrote it: another run is changing this "
                           "site's password")
        return written

    def read_record(self, name):
        return self._read(f"{self.secret}.{name}")[:2]

    def write_record(self, name, document, expected_version):
        return self._write(f"{self.secret}.{name}", document, expected_version)
