"""A site's variables as its task reads them (plugins/plugin_utils/site_vars.py): the rules that
need its secrets checked once Ansible has decrypted them, naming the file and line validation
found; the Ocerra service user's password decrypted only when a request to Ocerra needs it."""
import pytest
from ansible.parsing.vault import EncryptedString, VaultLib, VaultSecret, VaultSecretsContext

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import SiteVariableError, site_of

SECRET = VaultSecret(b"unit-test-vault")
OTHER = VaultSecret(b"another-vault")
API_PW, ADMIN_PW, SVC_PW = "OcerraApi-Secret-2290!", "Admin-Secret-7781!", "Service-Secret-5512!"
GUID = "ac3e0000-0000-4000-8000-000000000001"


def vaulted(plaintext, secret=SECRET):
    return EncryptedString(ciphertext=VaultLib([("default", secret)]).encrypt(plaintext, secret).decode())


@pytest.fixture(autouse=True)
def run_secrets(monkeypatch):
    """The vault secret, as ansible-playbook holds it."""
    monkeypatch.setattr(VaultSecretsContext, "_current", VaultSecretsContext([("default", SECRET)]))


def variables(**over):
    return {"erp_url": "https://acme.example", "erp_tenant": "Company", "erp_admin_user": "admin",
            "erp_admin_password": vaulted(ADMIN_PW), "api_user_email": "api@acme.example",
            "api_user_roles": ["AP Clerk"], "api_user_password": vaulted(API_PW),
            "ocerra_url": "https://app.ocerra.example", "ocerra_username": "svc@partner.example",
            "ocerra_password": vaulted(SVC_PW), "ocerra_entities": [{"client_id": GUID}], **over}


def no_template(value):
    raise AssertionError("nothing here is an expression")


def test_secrets_are_decrypted_by_the_site_and_the_ocerra_one_only_when_used():
    site = site_of("acme", variables(), no_template)
    assert site.user["password"] == API_PW and site.erp["password"] == ADMIN_PW
    assert callable(site.ocerra["password"]) and SVC_PW not in site.secrets()
    assert site.ocerra["password"]() == SVC_PW


def test_a_broken_secret_rule_names_the_file_and_line_validation_found():
    sources = {"api_user_password": {"file": "inv/host_vars/acme.yml", "lines": {"/api_user_password": 7}}}
    with pytest.raises(SiteVariableError) as refused:
        site_of("acme", variables(api_user_password=vaulted("short")), no_template, sources)
    message = str(refused.value)
    assert message.startswith("inv/host_vars/acme.yml:7: acme: /api_user_password: does not meet the MYOB 2023.1.3")
    assert "short" not in message


@pytest.mark.parametrize("entities, pointer", [
    ([{"client_id": GUID, "password": vaulted("Another-Password-123")}], "/ocerra_entities/0/password"),
    ([{"client_id": GUID, "password": vaulted(API_PW)}], None)])
def test_an_entity_password_must_be_the_api_users(entities, pointer):
    if pointer is None:
        assert site_of("acme", variables(ocerra_entities=entities), no_template).entities == [{"client_id": GUID}]
        return
    with pytest.raises(SiteVariableError, match=f"acme: {pointer}: differs from api_user_password"):
        site_of("acme", variables(ocerra_entities=entities), no_template)


def test_a_secret_of_another_vault_id_is_refused_before_anything_is_sent():
    with pytest.raises(SiteVariableError, match="^erp_admin_password cannot be decrypted with this run's vault"):
        site_of("acme", variables(erp_admin_password=vaulted(ADMIN_PW, OTHER)), no_template)


def test_an_ocerra_password_that_cannot_be_decrypted_fails_where_it_is_used():
    site = site_of("acme", variables(ocerra_password=vaulted(SVC_PW, OTHER)), no_template)
    with pytest.raises(ToolkitError, match="ocerra_password cannot be decrypted"):
        site.ocerra["password"]()


def test_an_empty_ocerra_password_is_refused_where_it_is_used():
    site = site_of("acme", variables(ocerra_password=""), no_template)
    with pytest.raises(ToolkitError, match="/ocerra_password: must be text of 1 to 256 characters"):
        site.ocerra["password"]()
