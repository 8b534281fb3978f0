# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Sites done out of the total, and the time left, during a fleet run."""

DOCUMENTATION = r"""
name: progress
type: aggregate
short_description: Sites done out of the total and the time left, at a bounded rate
description:
  - During each site task of the toolkit (M(ocerra.acumatica.site)), prints how many sites are
    done out of the run's total, how many failed, the time so far and an estimate of the time
    left (from the pace so far), at most once per O(interval) seconds and once when the last
    site is done. The per-site lines of the stdout callback are unchanged.
  - The total is the number of sites the run's report was started for
    (M(ocerra.acumatica.site_report) with C(state=started)).
  - Enabled by the toolkit's C(ansible.cfg) (C(callbacks_enabled = ocerra.acumatica.progress));
    AWX uses a project's C(ansible.cfg), so its job output shows the lines too.
author: Ocerra (@Ocerra)
version_added: 0.2.0
requirements:
  - enable in configuration
options:
  interval:
    description: The least number of seconds between two progress lines.
    type: float
    default: 10
    env:
      - name: OCERRA_ACUMATICA_PROGRESS_INTERVAL
    ini:
      - section: callback_ocerra_acumatica_progress
        key: interval
"""

import time

from ansible.plugins.callback import CallbackBase

SITE_ACTIONS = ("ocerra.acumatica.site", "site")
REPORT_ACTIONS = ("ocerra.acumatica.site_report", "site_report")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "ocerra.acumatica.progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._total = None          # the sites the run's report was started for
        self._task = None           # the site task going on: its name, start, done, failed, last line
        self._interval = 10.0

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._interval = max(0.0, float(self.get_option("interval")))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task = None
        if task.action in SITE_ACTIONS:
            self._task = {"name": task.name or task.action, "started": time.monotonic(), "done": 0, "failed": 0,
                          "printed": None}

    def v2_runner_on_ok(self, result):
        task = result._task
        if task.action in REPORT_ACTIONS and result._result.get("sites") is not None:
            self._total = result._result["sites"]
        self._site_done(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._site_done(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._site_done(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._site_done(result, failed=False)

    def _site_done(self, result, failed):
        task = self._task
        if task is None or result._task.action not in SITE_ACTIONS:
            return
        task["done"] += 1
        task["failed"] += failed
        now = time.monotonic()
        last = task["done"] >= (self._total or 0)
        if not last and task["printed"] is not None and now - task["printed"] < self._interval:
            return
        task["printed"] = now
        self._display.display(_line(task, self._total, now - task["started"]))


def _line(task, total, elapsed):
    done = task["done"]
    of = " of %d" % total if total else ""
    failed = ", %d failed" % task["failed"] if task["failed"] else ""
    left = ""
    if total and total > done:
        left = ", about %s left" % _duration(elapsed / done * (total - done))
    return "[progress] %d%s site(s) done%s, %s so far%s (%s)" % (done, of, failed, _duration(elapsed), left,
                                                                 task["name"][:60])


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    hours, rest = divmod(seconds, 3600)
    return "%dh%02dm" % (hours, rest // 60)
