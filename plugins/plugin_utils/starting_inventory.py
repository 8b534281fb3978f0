"""The files of an imported inventory (playbooks/import.yml), written to a new folder only.

hosts.yml (one host per site), group_vars/all.yml (what every site shares), one
host_vars/<site>.yml per site and IMPORT.md (the flags and differences; Ansible skips .md
files in an inventory folder). Strings are written as JSON strings, which YAML reads as they
are, so no value from Ocerra or the ERP can change the files' structure (nor, tagged !unsafe,
be templated by Ansible). Secrets are never written: each is a commented placeholder that
`./run validate` reports as missing, written once where sites share it (the Ocerra service
user's in group_vars/all.yml, an admin's in its group's file). With a password store chosen no
API password is asked for: the first provision takes each site over.
"""
import json
import os
import tempfile
from collections import Counter

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.adopt import printable

ENCRYPT = "ansible-vault encrypt_string --encrypt-vault-id VAULT_ID --stdin-name {name}"
SECRETS = {
    "erp_admin_password": "the password of erp_admin_user on this ERP",
    "api_user_password": "the API user's current password (the one Ocerra's entities hold today)",
    "ocerra_password": "the password of the Ocerra service user",
}


# What an API user that could not be read is given: the help article's roles (without
# Administrator) and MYOB's API licence, added to what it has (IMPORT.md flags the site).
DEFAULT_ROLES = ("AP Clerk", "AR Clerk", "CA Clerk", "GL Clerk", "TX Viewer", "FA Clerk", "DR Viewer")
DEFAULT_LICENCE = "Full User (Full API)"


class Refused(Exception):
    """The destination exists and is not empty: an inventory is never overwritten."""


def _s(value):
    """A JSON string (YAML reads it as it is), tagged !unsafe when Ansible would template it:
    a tenant or name in Ocerra must never run a lookup on the controller."""
    text = json.dumps(str(value), ensure_ascii=False)
    return "!unsafe " + text if any(mark in str(value) for mark in ("{{", "{%", "{#")) else text


def _placeholder(name):
    return (f"# FILL IN {name}: {SECRETS[name]}, vaulted:\n"
            f"#   {ENCRYPT.format(name=name)}\n")


def shared(sites):
    """The API user's login when every site has the same one."""
    seen = Counter(s.login for s in sites)
    return {"api_user_login": next(iter(seen))} if len(seen) == 1 and None not in seen else {}


def admin_groups(sites, admins):
    """{group name: (the import_erp_admins entry, its sites)}: the sites one admin entry matched
    share its credentials, written once in group_vars/<group>.yml."""
    groups = {}
    for number, admin in enumerate(admins or [], start=1):
        members = [s for s in sites if s.admin is admin]
        if members:
            groups[f"erp_admin_{number}"] = (admin, members)
    return groups


def hosts_yml(sites, source, groups):
    lines = [f"# Imported by playbooks/import.yml from {source}: {len(sites)} site(s). One host per",
             "# ERP site (URL + tenant); each site's values are in host_vars/<host>.yml; the sites one",
             "# import_erp_admins entry matched are a group sharing its credentials (group_vars/<group>.yml).",
             "all:", "  vars:",
             "    ansible_connection: local",
             "    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"",
             "  children:", "    imported:", "      hosts:"]
    lines += [f"        {s.host}:" for s in sites]
    for group, (_admin, members) in groups.items():
        lines += [f"    {group}:", "      hosts:"] + [f"        {s.host}:" for s in members]
    return "\n".join(lines) + "\n"


def group_vars(ocerra, common, store):
    text = ("# What every imported site shares; a host_vars file may override any of it.\n"
            "# Every variable is described in schemas/site.schema.json; `./run validate` checks them.\n"
            f"ocerra_url: {_s(ocerra['url'])}\n"
            f"ocerra_username: {_s(ocerra['username'])}\n" + _placeholder("ocerra_password"))
    for key, value in common.items():
        text += f"{key}: {_s(value)}\n"
    if store:
        text += ("# The API user's password is kept in this store; while a site's store is empty and no\n"
                 "# api_user_password is given, the first provision takes the site over (README: Adopt).\n")
        text += "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in store.items())
    return text


def admin_group_vars(admin, members):
    where = f"{printable(admin['url'])}, tenant {printable(admin.get('tenant') or '*')}"
    return (f"# The ERP admin of the {len(members)} site(s) matching {where} (an import_erp_admins entry).\n"
            f"erp_admin_user: {_s(admin['user'])}\n" + _placeholder("erp_admin_password"))


def host_vars(site, common, email_domain, store):
    out = [f"# Site {site.host}: {printable(site.url)}, tenant {printable(site.tenant)}, as Ocerra's entities use it.",
           f"erp_url: {_s(site.url)}", f"erp_tenant: {_s(site.tenant)}"]
    if not site.admin:
        out.append("# FILL IN erp_admin_user: an ERP administrator the toolkit signs in as (not the API user)")
        out.append(_placeholder("erp_admin_password").rstrip("\n"))
    if site.login and "api_user_login" not in common:
        out.append(f"api_user_login: {_s(site.login)}")
    if not store:
        out.append(_placeholder("api_user_password").rstrip("\n"))
    out += _user_lines(site, email_domain)
    out.append("ocerra_entities:" if site.entities else "# FILL IN ocerra_entities: no entity signs in with one login")
    out += [_entity_line(c, "  ") for c in site.entities]
    if site.others:
        out.append("# Entities of this ERP site with another login (see IMPORT.md):")
        out += [_entity_line(c, "#  ") + f" (login {printable(c.get('login') or 'none')})" for c in site.others]
    return "\n".join(out) + "\n"


def _user_lines(site, email_domain):
    user = site.user
    if not user or not user.get("exists"):
        return ["# Not read from the ERP: defaults to check before the first provision (IMPORT.md).",
                f"api_user_email: {_s(f'ocerraapi+{site.host}@{email_domain}')}",
                "api_user_roles:",
                *(f"  - {_s(r)}" for r in DEFAULT_ROLES),
                "api_user_roles_mode: \"additive\"     # adds what is missing, removes nothing",
                f"api_user_licence_type: {_s(DEFAULT_LICENCE)}"]
    lines = ["# The API user as the ERP has it today:"]
    for key, field in (("api_user_email", "email"), ("api_user_first_name", "first_name"),
                       ("api_user_last_name", "last_name")):
        if user.get(field):
            lines.append(f"{key}: {_s(user[field])}")
    if user.get("roles"):
        lines += ["api_user_roles:"] + [f"  - {_s(r)}" for r in user["roles"]] + ["api_user_roles_mode: \"exact\""]
    else:
        lines.append("# FILL IN api_user_roles: the API user holds no role today")
    if user.get("licence_types"):
        lines.append(f"api_user_licence_type: {_s(user['licence_types'][0])}")
    return lines


def _entity_line(connection, indent):
    line = f"{indent}- client_id: {_s(connection['client_id'])}"
    if connection.get("branch"):
        line += f"\n{indent}  branch: {_s(connection['branch'])}"
    return line + f"   # {printable(connection.get('client_name') or '')}"


def import_notes(sites, unusable, unreadable, differences, source, store=None):
    then = ("`ansible-playbook playbooks/provision.yml -i <folder> --check` (the plan: each site whose API "
            "password nobody knows is taken over), then without `--check`: a new password for each such site in "
            "its store, the ERP and every entity." if store else
            "`ansible-playbook playbooks/provision.yml -i <folder> --check`.")
    out = [f"# Import from {source}", "",
           f"{len(sites)} new site(s). Fill in the `FILL IN` values (secrets vaulted; each admin's password once, "
           "in its group_vars file), then `./run validate` on this folder and " + then, ""]
    out += ["## Sites to look at", ""]
    flagged = [s for s in sites if s.flags]
    out += [f"- **{s.host}** ({printable(s.url)}, tenant {printable(s.tenant)}): {printable(f)}"
            for s in flagged for f in s.flags] or ["- none"]
    out += ["", "## Entities left out", ""]
    out += [f"- '{printable(c.get('client_name') or '')}' ({c['client_id']}) {printable(c['reason'])}"
            for c in unusable]
    out += [f"- '{printable(c.get('client_name') or '')}' ({c['client_id']}): not readable by the service user "
            f"({printable(c['error'])})" for c in unreadable]
    if not unusable and not unreadable:
        out.append("- none")
    out += ["", "## Differences with the existing inventory", ""]
    out += [f"- {printable(d)}" for d in differences] or ["- none (or no existing inventory given)"]
    return "\n".join(out) + "\n"


def check_dest(dest):
    """Refused when `dest` has anything: checked before anything is read, and again at the write."""
    dest = os.path.abspath(dest)
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise Refused(f"{dest} exists and is not empty: the import never overwrites an inventory; "
                      "give a new folder (and the existing inventory as import_existing)")
    return dest


def write(dest, files):
    """Write {relative path: text} to the new folder `dest` at once: built beside it, then
    renamed into place, so a crash leaves no half inventory. Refused when dest has anything."""
    dest = check_dest(dest)
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    building = tempfile.mkdtemp(prefix=".import-", dir=parent)
    for relative, text in files.items():
        path = os.path.join(building, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    os.chmod(building, 0o755)
    if os.path.isdir(dest):
        os.rmdir(dest)          # empty, checked above; a race with another writer fails here
    os.rename(building, dest)
    return dest


def render(sites, unusable, unreadable, differences, ocerra, admins=(), store=None):
    """{relative path: text} of the new inventory (only IMPORT.md when no site is new).
    `store`: the password store's variables every site gets ({api_user_password_store: ...}),
    or None (each site's api_user_password is a placeholder)."""
    source = f"Ocerra {printable(ocerra['url'])} (service user {printable(ocerra['username'])})"
    files = {"IMPORT.md": import_notes(sites, unusable, unreadable, differences, source, store)}
    if sites:
        common, groups = shared(sites), admin_groups(sites, admins)
        files["hosts.yml"] = hosts_yml(sites, source, groups)
        files["group_vars/all.yml"] = group_vars(ocerra, common, store)
        files.update({f"group_vars/{g}.yml": admin_group_vars(a, m) for g, (a, m) in groups.items()})
        domain = str(ocerra["username"]).rpartition("@")[2] or "partner.example"
        files.update({f"host_vars/{s.host}.yml": host_vars(s, common, domain, store) for s in sites})
    return files
