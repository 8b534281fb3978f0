"""A site's inventory variables (schemas/site.schema.json) as the engines' inputs: the one
mapping from variable names to what the ERP client, the user engine and the Ocerra client
take, with the schema's defaults for what is unset.

Only the variables the flow reads are templated (a lookup in an unrelated variable never
runs); Ansible decrypts each vaulted one as it is read. The run's validation task checks every
site without decrypting anything (cross-site rules need no secret); the rules that need the
site's secrets are checked here, on the values as the run will use them. An entity's
`password` (equal to api_user_password by those rules) is read only for that check; the flow
never sees it.
"""
import functools

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_schema import Source, load_schema, secret_errors
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_values import (
    VAULT, is_template, to_plain, unchecked_paths, with_env_fallbacks)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import open_store

# site variable -> (engine input, its key)
MAPPING = {
    "erp_url": ("erp", "url"), "erp_tenant": ("erp", "tenant"), "erp_branch": ("erp", "branch"),
    "erp_admin_user": ("erp", "user"), "erp_admin_password": ("erp", "password"),
    "erp_validate_certs": ("erp", "validate_certs"), "erp_ca_path": ("erp", "ca_path"),
    "erp_publish_endpoint": ("user", "publish_endpoint"),
    "api_user_login": ("user", "login"), "api_user_email": ("user", "email"),
    "api_user_first_name": ("user", "first_name"), "api_user_last_name": ("user", "last_name"),
    "api_user_roles": ("user", "roles"), "api_user_roles_mode": ("user", "roles_mode"),
    "api_user_licence_type": ("user", "licence_types"), "api_user_password": ("user", "password"),
    "api_user_update_password": ("user", "update_password"),
    "api_user_lockout_threshold": ("user", "lockout_threshold"),
    "api_user_password_store": ("site", "store"), "api_user_password_vault_id": ("site", "vault_id"),
    "api_user_password_store_options": ("site", "store_options"),
    "api_user_password_max_age_days": ("site", "max_age_days"),
    "ocerra_url": ("ocerra", "url"), "ocerra_username": ("ocerra", "username"),
    "ocerra_password": ("ocerra", "password"), "ocerra_validate_certs": ("ocerra", "validate_certs"),
    "ocerra_ca_path": ("ocerra", "ca_path"),
    "ocerra_unlisted_entities": ("site", "unlisted"),
    "ocerra_entities": ("site", "entities"),
}
# What every site's API user is, whatever the inventory says (the help articles' checklist).
FIXED_USER = {"password_never_expires": True, "enabled": True, "state": "present"}


def without_passwords(entities):
    """The entities as the flow sees them: every key but `password`."""
    return [{k: v for k, v in dict(e).items() if k != "password"} for e in entities or []]


def schema_defaults():
    return {name: spec["default"] for name, spec in load_schema()["properties"].items()
            if "default" in spec and name in MAPPING}


class Site:
    """One site's engine inputs.

    erp: AcumaticaClient's (url, tenant, user, password, branch, validate_certs, ca_path);
    user: the user engine's options (acumatica/user.py); ocerra: OcerraClient's (url,
    username, password, validate_certs, ca_path); entities: [{client_id | name, branch}].
    """

    def __init__(self, host, variables, inventory_dir=None):
        inputs = {"erp": {}, "user": dict(FIXED_USER), "ocerra": {}, "site": {}}
        for name, value in {**schema_defaults(), **variables}.items():
            section, key = MAPPING[name]
            inputs[section][key] = [value] if name == "api_user_licence_type" else value
        self.host = host
        self.erp, self.user, self.ocerra = inputs["erp"], inputs["user"], inputs["ocerra"]
        self.entities = without_passwords(inputs["site"].get("entities"))
        self.unlisted = inputs["site"].get("unlisted", "include")
        self.max_age_days = inputs["site"].get("max_age_days")
        # The site's password store, when the password is kept there (store.py).
        self.store = open_store(inputs["site"].get("store"), host, inputs["site"].get("store_options"),
                                inventory_dir, inputs["site"].get("vault_id"))
        self.login = self.user["login"]
        self.publish_allowed = bool(self.user.get("publish_endpoint"))

    @property
    def url(self):
        return self.erp.get("url")

    @property
    def tenant(self):
        return self.erp.get("tenant")

    def secrets(self):
        """The secrets known now (a password decrypted when first used is added by its user)."""
        return [v for v in (self.erp.get("password"), self.user.get("password"), self.ocerra.get("password"))
                if v and not callable(v)]

    def entity_desired(self, entity, enabled=True):
        """What one entity's MYOB Acumatica settings should hold (ocerra/connection.py)."""
        return {"erp_url": self.url, "tenant": self.tenant, "login": self.login,
                "branch": entity.get("branch") or self.erp.get("branch"), "enabled": enabled}


class SiteVariableError(ToolkitError):
    kind = "invalid_variables"


# Decrypted when first used: the Ocerra service user's password is shared by every site of a
# partner and needed only by the sites that talk to Ocerra (in a no-change run, the one that
# lists its entities for the run).
WHEN_USED = ("ocerra_password",)


def site_of(host, task_vars, template, sources=None):
    """The host's Site, templating (with `template`, the action's templar) only the variables
    the flow reads, after checking the site's rules that need its secrets (SiteVariableError,
    naming the file and line of `sources`: {variable: {file, lines}} as validate_sites found them).

    The API user's password is read once; every step of the run uses that one value. When it
    is an expression, it is evaluated twice: one that gives another value each time (e.g. a
    password lookup on /dev/null) would be written to the ERP and then exist nowhere, so the
    site is refused before anything is sent."""
    located = {name: Source(where["file"], where["lines"]) for name, where in (sources or {}).items()}

    def checked(variables):
        hidden = ["/".join(map(str, [name, *path])) for name, value in variables.items()
                  for path, reason in unchecked_paths(value) if reason == VAULT]
        if hidden:
            raise SiteVariableError("%s cannot be decrypted with this run's vault secrets (give the vault id it "
                                    "was encrypted with: --vault-id)" % ", ".join(hidden))
        problems = secret_errors(host, variables, located)
        if problems:
            raise SiteVariableError("; ".join(str(p) for p in problems))
        return {name: to_plain(value) for name, value in variables.items()}

    def evaluated(value):
        # A value without an expression is taken as it is (a vaulted one decrypts in to_plain).
        return to_plain(template(value) if _has_expression(value) else value)

    variables, later = {}, {}
    for name in MAPPING.keys() & task_vars.keys():
        value = task_vars[name]
        if name in WHEN_USED:
            later[name] = value
            continue
        variables[name] = evaluated(value)
        if name == "api_user_password" and _has_expression(value) and evaluated(value) != variables[name]:
            raise SiteVariableError(
                "api_user_password gives another value each time it is evaluated (a random lookup such as "
                "the password lookup on /dev/null?): the password written to the ERP would exist nowhere "
                "after the run. Keep it in the inventory (ansible-vault encrypt_string) or in a file the "
                "lookup writes")
    variables, _from_env = with_env_fallbacks({**variables, **later})
    variables = checked({name: value for name, value in variables.items() if name not in later})
    for name, value in later.items():
        variables[name] = functools.partial(lambda name, value: checked({name: evaluated(value)})[name], name, value)
    return Site(host, variables, task_vars.get("inventory_dir"))


def _has_expression(value):
    """Whether `value` holds a Jinja expression anywhere (a vaulted value never does: it is
    not a str until decrypted, and its plaintext is not templated)."""
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_expression(v) for v in value)
    return is_template(value)
