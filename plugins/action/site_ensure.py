# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Action for ocerra.acumatica.site_ensure: a site's API user and entity reads in one task.

It runs erp_user (password change deferred) and one check-mode ocerra_connection read per
entity exactly as roles/api_user/tasks/ensure.yml and roles/ocerra_entities/tasks/probe.yml
do, with the options taken from the site's variables (plugin_utils/site_args.py) instead of
one templated argument each, and, when nothing is left to change, the site's outcome by the
site_report filter's own rules, kept for the report in the run's spool
(plugin_utils/report_spool.py) rather than in the registered result. A no-change run then
costs each site one task.
"""
from ansible.plugins.action import ActionBase

from ansible_collections.ocerra.acumatica.plugins.filter import site_report as sr
from ansible_collections.ocerra.acumatica.plugins.modules import erp_user, ocerra_connection  # noqa: F401 (see erp_user.py)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report_spool, site_args
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inprocess import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    _VALID_ARGS = frozenset()

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = ActionBase.run(self, tmp, task_vars)
        site = site_args.site_variables(task_vars, self._templar.template)

        erp = self._sub_result(result, self._run_module(
            "ocerra.acumatica.erp_user", site_args.erp_user_args(site, defer_password_change=True), task_vars))
        result["changed"] = bool(erp.get("changed"))
        if "diff" in erp:
            result["diff"] = erp.pop("diff")
        if erp.get("failed"):
            result.update(failed=True, msg=erp.get("msg"), erp=erp, next="failed")
            return result

        entities = site.get("ocerra_entities") or []
        push = bool(erp.get("password_updated") or erp.get("password_change_pending"))
        probe = {"results": [] if push else [self._read_entity(result, site, entity, task_vars) for entity in entities],
                 "changed": False, "msg": "All items completed"}
        probe["changed"] = any(r["changed"] for r in probe["results"])
        if any(r["failed"] for r in probe["results"]):
            probe.update(failed=True, msg="One or more items failed")
            result.update(failed=True, msg=sr.error_message(probe), erp=erp, probe=probe, next="failed")
            return result

        if erp.get("password_change_pending"):
            result["next"] = "safe_order"
        elif erp.get("password_updated") or sr.entities_to_connect(probe["results"]):
            result["next"] = "connect"
        else:
            entry = self._outcome(site, entities, erp, probe)
            result.update(next="done", status=entry["status"])
            host = task_vars.get("inventory_hostname")
            if host and report_spool.available():
                report_spool.write(host, entry)
            else:
                result["site"] = entry
            return result
        result.update(erp=erp, probe=probe)
        return result

    def _read_entity(self, result, site, entity, task_vars):
        """One entity's check-mode read, shaped as an item of probe.yml's registered loop."""
        read = self._sub_result(result, self._run_module(
            "ocerra.acumatica.ocerra_connection", site_args.entity_read_args(site, entity), task_vars,
            check_mode=True, diff=False))
        read.update(item=entity, ansible_loop_var="item")
        return read

    @staticmethod
    def _sub_result(result, sub):
        """A module's result with its warnings and deprecations moved up to the task's."""
        for key in ("warnings", "deprecations"):
            if sub.get(key):
                result.setdefault(key, []).extend(sub.pop(key))
        sub.setdefault("changed", False)
        sub.setdefault("failed", False)
        return sub

    def _outcome(self, site, entities, erp, probe):
        """The site's report entry, as roles/site_report/tasks/outcome.yml records it."""
        return sr.site_outcome({
            "mode": "provision", "check_mode": bool(self._task.check_mode),
            "site": {"url": site.get("erp_url"), "tenant": site.get("erp_tenant"),
                     "login": site.get("api_user_login")},
            "declared": entities, "erp": erp, "probe": probe,
        })
