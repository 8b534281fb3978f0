"""Vaulted site values decrypted once per run (plugin_utils/decrypted.py): what validation
seals for a site's task opens only with the run's key, holds no plaintext at rest, and lets
the task build its Site without a vault secret."""
import base64
import json
import os

import pytest
from ansible.parsing.vault import EncryptedString, VaultLib, VaultSecret, VaultSecretsContext

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import decrypted, run_dir
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import site_of

SECRET = VaultSecret(b"unit-test-vault")
PASSWORDS = {"erp_admin_password": "Admin-Secret-7781!", "api_user_password": "OcerraApi-Secret-2290!",
             "ocerra_password": "Service-Secret-5512!"}


def vaulted(plaintext):
    body = VaultLib([("default", SECRET)]).encrypt(plaintext, SECRET).decode()
    return EncryptedString(ciphertext=body)


@pytest.fixture
def run(tmp_path, monkeypatch):
    """A worker of a run: the run's directory and key, as inherited from the controller."""
    monkeypatch.setattr(run_dir, "_DIRECTORY", str(tmp_path))
    monkeypatch.setattr(run_dir, "_KEY", os.urandom(32))
    monkeypatch.setattr(run_dir.multiprocessing, "parent_process", lambda: object())
    return tmp_path


@pytest.fixture
def secrets(monkeypatch):
    """The vault secret, as ansible-playbook holds it (validation decrypts with it)."""
    monkeypatch.setattr(VaultSecretsContext, "_current", VaultSecretsContext([("default", SECRET)]))


def site_values():
    return {name: vaulted(text) for name, text in PASSWORDS.items()}


def task_vars(values):
    return {"erp_url": "https://erp.example.com", "erp_tenant": "T", "erp_admin_user": "admin",
            "api_user_login": "OcerraAPI", "ocerra_url": "https://ocerra.example.com",
            "ocerra_username": "svc", "ocerra_entities": [{"client_id": "c1"}], **values}


def test_a_sealed_value_opens_for_its_own_ciphertext_only_with_the_runs_key(run, secrets):
    values = site_values()
    decrypted.keep("acme", values.values())
    assert decrypted.known("acme") == {decrypted.digest(v): PASSWORDS[n] for n, v in values.items()}
    assert decrypted.known("bravo") == {}
    assert decrypted.digest(vaulted(PASSWORDS["api_user_password"])) not in decrypted.known("acme")
    run_dir._KEY = os.urandom(32)       # a process that did not inherit the run's key
    assert decrypted.known("acme") == {}


def test_no_plaintext_at_rest_in_any_encoding_and_the_file_is_private(run, secrets):
    decrypted.keep("acme", site_values().values())
    [path] = list(run.iterdir())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    text = path.read_text()
    blobs = [base64.b64decode(b) for b in json.loads(text).values()]
    for plaintext in PASSWORDS.values():
        for form in (plaintext, base64.b64encode(plaintext.encode()).decode(), plaintext.encode().hex()):
            assert form not in text
        assert all(plaintext.encode() not in blob for blob in blobs)


def test_a_sites_task_builds_its_site_from_what_validation_kept_without_a_vault_secret(run, secrets, monkeypatch):
    values = site_values()
    for value in values.values():
        str(value)                      # validation decrypted them
    decrypted.keep("acme", values.values())
    monkeypatch.setattr(VaultSecretsContext, "_current", None)   # nothing could decrypt them now
    fresh = {name: EncryptedString(ciphertext=v._ciphertext) for name, v in values.items()}
    site = site_of("acme", task_vars(fresh), template=lambda v: v)
    assert (site.erp["password"], site.user["password"], site.ocerra["password"]) == (
        PASSWORDS["erp_admin_password"], PASSWORDS["api_user_password"], PASSWORDS["ocerra_password"])


def test_outside_a_run_nothing_is_kept_and_ansible_decrypts(tmp_path, secrets, monkeypatch):
    monkeypatch.setattr(run_dir, "_DIRECTORY", None)
    decrypted.keep("acme", site_values().values())
    assert decrypted.known("acme") == {}
    site = site_of("acme", task_vars(site_values()), template=lambda v: v)
    assert site.user["password"] == PASSWORDS["api_user_password"]


def test_without_cryptography_nothing_is_sealed_and_ansible_decrypts(run, secrets, monkeypatch):
    monkeypatch.setattr(decrypted, "AESGCM", None)
    decrypted.keep("acme", site_values().values())
    assert list(run.iterdir()) == [] and decrypted.known("acme") == {}
    site = site_of("acme", task_vars(site_values()), template=lambda v: v)
    assert site.user["password"] == PASSWORDS["api_user_password"]
