# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Action for ocerra.acumatica.site: one site's whole flow in one task.

Reads the host's site variables (plugin_utils/site_vars.py), runs the flow
(plugin_utils/site_flow.py) in this worker, builds the site's report entry from the steps the
flow recorded (plugin_utils/site_outcome.py) and keeps it for the run's summary
(plugin_utils/report.py). Only public ansible-core interfaces are used: ActionBase, the task's
arguments, check and diff flags, and the templar.
"""
import traceback

from ansible.errors import AnsibleError
from ansible.plugins.loader import filter_loader, test_loader

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_flow import MODES, SiteFlow
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_outcome import entry, outcome
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import site_of


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"flow": {"type": "str", "choices": list(MODES), "default": "provision"}}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        host = task_vars.get("inventory_hostname")
        check = bool(self._task.check_mode)
        try:
            site = site_of(host, task_vars, self._templar.template)
        except AnsibleError as exc:
            site_entry = entry("failed", "The site's variables could not be evaluated: %s. Fix the inventory "
                               "(./run validate) and run again." % exc.message, {}, {})
            return self._finish(result, host, site_entry, [], [])
        flow = SiteFlow(site, args["flow"], check_mode=check)
        try:
            record = flow.run()
        except Exception as exc:  # noqa: BLE001 - a bug; its text may echo a request, so not shown
            site_entry = entry("failed", "Unexpected %s in the %s flow of this site; this is a toolkit bug, "
                               "please report it." % (type(exc).__name__, args["flow"]), {}, {})
            result["frames"] = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            return self._finish(result, host, site_entry, [], flow.record.warnings)
        finally:
            flow.close()
        return self._finish(result, host, outcome(record), record.diffs, record.warnings)

    @staticmethod
    def _finish(result, host, site_entry, diffs, warnings):
        result.update(changed=site_entry["status"] == "changed", status=site_entry["status"],
                      reason=site_entry["reason"])
        if diffs:
            result["diff"] = diffs
        if warnings:
            result["warnings"] = warnings
        if host and report.available():
            report.keep(host, site_entry)
        else:
            result["site"] = site_entry
        return result


def _load_before_fork():
    """Load, in the controller, what every worker would otherwise load again: the filter and
    test plugins a task's conditions use, and create the run's report directory.

    Ansible imports action plugins in the controller when the strategy looks them up, before
    it forks a worker per task and host, so workers inherit what is loaded here (measured:
    ~20 ms CPU per task and host otherwise).
    """
    for loader in (filter_loader, test_loader):
        for _plugin in loader.all(class_only=True):
            pass
    report.start()


_load_before_fork()
