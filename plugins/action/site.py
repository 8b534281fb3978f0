# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Action for ocerra.acumatica.site: one site's whole flow in one task.

Reads the host's site variables (plugin_utils/site_vars.py), runs the flow
(plugin_utils/site_flow.py) in this worker, builds the site's report entry from the steps the
flow recorded (plugin_utils/site_outcome.py) and writes it next to the run's report
(plugin_utils/report.py); a degraded or failed site fails the task. Only public ansible-core
interfaces are used: ActionBase, the task's arguments, check and diff flags, and the templar.

SIGINT and SIGTERM (Ctrl-C, a CI cancel: ansible-playbook forwards them to its workers) stop
the flow at once; every open session is signed out, the journal records where it stopped,
the site's entry is written, and then the signal takes its course.
"""
import os
import signal
import traceback

from ansible.errors import AnsibleError

from ansible_collections.ocerra.acumatica.plugins.module_utils.secrets import Secrets
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import plan, report
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction, missing_http
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import default_state_dir
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import FLOWS, PHASES, Interrupted
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_flow import NOT_HELD, SiteFlow
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_outcome import entry, outcome
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import SiteVariableError, site_of

SIGNALS = (signal.SIGINT, signal.SIGTERM)
BROKEN = ("degraded", "failed")     # the statuses that fail the task, so the exit status says so


class ActionModule(ControllerAction):
    # Without requests each site is reported failed (below), so the run's report still finishes.
    NEEDS_HTTP = False
    ARGUMENT_SPEC = {
        "flow": {"type": "str", "choices": list(FLOWS), "default": "provision"},
        "report": {"type": "path"},
        "state_dir": {"type": "path"},
        "lock_wait": {"type": "int", "default": 60},
        "lease_seconds": {"type": "int", "default": 600},
        "phase": {"type": "str", "choices": list(PHASES), "default": "apply"},
        "force": {"type": "bool", "default": False},
        "validation": {"type": "str", "default": "toolkit_validation"},
        "plan": {"type": "path"},
    }
    # The role's documented variables (meta/argument_specs.yml) and rotate.yml's rotate_force.
    VARIABLES = {"flow": "toolkit_flow", "report": "toolkit_report_path", "state_dir": "toolkit_state_dir",
                 "lock_wait": "toolkit_lock_wait", "lease_seconds": "toolkit_lease_seconds", "force": "rotate_force",
                 "plan": "toolkit_plan"}
    # A lease of 0 seconds would expire as it is taken; not waiting at all (0) is allowed.
    MINIMUMS = {"lock_wait": 0, "lease_seconds": 1}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.begin(tmp, task_vars)
        args["report"] = args["report"] or report.default_path()
        host = task_vars.get("inventory_hostname")
        missing = missing_http()
        if missing:
            site_entry = entry("failed", missing + "; nothing was sent to this site.", {}, {})
            return self._finish(result, args, host, site_entry, [], [], Secrets())
        # validate_sites' registered result (per_site: true) names the sites it refused; read
        # as it is, not templated, since it holds every site's errors.
        validation = task_vars.get(args["validation"]) or {}
        invalid = (validation.get("invalid") or {}).get(host)
        try:
            if invalid:
                raise SiteVariableError("; ".join(invalid))
            site = site_of(host, task_vars, self._templar.template, (validation.get("secret_sources") or {}).get(host))
        except SiteVariableError as exc:
            site_entry = entry("failed", "The site's inventory variables are invalid, so nothing was sent to "
                               "it: %s. Fix them (./run validate) and run again." % exc, {}, {})
            return self._finish(result, args, host, site_entry, [], [], Secrets())
        except AnsibleError as exc:
            site_entry = entry("failed", "The site's variables could not be evaluated: %s. Fix the inventory "
                               "(./run validate) and run again." % exc.message, {}, {})
            return self._finish(result, args, host, site_entry, [], [], Secrets())
        try:
            planned = self._planned(args, host, task_vars.get("toolkit_report_playbook") or args["flow"])
        except ValueError as exc:
            site_entry = entry("failed", "%s; nothing was sent to this site." % exc, {}, {})
            return self._finish(result, args, host, site_entry, [], [], Secrets())
        flow = SiteFlow(site, args["flow"], check_mode=bool(self._task.check_mode),
                        state_dir=args["state_dir"] or default_state_dir(), lock_wait=args["lock_wait"],
                        controller_pid=os.getppid(), phase=args["phase"], force=args["force"],
                        lease_seconds=args["lease_seconds"], planned=planned)
        caught = []
        previous = {signum: signal.signal(signum, _raiser(caught)) for signum in SIGNALS}
        status = None
        try:
            try:
                record = flow.run()
            except Interrupted as stop:      # between two steps: stopped before the next one
                flow.record.interrupted = stop.signum
                record = flow.record
            site_entry = outcome(record)
            status = site_entry["status"]
        except Exception as exc:  # noqa: BLE001 - a bug; its text may echo a request, so not shown
            site_entry = entry("failed", "Unexpected %s in the %s flow of this site; this is a toolkit bug, "
                               "please report it." % (type(exc).__name__, args["flow"]), {}, {})
            result["frames"] = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        finally:
            for signum in SIGNALS:          # cleanup is not interrupted again
                signal.signal(signum, lambda number, frame: caught.append(number))
            flow.close(status)
        self._finish(result, args, host, site_entry, flow.record.diffs, flow.record.warnings, flow.secrets)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:                          # now that sessions are closed, let it take its course
            os.kill(os.getpid(), caught[0])
        return result

    @staticmethod
    def _planned(args, host, playbook):
        """The site's entry of the saved plan the run is held to, or NOT_HELD."""
        if not args["plan"]:
            return NOT_HELD
        saved = plan.load(args["plan"])
        if saved.get("playbook") != playbook:
            raise ValueError("The saved plan %s was made by a %s run, not %s" % (args["plan"], saved.get("playbook"),
                                                                                 playbook))
        return saved["sites"].get(host)

    @staticmethod
    def _finish(result, args, host, site_entry, diffs, warnings, secrets):
        """The task's result and the site's report entry, both through the site's scrubber:
        whatever a service echoed (an error quoting a submitted password) never leaves."""
        site_entry, diffs, warnings = secrets.scrub_all([site_entry, diffs, warnings])
        result.update(changed=site_entry["status"] == "changed", status=site_entry["status"],
                      reason=site_entry["reason"])
        if site_entry["status"] in BROKEN:
            result.update(failed=True, msg="%s is %s: %s" % (host, site_entry["status"], site_entry["reason"]))
        if diffs:
            result["diff"] = diffs
        if warnings:
            result["warnings"] = warnings
        if host and args["report"]:
            report.keep(args["report"], host, site_entry)
        else:
            result["site"] = site_entry
        return result


def _raiser(caught):
    """The first signal stops the flow where it is; later ones (ansible-playbook may pass one
    on more than once) only wait for the cleanup."""
    def handler(signum, frame):
        caught.append(signum)
        if len(caught) == 1:
            raise Interrupted(signum)
    return handler
