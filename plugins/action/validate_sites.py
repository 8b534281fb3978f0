# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Action for ocerra.acumatica.validate_sites: validate every site of the play, offline.

It runs on the controller only (no module is shipped to the host) and reads the raw,
untemplated host variables, so no lookup runs and nothing touches the network. Vaulted values
are decrypted only with `secrets: true` (validate.yml); a playbook's own validation leaves
them to each site's task, which checks its secrets once Ansible has decrypted them for it.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_schema
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction, missing_library
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inventory_scan import InventoryScan
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_values import VAULT
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import store_errors

# Removed after 0.1.0: a templated `throttle` cost a Jinja compilation per site, and forks bounds
# the same thing (the site task is the only one per host that talks to the services).
REMOVED_THROTTLE = ("toolkit_ocerra_throttle is no longer read: as many sites run their flow at once as Ansible's "
                    "forks; bound them with --forks N (or forks in ansible.cfg).")


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"hosts": {"type": "list", "elements": "str"}, "per_site": {"type": "bool", "default": False},
                     "secrets": {"type": "bool", "default": True}}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        if site_schema.Draft202012Validator is None:
            raise AnsibleActionFail(missing_library("jsonschema"))
        hosts = args["hosts"] or task_vars.get("ansible_play_hosts_all") \
            or [task_vars.get("inventory_hostname")]
        hostvars = task_vars["hostvars"]
        missing = [h for h in hosts if h not in hostvars]
        if missing:
            result.update(failed=True, msg="hosts not in the inventory: %s" % ", ".join(map(str, missing)))
            return result

        # raw_get: the variables as written (templates stay text), so validation never runs a
        # lookup; a vaulted value decrypts only when str() is called on it.
        raw = {str(h): hostvars.raw_get(h) for h in hosts}
        folders = sorted({str(v["inventory_dir"]) for v in raw.values() if v.get("inventory_dir")})
        scans = [InventoryScan(folder) for folder in folders]
        errors, unchecked, warnings = site_schema.validate_inventory(
            raw, scans, decrypt=str if args["secrets"] else _left_to_the_site, all_files=False)
        errors += store_errors(raw, None, decrypt=args["secrets"])

        result["changed"] = False
        if "toolkit_ocerra_throttle" in task_vars:
            warnings.append(REMOVED_THROTTLE)
        if warnings:  # shown by Ansible as [WARNING] lines
            result["warnings"] = [str(w) for w in warnings]
        result["sites"] = sorted(raw)
        result["unchecked"] = [{"host": h, "pointer": p, "reason": r} for h, p, r in unchecked if args["secrets"]
                               or r != VAULT]
        if errors:
            result["errors"] = [e.as_dict() for e in errors]
            result["msg"] = "%d error(s) in the sites' inventory variables:\n%s" % (
                len(errors), "\n".join(map(str, errors)))
            if args["per_site"]:
                result["invalid"] = _by_host(errors, raw)
            else:
                result["failed"] = True
        else:
            result["msg"] = "%d site(s) valid" % len(raw)
        if args["per_site"]:
            result.setdefault("invalid", {})
        if not args["secrets"]:     # where each site's secrets are written, for its own task's errors
            result["secret_sources"] = {host: {name: {"file": s.file, "lines": s.lines}
                                               for name, s in site_schema.host_sources(host, variables, scans).items()
                                               if site_schema.is_secret([name]) or name == "ocerra_entities"}
                                        for host, variables in raw.items()}
        return result


def _left_to_the_site(value):
    raise ValueError("checked by the site's own task once decrypted")


def _by_host(errors, raw):
    """{host: [error lines]}: an error names its host, or a group (every host in it), or no
    one (every host)."""
    invalid = {}
    for error in errors:
        hosts = [h for h, v in raw.items() if error.host is None or error.host == h
                 or error.host in (v.get("group_names") or []) or error.host == "all"]
        for host in hosts:
            invalid.setdefault(host, []).append(str(error))
    return invalid
