#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
# The work is done by the action plugin of the same name (plugins/action/site_report.py);
# this file documents it for ansible-doc.

DOCUMENTATION = r"""
module: site_report
short_description: Start and finish the run's report of every site; one line per site
description:
  - Once per run (C(run_once=true)). With O(state=started), before the sites run, the report
    at O(path) is replaced by one whose C(status) is C(running) and whose every site is
    C(running), so a report never outlives the run that wrote it. M(ocerra.acumatica.site)
    then writes each site's entry to C(<path>.d/<site>.json) as the site finishes.
  - With O(state=finished), after M(ocerra.acumatica.site) ran on every host of the play, the
    entries are merged into O(path) (C(status) C(finished)) and one line per site plus the
    counts is returned, for a C(debug) task to print. A host without an entry (it stopped
    before its site task ended) is reported V(failed).
  - After a run that was killed, O(path) still says C(running) and C(<path>.d/) holds the
    entries of the sites that finished.
  - The report is written in check mode too, as the plan.
author: Ocerra (@Ocerra)
version_added: 0.1.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
    details: It reports every host of the play from one host's task; use C(run_once).
  check_mode:
    support: full
    details: The report file is written in check mode too; it changes nothing on the sites.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller only.
options:
  path:
    description:
      - Where to write the JSON report (its folder is created). Default C(out/report.json) in the
        current directory (never inside the collection, which may be installed read-only).
      - Beside it the finished report is also written as JUnit XML (C(report.junit.xml) for
        C(report.json)), one test case per site, a failed or degraded site a failure, and as
        Markdown (C(report.md)), the counts first, then only the sites that change or failed, to
        paste into a pull-request comment; a run that starts removes both.
      - In check mode the report has a C(plan) section, the counts of sites to create, change,
        rotate or publish, blocked, failed and unchanged, then each site's kinds of change and
        its changes (each attribute before and after; a secret only as a placeholder).
    type: path
  plan_out:
    description:
      - Check mode only. Also save the plan to this file, for an apply held to it
        (O(ocerra.acumatica.site#module:plan)). It holds per site the kinds of change and
        digests of what the plan read, never a secret.
      - Default the variable C(toolkit_plan_out).
    type: path
  playbook:
    description: The name the report gives the run (its C(playbook) key).
    type: str
    required: true
  state:
    description: V(started) before the sites run, V(finished) after.
    type: str
    choices: [started, finished]
    default: finished
  registered:
    description:
      - The variable the site task registered, read for a site whose outcome was not kept in
        the run's report directory.
    type: str
    default: toolkit_site
seealso:
  - module: ocerra.acumatica.site
"""

EXAMPLES = r"""
- name: Start the run's report
  ocerra.acumatica.site_report:
    path: out/report.json
    playbook: provision
    state: started
  run_once: true

- name: Each site
  ocerra.acumatica.site:
    flow: provision
    report: out/report.json

- name: Finish the run's report
  ocerra.acumatica.site_report:
    path: out/report.json
    playbook: provision
  run_once: true
  register: summary

- name: Print it
  ansible.builtin.debug:
    msg: "{{ summary.lines }}"
  run_once: true
"""

RETURN = r"""
path:
  description: Where the report was written.
  returned: success
  type: str
sites:
  description: How many sites the report was started for (the progress callback's total).
  returned: when O(state=started)
  type: int
  sample: 200
lines:
  description: One line per site (host, status, reason), then the counts per status.
  returned: when O(state=finished)
  type: list
  elements: str
  sample: ["acme    ok       API user OcerraAPI in sync; 3 of 3 entities Connected.",
           "1 site(s): 1 ok, 0 changed, 0 degraded, 0 failed"]
stats:
  description:
    - The run's summary for C(set_stats) (a job artifact in AWX), nothing secret in it.
  returned: when O(state=finished)
  type: dict
  contains:
    generated: {description: "When the report was written (UTC).", type: str}
    check_mode: {description: "Whether the run was a plan.", type: bool}
    counts: {description: "Sites per status (ok, changed, degraded, failed).", type: dict}
    plan: {description: "In check mode, the plan's counts (sites to create, change, rotate, publish, blocked, failed, unchanged).", type: dict}
    sites: {description: "Each site's status and reason.", type: dict}
"""
