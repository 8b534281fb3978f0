"""A site's inventory variables (schemas/site.schema.json) as the options of the modules
that act on it.

The same mapping as the tasks of roles/api_user/tasks/ensure.yml (erp_user) and
roles/ocerra_entities/tasks/probe.yml (ocerra_connection, one read per entity), for the
site_ensure action, which reads a site's variables itself: templating one `{{ variable }}`
argument costs a Jinja compilation per option, host and loop item, which was most of the CPU
time of a no-change run over many sites. tests/unit/test_site_args.py renders those role
tasks with Ansible and checks that both give the same options.
"""
from ansible_collections.ocerra.acumatica.plugins.filter.site_report import without_secrets
from ansible_collections.ocerra.acumatica.plugins.module_utils.site_validation import load_schema

# erp_user option <- site variable (ensure.yml)
ERP_USER_OPTIONS = (
    ("url", "erp_url"), ("tenant", "erp_tenant"), ("branch", "erp_branch"),
    ("admin_user", "erp_admin_user"), ("admin_password", "erp_admin_password"),
    ("validate_certs", "erp_validate_certs"), ("ca_path", "erp_ca_path"),
    ("login", "api_user_login"), ("email", "api_user_email"),
    ("first_name", "api_user_first_name"), ("last_name", "api_user_last_name"),
    ("roles", "api_user_roles"), ("roles_mode", "api_user_roles_mode"),
    ("password", "api_user_password"), ("update_password", "api_user_update_password"),
    ("publish_endpoint", "erp_publish_endpoint"),
)
# ocerra_connection option <- site variable (probe.yml)
OCERRA_OPTIONS = (
    ("ocerra_url", "ocerra_url"), ("ocerra_username", "ocerra_username"),
    ("ocerra_password", "ocerra_password"), ("ocerra_validate_certs", "ocerra_validate_certs"),
    ("ocerra_ca_path", "ocerra_ca_path"), ("erp_url", "erp_url"), ("tenant", "erp_tenant"),
    ("login", "api_user_login"), ("password", "api_user_password"),
)
# Every variable read here: the options' and the two that shape them.
VARIABLES = frozenset(name for _, name in ERP_USER_OPTIONS + OCERRA_OPTIONS) | {
    "api_user_licence_type", "ocerra_entities"}


def schema_defaults():
    """What the toolkit uses for an unset variable (the schema's `default`s, as the roles'
    defaults/main.yml)."""
    return {name: spec["default"] for name, spec in load_schema()["properties"].items()
            if "default" in spec and name in VARIABLES}


def site_variables(task_vars, template):
    """The site's variables that are set, templated one by one (`template` is the action's
    templar), over the schema's defaults. A variable never read is never templated, and an
    entity's password (equal to api_user_password by validation) is dropped unread."""
    site = schema_defaults()
    for name in VARIABLES & task_vars.keys():
        value = task_vars[name]
        if name == "ocerra_entities":
            if isinstance(value, list):  # a list as written: drop passwords before templating
                value = without_secrets(value)
            value = without_secrets(template(value))
        else:
            value = template(value)
        site[name] = value
    return site


def erp_user_args(site, defer_password_change):
    """erp_user's options for the site's API user, as ensure.yml passes them."""
    args = {option: site[name] for option, name in ERP_USER_OPTIONS if name in site}
    if "api_user_licence_type" in site:
        args["licence_types"] = [site["api_user_licence_type"]]
    args.update(password_never_expires=True, enabled=True, defer_password_change=defer_password_change)
    return args


def entity_read_args(site, entity):
    """ocerra_connection's options to read one entity (check mode), as probe.yml passes them."""
    args = {option: site[name] for option, name in OCERRA_OPTIONS if name in site}
    args.update(enabled=True, verify=False)
    if "client_id" in entity:
        args["client_id"] = entity["client_id"]
    if "name" in entity:
        args["client_name"] = entity["name"]
    if "branch" in entity:
        args["branch"] = entity["branch"]
    elif "erp_branch" in site:
        args["branch"] = site["erp_branch"]
    return args
