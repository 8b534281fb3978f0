# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Action for ocerra.acumatica.validate_sites: validate every site of the play, offline.

It runs on the controller only (no module is shipped to the host) and reads the raw,
untemplated host variables, so no lookup runs and nothing touches the network.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.ocerra.acumatica.plugins.module_utils import site_validation as sv


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("hosts",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(argument_spec={"hosts": {"type": "list", "elements": "str"}})
        hosts = args["hosts"] or task_vars.get("ansible_play_hosts_all") \
            or [task_vars.get("inventory_hostname")]
        hostvars = task_vars["hostvars"]
        missing = [h for h in hosts if h not in hostvars]
        if missing:
            result.update(failed=True, msg="hosts not in the inventory: %s" % ", ".join(map(str, missing)))
            return result

        # raw_get: the variables as written (vault values decrypt on access, templates stay
        # text), so validation never runs a lookup.
        raw = {str(h): hostvars.raw_get(h) for h in hosts}
        folders = sorted({str(v["inventory_dir"]) for v in raw.values() if v.get("inventory_dir")})
        scans = [sv.InventoryScan(folder) for folder in folders]
        errors, unchecked = sv.validate_inventory(raw, scans, decrypt=str, all_files=False)

        result["changed"] = False
        result["sites"] = sorted(raw)
        result["unchecked"] = [{"host": h, "pointer": p, "reason": r} for h, p, r in unchecked]
        if errors:
            result["failed"] = True
            result["errors"] = [e.as_dict() for e in errors]
            result["msg"] = "%d error(s) in the sites' inventory variables:\n%s" % (
                len(errors), "\n".join(map(str, errors)))
        else:
            result["msg"] = "%d site(s) valid" % len(raw)
        return result
