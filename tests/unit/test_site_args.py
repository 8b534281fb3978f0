"""site_args gives erp_user and ocerra_connection the same options as the role tasks it
stands in for (roles/api_user/tasks/ensure.yml, roles/ocerra_entities/tasks/probe.yml),
rendered here by Ansible's own templar over the roles' defaults."""
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_args

ROOT = Path(__file__).resolve().parents[2]
GUID = "6f1c2d3e-0000-4000-8000-000000000001"
MINIMAL = {
    "erp_url": "https://erp.example.com", "erp_tenant": "Company", "erp_admin_user": "admin",
    "erp_admin_password": "Admin-Secret-1", "api_user_email": "api@example.com",
    "api_user_roles": ["AP Clerk"], "api_user_password": "Api-Password-Long-1",
    "ocerra_username": "svc@example.com", "ocerra_password": "Ocerra-Secret-1",
    "ocerra_entities": [{"client_id": GUID}],
}
FULL = dict(
    MINIMAL, erp_branch="HQ", erp_validate_certs=False, erp_ca_path="/etc/ca.pem", erp_publish_endpoint=False,
    api_user_login="Api", api_user_first_name="Ocerra", api_user_last_name="API", api_user_roles_mode="additive",
    api_user_licence_type="Full User (Full API)", api_user_update_password="always",
    ocerra_url="https://ocerra.example.com", ocerra_validate_certs=False, ocerra_ca_path="/etc/o.pem",
    ocerra_entities=[{"client_id": GUID, "branch": "B2", "password": "Api-Password-Long-1"},
                     {"name": "Acme Ltd"}, {"client_id": GUID, "name": "Acme", "branch": None}],
)


def rendered(task_file, variables):
    """The module arguments of the task file's first task, as Ansible renders them."""
    loader = DataLoader()
    task = loader.load_from_file(str(ROOT / task_file), trusted_as_template=True)[0]
    role = Path(task_file).parts[1]
    defaults = loader.load_from_file(str(ROOT / "roles" / role / "defaults" / "main.yml"))
    module = next(k for k in task if k.startswith("ocerra.acumatica."))
    return Templar(loader=loader, variables={**defaults, **variables}).template(task[module])


@pytest.mark.parametrize("variables", [MINIMAL, FULL], ids=["minimal", "full"])
def test_erp_user_options_equal_the_ensure_task(variables):
    site = site_args.site_variables(variables, template=lambda value: value)
    for defer in (True, False):
        expected = rendered("roles/api_user/tasks/ensure.yml", dict(variables, toolkit_defer_password_change=defer))
        assert site_args.erp_user_args(site, defer_password_change=defer) == expected


@pytest.mark.parametrize("variables", [MINIMAL, FULL], ids=["minimal", "full"])
def test_entity_read_options_equal_the_probe_task(variables):
    site = site_args.site_variables(variables, template=lambda value: value)
    assert site["ocerra_entities"] and all("password" not in e for e in site["ocerra_entities"])
    for entity in variables["ocerra_entities"]:
        item = {k: v for k, v in entity.items() if k != "password"}
        expected = rendered("roles/ocerra_entities/tasks/probe.yml", dict(variables, item=item))
        assert site_args.entity_read_args(site, item) == expected


def test_only_the_variables_used_are_templated_and_entity_passwords_never():
    seen = []

    def template(value):
        seen.append(value)
        return value

    site = site_args.site_variables(dict(FULL, ansible_host="x", toolkit_other="{{ lookup('pipe', 'id') }}"),
                                    template)
    assert "ansible_host" not in site and "toolkit_other" not in site
    assert not any("lookup" in str(v) for v in seen)
    assert "Api-Password-Long-1" not in str([v for v in seen if isinstance(v, list)])


def test_unset_variables_take_the_schema_defaults():
    site = site_args.site_variables(MINIMAL, template=lambda value: value)
    assert (site["api_user_login"], site["api_user_roles_mode"], site["api_user_update_password"],
            site["erp_validate_certs"], site["ocerra_url"]) == (
        "OcerraAPI", "exact", "when_changed", True, "https://app.ocerra.com")
