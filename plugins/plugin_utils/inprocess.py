"""Run this collection's API modules inside the Ansible worker instead of a new interpreter.

The modules only talk HTTP to remote APIs from the controller, so packing them with
AnsiballZ and starting a fresh Python per task and host (0.15-0.25 s each) buys nothing and
dominates a no-change run over hundreds of sites. Each `plugins/action/<module>.py` reuses
this class: the module file stays the documented entry point and its main() runs unchanged,
with arguments and results going through the same JSON profile as a normal execution, so
check mode, diff, no_log scrubbing, warnings and failures behave identically.

Hosts that are not local (or `toolkit_inprocess: false`) fall back to the normal
module execution.
"""
import importlib
import json
from unittest import mock

from ansible.module_utils import _internal, basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report_spool

PROFILE = "legacy"  # the serialization profile AnsiballZ uses for AnsibleModule modules


class InProcessModuleAction(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        module_name = self._task.resolved_action or self._task.action
        return merge_hash(result, self._run_module(module_name, dict(self._task.args), task_vars))

    def _run_module(self, module_name, args, task_vars, check_mode=None, diff=None):
        """The module's result for these arguments, in process when allowed; check_mode and
        diff, when given, override the task's for this one run."""
        saved = self._task.check_mode, self._task.diff
        try:
            if check_mode is not None:
                self._task.check_mode = check_mode
            if diff is not None:
                self._task.diff = diff
            if not self._in_process_allowed(task_vars):
                return self._execute_module(module_name=module_name, module_args=args, task_vars=task_vars)
            self._update_module_args(module_name, args, task_vars)
            return self._run_in_process(module_name, args)
        finally:
            self._task.check_mode, self._task.diff = saved

    def _in_process_allowed(self, task_vars):
        local = self._connection.transport in ("local", "ansible.builtin.local")
        return local and boolean(task_vars.get("toolkit_inprocess", True), strict=False)

    def _run_in_process(self, module_name, args):
        namespace, collection, short = module_name.split(".", 2)
        module = importlib.import_module(f"ansible_collections.{namespace}.{collection}.plugins.modules.{short}")
        encoded = json.dumps({"ANSIBLE_MODULE_ARGS": args},
                             cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)).encode()
        recorded = []

        def record(_module, result):
            encoder = get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)
            recorded.append(json.dumps(result, cls=encoder))

        # As in a module process: warnings and deprecations are collected into the result
        # (not shown by the controller's display), starting empty for every loop item.
        with mock.patch.object(basic, "_ANSIBLE_ARGS", encoded), \
                mock.patch.object(basic, "_ANSIBLE_PROFILE", PROFILE), \
                mock.patch.object(basic.AnsibleModule, "_record_module_result", record), \
                mock.patch.object(_internal, "is_controller", False), \
                mock.patch.dict(module_warnings._global_warnings, clear=True), \
                mock.patch.dict(module_warnings._global_deprecations, clear=True):
            try:
                module.main()
            except SystemExit:
                pass
            except Exception as exc:  # noqa: BLE001 - same outcome as a crashed module process
                return {"failed": True, "msg": f"MODULE FAILURE: {type(exc).__name__} in {module_name}"}
        if not recorded:
            return {"failed": True, "msg": f"MODULE FAILURE: {module_name} returned no result"}
        data = self._parse_returned_data({"stdout": recorded[-1], "stderr": "", "rc": 0}, PROFILE)
        remove_internal_keys(data)
        return data


def _prepare_before_fork():
    """Load, in the controller, the filter and test plugins every worker would load again
    (Ansible's own and this collection's) and the JSON profile the modules' arguments and
    results go through; and create the run's report spool (report_spool.py).

    This module is imported when the strategy loads the action classes, before the workers
    fork, so what it loads here is inherited by every worker (measured: ~20 ms CPU per task
    and host otherwise).
    """
    from ansible.plugins.loader import filter_loader, test_loader
    for loader in (filter_loader, test_loader):
        for _plugin in loader.all(class_only=True):
            pass
    filter_loader.get("ocerra.acumatica.site_outcome")
    report_spool.start()
    for direction in (Direction.CONTROLLER_TO_MODULE, Direction.MODULE_TO_CONTROLLER):
        get_module_encoder(PROFILE, direction)  # imports the serialization profile's modules


_prepare_before_fork()
