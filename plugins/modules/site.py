#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
# The work is done by the action plugin of the same name (plugins/action/site.py); this file
# documents it for ansible-doc.

DOCUMENTATION = r"""
module: site
short_description: Run one site's whole flow (provision, restore, report or publish) in one task
description:
  - The step every playbook of the toolkit runs per site (one inventory host per MYOB
    Acumatica instance + tenant), from the host's variables of C(schemas/site.schema.json)
    (C(erp_*), C(api_user_*), C(ocerra_*)), with the schema's defaults for unset ones. Validate
    them first with M(ocerra.acumatica.validate_sites).
  - Python end to end in the Ansible worker, in one ERP admin session (signed out on every
    path) and one Ocerra client, with the same engines as M(ocerra.acumatica.erp_user) and
    M(ocerra.acumatica.ocerra_connection). Every step is recorded as it is taken; the site's
    outcome (RV(status), RV(reason)) is built from those steps and from what was read.
  - V(provision) makes the API user match the inventory (roles, licence, Password Never
    Expires, enabled; created with its password when missing, an existing user's password
    checked by one sign-in as it), reads every entity of C(ocerra_entities) and connects those
    that need it. When the ERP password must change it follows the safe order every entity
    switched off, the ERP password reset, pushed to every entity, switched back on, verified.
  - V(restore) reads the API user and every entity that signs in to the site with its login
    (listed or not), then resets the password in the safe order, unlocking the user and
    clearing a forced change.
  - V(report) reads both systems and writes nothing.
  - V(publish) publishes the User endpoint when this release's digest is not the published one
    (only checks it where C(erp_publish_endpoint) is false).
  - V(rotate) rotates the password of a site whose password is kept in its password store
    (C(api_user_password_store=vault_file)); see O(phase).
  - With a password store, every flow uses the store's pending password when there is one (a
    rotation to finish), else its current one, and makes a pending password current once the
    ERP and every entity hold it.
  - A site whose store holds nothing and whose inventory gives no C(api_user_password) (nobody
    knows the API user's password, as on an adopted site) is taken over by V(provision) and
    V(rotate) - a generated password stored as pending first, the ERP password reset as the
    admin (never a sign-in with an unknown password), verified, given to every entity, promoted.
  - Failed sign-ins of the ERP admin and the Ocerra service user are remembered in O(state_dir)
    across runs, check mode included; a password that failed is not tried again within the
    lock-out window, and none once the failures reach the threshold minus one.
  - The outcome is kept for M(ocerra.acumatica.site_report). The task fails for a degraded or
    failed site (RV(status), RV(reason) and C(msg) say why), so the play's exit status says
    so; run M(ocerra.acumatica.site_report) under C(always:) to finish the report whichever
    sites failed, as the role C(ocerra.acumatica.toolkit) does.
author: Ocerra (@Ocerra)
version_added: 0.1.0
requirements:
  - requests (in the controller's Python)
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
  check_mode:
    support: full
    details:
      - Sends no write to either system and predicts every step's diff. A provision plan may
        sign in once as the API user to check its password (then signs out).
  diff_mode:
    support: full
    details: One diff per step that changes something (the API user, each entity).
  platform:
    platforms: all
    details: Runs on the controller.
options:
  flow:
    description:
      - Which flow to run. Not given, the variable C(toolkit_flow).
    type: str
    choices: [provision, restore, report, publish, rotate]
    default: provision
  report:
    description:
      - The run's report (see M(ocerra.acumatica.site_report)); the site's entry is written to
        C(<report>.d/<site>.json) as the site finishes.
      - Not given, the variable C(toolkit_report_path), else C(out/report.json) in the current
        directory (never inside the collection, which may be installed read-only).
    type: path
  state_dir:
    description:
      - The folder on the controller with each site's journal and lock, and the failed sign-ins
        of the accounts the toolkit signs in as (no secret in it, salted fingerprints only).
      - Not given, the variable C(toolkit_state_dir), else C($XDG_STATE_HOME/ocerra-acumatica) or
        C(~/.local/state/ocerra-acumatica).
    type: path
  lock_wait:
    description:
      - Seconds to wait for another run on this machine changing the same site's password;
        the run then stops without changing anything.
      - Not given, the variable C(toolkit_lock_wait).
      - With a shared password store, also how long to wait for another machine's lease on the site.
    type: int
    default: 60
  lease_seconds:
    description:
      - With a shared password store (one every controller reads, such as
        C(ocerra.acumatica.hashi_vault)), how long the lease a change takes on the site lasts
        unless renewed; the run renews it at every writing step. A run that was killed lets it
        expire after that long, then a run on any machine finishes its change. At least 1.
      - Not given, the variable C(toolkit_lease_seconds).
    type: int
    default: 600
  phase:
    description:
      - With O(flow=rotate). V(prepare) gives a site that is due (or any, with O(force)) a new
        password, generated to the policy and written to its password store as pending before
        either system is touched (a pending one is kept). V(apply) applies the pending password
        in the safe order, verifies it and makes it the store's current one.
    type: str
    choices: [prepare, apply]
    default: apply
  force:
    description:
      - With O(flow=rotate) and O(phase=prepare), rotate the site now even when it is not due.
        Not given, the variable C(rotate_force) (C(-e rotate_force=true)).
    type: bool
    default: false
  plan:
    description:
      - A saved plan (made by a check-mode run with C(-e toolkit_plan_out=FILE)) this run is held
        to. Before its first write a site is stopped, V(failed) with nothing written, when what
        it reads (the API user, an entity, its inventory settings) differs from what the plan
        read, naming what; when it is not in the plan or the plan could not plan it; or when the
        run would change the API user's password and the plan did not.
      - With O(flow=rotate), plan with both phases (C(rotate.yml --check)).
      - Not given, the variable C(toolkit_plan).
    type: path
  validation:
    description:
      - The variable holding M(ocerra.acumatica.validate_sites)' result with
        O(ocerra.acumatica.validate_sites#module:per_site=true); a site it found invalid fails
        here without any request.
    type: str
    default: toolkit_validation
notes:
  - A no-change V(provision) sends each site at most five ERP requests (the admin's sign-in,
    one read of the user, the API user's verification sign-in and sign-out, the admin's
    sign-out) and one Ocerra request per entity given by C(client_id).
  - Passwords are never returned; an entity's C(password) (equal to C(api_user_password) by
    validation) is not read.
seealso:
  - module: ocerra.acumatica.validate_sites
  - module: ocerra.acumatica.site_report
  - module: ocerra.acumatica.erp_user
  - module: ocerra.acumatica.ocerra_connection
"""

EXAMPLES = r"""
- name: Provision every site of the play (a degraded or failed site fails), then finish the report
  block:
    - name: Provision the site
      ocerra.acumatica.site:
        flow: provision
        report: out/report.json
  always:
    - name: Finish the report
      ocerra.acumatica.site_report:
        path: out/report.json
        playbook: provision
      run_once: true
"""

RETURN = r"""
status:
  description:
    - V(ok) nothing to change (or nothing wrong found); V(changed) something changed (or would,
      in check mode) and the site ends connected; V(degraded) the ERP and Ocerra may disagree
      and a later run finishes it; V(failed) nothing could be done, the reason says what to fix.
  returned: always
  type: str
  sample: ok
reason:
  description: What was found and done, in words a person can act on.
  returned: always
  type: str
  sample: API user OcerraAPI in sync; 2 of 2 entities Connected.
site:
  description:
    - The site's whole report entry (status, reason, erp, entities).
    - Normally written next to the report (O(report)) rather than kept in the result, so that
      the controller's memory does not grow with the number of sites.
  returned: when no report path is known (no O(report), no C(toolkit_report_path), no playbook)
  type: dict
"""
