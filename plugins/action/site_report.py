# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Action for ocerra.acumatica.site_report: the run's report, once per run, at its start
(every site marked running) and at its end (every site's entry merged; one line per site
returned for printing). Written in check mode too: it is the plan (plugin_utils/report.py).
"""
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report, run_dir
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_outcome import summary_lines, summary_stats


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"path": {"type": "path"}, "playbook": {"type": "str", "required": True},
                     "state": {"type": "str", "choices": ["started", "finished"], "default": "finished"},
                     "registered": {"type": "str", "default": "toolkit_site"},
                     "plan_out": {"type": "path"}}
    VARIABLES = {"plan_out": "toolkit_plan_out"}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        hosts = task_vars.get("ansible_play_hosts_all") or []
        check = bool(self._task.check_mode)
        args["path"] = args["path"] or report.default_path()
        if args["plan_out"] and not check:
            result.update(failed=True, msg="toolkit_plan_out saves a plan: run the playbook with --check (and "
                                           "apply it with -e toolkit_plan=FILE).")
            return result
        try:
            if args["state"] == "started":
                run_dir.remove_stale()
                report.start(args["path"], hosts, args["playbook"], check)
                result.update(changed=False, path=args["path"], sites=len(hosts))
                return result
            entries = {h: self._registered(task_vars, h, args["registered"]) for h in hosts}
            run_dir.remove()       # the run's shared folder: its last task is this one
            run_report = report.finish(args["path"], hosts, args["playbook"], check, entries, args["plan_out"])
        except OSError as exc:
            result.update(failed=True, msg="Cannot write the report to %s: %s" % (
                exc.filename or args["path"], exc.strerror or exc))
            return result
        result.update(changed=False, path=args["path"], lines=summary_lines(run_report),
                      stats=summary_stats(run_report))
        return result

    @staticmethod
    def _registered(task_vars, host, name):
        """A site's entry from its site task's result (when it was not written to the report)."""
        registered = (task_vars.get("hostvars") or {}).get(host, {}).get(name)
        return registered.get("site") if isinstance(registered, dict) else None
