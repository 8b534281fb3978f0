"""The AWX custom credential types (docs/awx/*.credential-type.yml): well-formed inputs, secret
fields marked secret, injectors that use only their inputs, and, injected as AWX renders them,
exactly the environment variables the toolkit's site variables fall back to."""
import re
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import ENV_FALLBACKS
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_values as values
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.password_stores import hashi_vault
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import open_store

ROOT = Path(__file__).resolve().parents[2]
TYPES = sorted((ROOT / "docs" / "awx").glob("*.credential-type.yml"))
SECRET_LOOKING = re.compile(r"pass|secret|token|key", re.I)
# What the toolkit reads from the environment: the site variables' fallbacks and the Vault store's.
READ = set(ENV_FALLBACKS.values()) | {hashi_vault.ADDRESS_VARIABLES[0], hashi_vault.TOKEN_VARIABLES[0]}


def load(path):
    return yaml.safe_load(path.read_text())


def test_every_credential_type_is_there():
    assert [p.name for p in TYPES] == ["acumatica-admin.credential-type.yml", "hashicorp-vault-store.credential-type.yml",
                                       "ocerra-service-user.credential-type.yml"]


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.name)
def test_inputs_are_well_formed_and_secrets_are_secret(path):
    kind = load(path)
    assert set(kind) == {"name", "kind", "inputs", "injectors"} and kind["kind"] == "cloud"
    fields = kind["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids)) and set(kind["inputs"]["required"]) <= set(ids)
    for field in fields:
        assert field["type"] == "string" and field["label"]
        assert bool(field.get("secret")) == bool(SECRET_LOOKING.search(field["id"])), field["id"]


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.name)
def test_injectors_use_only_the_inputs_and_only_the_toolkit_s_variables(path):
    kind = load(path)
    ids = {f["id"] for f in kind["inputs"]["fields"]}
    env = kind["injectors"]["env"]
    assert set(kind["injectors"]) == {"env"}        # no extra_vars: they would override the inventory
    assert set(env) <= READ
    for template in env.values():
        assert set(re.findall(r"\{\{\s*(\w+)\s*\}\}", template)) <= ids and "{{" in template


def test_injected_as_awx_renders_them_they_fill_every_connection_variable_an_inventory_leaves_unset():
    environ = {}
    for path in TYPES:
        kind = load(path)
        answers = {f["id"]: f"value-of-{f['id']}" for f in kind["inputs"]["fields"]}
        environ.update({name: jinja2.Template(t).render(answers) for name, t in kind["injectors"]["env"].items()})
    variables, taken = values.with_env_fallbacks({}, environ)
    assert set(taken) == set(ENV_FALLBACKS)
    assert str(variables["erp_admin_password"]) == "value-of-admin_password"
    assert str(variables["ocerra_password"]) == "value-of-password"
    kept, _from_env = values.with_env_fallbacks({"erp_url": "https://acme.example"}, environ)
    assert kept["erp_url"] == "https://acme.example"     # the inventory's value wins


def test_the_vault_store_credential_gives_the_store_all_it_reads_from_the_environment(monkeypatch):
    kind = load(ROOT / "docs" / "awx" / "hashicorp-vault-store.credential-type.yml")
    answers = {"vault_addr": "https://vault.partner.example:8200", "vault_token": "hvs.value-of-token"}
    for name in hashi_vault.ADDRESS_VARIABLES + hashi_vault.TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, template in kind["injectors"]["env"].items():
        monkeypatch.setenv(name, jinja2.Template(template).render(answers))
    store = open_store("ocerra.acumatica.hashi_vault", "acme", {})
    store.check()
    assert store.url == answers["vault_addr"] and "hvs.value-of-token" not in store.where
