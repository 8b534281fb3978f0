# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Action for ocerra.acumatica.site_report: the run's summary, once per run.

Collects the entry every site kept (plugin_utils/report.py), returns one line per site and
writes the whole report as JSON on the controller (in check mode too: it is the plan).
"""
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_outcome import report_lines


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"path": {"type": "path", "required": True}, "playbook": {"type": "str", "required": True},
                     "registered": {"type": "str", "default": "toolkit_site"}}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        hosts = task_vars.get("ansible_play_hosts_all") or []
        entries = {host: report.kept(host) or self._registered(task_vars, host, args["registered"])
                   for host in hosts}
        run_report = report.build(entries, args["playbook"], self._task.check_mode)
        try:
            report.write(args["path"], run_report)
        except OSError as exc:
            result.update(failed=True, msg="Cannot write the report to %s: %s" % (args["path"], exc.strerror or exc))
            return result
        result.update(changed=False, path=args["path"], lines=report_lines(run_report))
        return result

    @staticmethod
    def _registered(task_vars, host, name):
        """A site's entry from its site task's result, when the run's directory was not there."""
        registered = (task_vars.get("hostvars") or {}).get(host, {}).get(name)
        return registered.get("site") if isinstance(registered, dict) else None
