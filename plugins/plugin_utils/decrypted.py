"""The run's vaulted site values, decrypted once.

validate_sites decrypts every vaulted site variable of the play in its worker (one PBKDF2 key
derivation each, on one thread per CPU). A worker cannot hand plaintext back to the
controller, so without this each site's task would derive the same keys again: three per site,
about 12 ms of CPU, a sixth of what a no-change site costs above Ansible's floor.

So validate_sites leaves each host's plaintexts in the run's directory (run_dir.py), sealed
with AES-256-GCM under a key made in the controller's memory when the run starts and
inherited by every worker it forks: no file holds a password that can be read without that
key, which is never written anywhere and ends with the run. A value is found by the digest of
its own ciphertext, so a site's task only gets the plaintext of the very value it holds.
Whatever is not found (a process that did not inherit the key, an ansible-core without
VaultHelper, a Python without cryptography) is decrypted by Ansible as before.
"""
import base64
import functools
import hashlib
import json
import os

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import run_dir

try:
    from ansible.parsing.vault import VaultHelper
except ImportError:     # ansible-core before 2.19: every site decrypts its own values
    VaultHelper = None

try:    # ansible-core requires it; ansible-test's import sanity environment does not have it
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    AESGCM = None
else:   # OpenSSL's AES-GCM set up once in the controller (imported before the fork), not per worker
    AESGCM(bytes(32))


def digest(value):
    """The digest of a vaulted value's ciphertext, or None for anything else."""
    if VaultHelper is None or AESGCM is None or isinstance(value, (str, bytes, bool, int, float, type(None))):
        return None
    ciphertext = VaultHelper.get_ciphertext(value, with_tags=False)
    return hashlib.sha256(ciphertext.encode()).hexdigest() if ciphertext else None


def keep(host, values):
    """Seal the plaintexts of `values` (vaulted values already decrypted here) for `host`'s task."""
    folder = run_dir.path()
    if folder is None:
        return
    sealed = {}
    for value in values:
        key = digest(value)
        if key:
            nonce = os.urandom(12)
            sealed[key] = base64.b64encode(nonce + _cipher().encrypt(nonce, str(value).encode(), key.encode())).decode()
    if not sealed:
        return
    path = _path(folder, host)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(sealed, handle)
    os.replace(path + ".tmp", path)


def known(host):
    """{ciphertext digest: plaintext} of what validate_sites kept for `host` in this run."""
    folder = run_dir.path()
    try:
        with open(_path(folder, host), encoding="utf-8") as handle:
            sealed = json.load(handle)
    except (TypeError, OSError, ValueError):
        return {}
    plaintexts = {}
    for key, blob in sealed.items():
        raw = base64.b64decode(blob)
        try:
            plaintexts[key] = _cipher().decrypt(raw[:12], raw[12:], key.encode()).decode()
        except InvalidTag:      # sealed under another run's key: Ansible decrypts the value
            continue
    return plaintexts


def _path(folder, host):
    return os.path.join(folder, "vault-" + hashlib.sha256(str(host).encode()).hexdigest()[:24] + ".json")


def _cipher():
    return _aead(run_dir.key())


@functools.lru_cache(maxsize=1)
def _aead(key):
    return AESGCM(key)
