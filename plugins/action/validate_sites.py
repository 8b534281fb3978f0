# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Action for ocerra.acumatica.validate_sites: validate every site of the play, offline.

It runs on the controller only (no module is shipped to the host) and reads the raw,
untemplated host variables, so no lookup runs and nothing touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleActionFail

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import decrypted
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_validation as sv
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction, missing_library

# Removed after 0.1.0: a templated `throttle` cost a Jinja compilation per site, and forks bounds
# the same thing (the site task is the only one per host that talks to the services).
REMOVED_THROTTLE = ("toolkit_ocerra_throttle is no longer read: as many sites run their flow at once as Ansible's "
                    "forks; bound them with --forks N (or forks in ansible.cfg).")


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"hosts": {"type": "list", "elements": "str"}, "per_site": {"type": "bool", "default": False}}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        if sv.Draft202012Validator is None:
            raise AnsibleActionFail(missing_library("jsonschema"))
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
        _decrypt_ahead(raw)
        for host, variables in raw.items():    # the site tasks of this run need not decrypt them again
            decrypted.keep(host, _decrypted(_site_vaulted(variables)))
        folders = sorted({str(v["inventory_dir"]) for v in raw.values() if v.get("inventory_dir")})
        scans = [sv.InventoryScan(folder) for folder in folders]
        errors, unchecked, warnings = sv.validate_inventory(raw, scans, decrypt=str, all_files=False)

        result["changed"] = False
        if "toolkit_ocerra_throttle" in task_vars:
            warnings.append(REMOVED_THROTTLE)
        if warnings:  # shown by Ansible as [WARNING] lines
            result["warnings"] = [str(w) for w in warnings]
        result["sites"] = sorted(raw)
        result["unchecked"] = [{"host": h, "pointer": p, "reason": r} for h, p, r in unchecked]
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
        return result


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


def _vaulted(value):
    """The vaulted values inside `value`: whatever is not a plain YAML type (an EncryptedString
    on ansible-core 2.19+, an AnsibleVaultEncryptedUnicode before)."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _vaulted(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _vaulted(item)
    elif not isinstance(value, (str, bytes, bool, int, float, type(None))):
        yield value


def _site_vaulted(variables):
    return [v for name, value in variables.items() if str(name).startswith(sv.PREFIXES) for v in _vaulted(value)]


def _decrypt(value):
    try:
        str(value)  # the value keeps its plaintext
        return True
    except Exception:  # noqa: BLE001 - reported by the validation as not checkable
        return False


def _decrypted(values):
    """The values that decrypt (each already has: _decrypt_ahead)."""
    return [v for v in values if _decrypt(v)]


def _decrypt_ahead(raw):
    """Decrypt every vaulted site variable on one thread per CPU before the (serial) checks: the key
    derivation of each value (PBKDF2, most of the validation's time over hundreds of sites)
    releases the GIL, and this task runs alone (run_once)."""
    values = list({id(v): v for variables in raw.values() for v in _site_vaulted(variables)}.values())
    if len(values) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(_decrypt, values))
