"""Count, per host, the task results of a run (for the benchmark's floor playbook).

Enabled by bench/run.py for every measured run alike (ANSIBLE_CALLBACKS_ENABLED); writes
{"hosts": {host: {"tasks", "ok", "changed", "skipped", "failed", "unreachable", "items"}},
 "task_names": [...], "task_wall_s": {name: seconds}} to the file named by
$BENCH_TASK_COUNT_FILE when the play ends. A task's wall time runs from its start to its last
result over all hosts (the linear strategy runs each task on every host before the next).

A "task" is one task result for one host (v2_runner_on_ok / _failed / _skipped /
_unreachable fire once per task and host, a loop included); "items" counts the loop items
inside those tasks. Skipped tasks count as tasks: Ansible still forks a worker for them and
evaluates their condition there.
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_task_count
    type: aggregate
    short_description: count task results per host for bench/run.py
    description: Writes per-host task counts to $BENCH_TASK_COUNT_FILE at the end of the run.
    requirements: [enable in configuration]
"""

KEYS = ("tasks", "ok", "changed", "skipped", "failed", "unreachable", "items")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._hosts = defaultdict(lambda: dict.fromkeys(KEYS, 0))
        self._names = []
        self._times = {}  # task name -> [first start, last result]

    def _count(self, result, outcome):
        entry = self._hosts[result._host.get_name()]
        entry["tasks"] += 1
        entry[outcome] += 1
        if outcome == "ok" and result._result.get("changed"):
            entry["changed"] += 1
        name = result._task.get_name()
        if name not in self._names:
            self._names.append(name)
        self._times.setdefault(name, [time.monotonic()] * 2)[1] = time.monotonic()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._times.setdefault(task.get_name(), [time.monotonic(), time.monotonic()])

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def _item(self, result):
        self._hosts[result._host.get_name()]["items"] += 1

    v2_runner_item_on_ok = v2_runner_item_on_failed = v2_runner_item_on_skipped = _item

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TASK_COUNT_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"hosts": dict(self._hosts), "task_names": self._names,
                       "task_wall_s": {n: round(end - start, 3) for n, (start, end) in self._times.items()}},
                      handle)
