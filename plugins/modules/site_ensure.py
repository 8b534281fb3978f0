#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
# The work is done by the action plugin of the same name (plugins/action/site_ensure.py);
# this file documents it for ansible-doc.

DOCUMENTATION = r"""
module: site_ensure
short_description: Ensure a site's API user and read its Ocerra entities in one task, from the site's variables
description:
  - The first step of C(playbooks/provision.yml) for one site (one inventory host), in one task
    instead of two role tasks, because a no-change run over hundreds of sites is dominated by
    per-task and per-argument costs.
  - Runs M(ocerra.acumatica.erp_user) with the options that C(ocerra.acumatica.api_user)'s
    C(ensure) tasks give it, with O(ocerra.acumatica.erp_user#module:defer_password_change=true).
    The user is created with its password when missing, roles, licence, Password Never Expires
    and enabled are set, and a needed change of an existing user's password is only reported.
  - Then, unless every entity gets the password anyway, reads each entity of C(ocerra_entities)
    with M(ocerra.acumatica.ocerra_connection) in check mode (one GET each, no write, no
    connection test), as C(ocerra.acumatica.ocerra_entities)'s C(probe) tasks do.
  - Takes no options. It reads the host's variables of C(schemas/site.schema.json) (C(erp_*),
    C(api_user_*), C(ocerra_*)) directly, with the schema's defaults for unset ones, and
    templates each one it uses; validate them first with M(ocerra.acumatica.validate_sites).
  - Says what the site still needs in RV(next). When that is nothing, it also records the
    site's outcome (RV(site)) as the role C(ocerra.acumatica.site_report)'s C(outcome) would,
    for that role's C(summary).
author: Ocerra Acumatica toolkit team
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
  check_mode:
    support: full
    details: The ERP user is checked in check mode (nothing written); the entity reads never write.
  diff_mode:
    support: full
    details: The diff is the ERP user's (M(ocerra.acumatica.erp_user)'s).
  platform:
    platforms: all
    details: Runs on the controller. With C(toolkit_inprocess=false) or a connection other
      than local, each module runs as a normal module execution.
options: {}
notes:
  - A no-change run sends each site the requests of M(ocerra.acumatica.erp_user) (at most five)
    and one per entity given by C(client_id).
  - Passwords are never returned; an entity's C(password) (equal to C(api_user_password) by
    validation) is not read.
seealso:
  - module: ocerra.acumatica.erp_user
  - module: ocerra.acumatica.ocerra_connection
  - module: ocerra.acumatica.validate_sites
"""

EXAMPLES = r"""
- name: The API user and the entity reads of every site
  ocerra.acumatica.site_ensure:
  register: toolkit_check

- name: Connect the entities that need it, or change the password in the safe order
  ansible.builtin.include_tasks: "tasks/{{ toolkit_check.next }}.yml"
  when: toolkit_check.next != 'done'
"""

RETURN = r"""
next:
  description:
    - What the site still needs. V(done) nothing (RV(site) holds its outcome); V(connect) some
      entity needs its settings or the password (every entity's password when the user was
      just created); V(safe_order) the ERP password must change, so every entity is switched
      off first; V(failed) a step failed (RV(msg)).
  returned: always
  type: str
  sample: done
status:
  description: The site's status, V(ok) or V(changed), when nothing is left to do.
  returned: when RV(next=done)
  type: str
  sample: ok
site:
  description:
    - The site's outcome, as the site_report role's C(outcome) records it.
    - Normally kept out of the registered result, in the run's report spool on the controller
      (read by the site_report role's C(summary) with C(toolkit_report_registered)), so that
      memory does not grow with the number of sites; returned here only when the action runs
      in a process that did not inherit the spool.
  returned: when RV(next=done) and the spool is not available
  type: dict
  contains:
    status:
      description: V(ok) or V(changed).
      type: str
    reason:
      description: What was found or done, in words.
      type: str
    erp:
      description: The ERP side of the report entry.
      type: dict
    entities:
      description: Each entity's report entry, by client_id or name.
      type: dict
  sample: {status: ok, reason: "API user OcerraAPI in sync; 2 of 2 entities Connected.", erp: {}, entities: {}}
erp:
  description: The result of M(ocerra.acumatica.erp_user) (no password in it).
  returned: when RV(next) is not V(done)
  type: dict
probe:
  description:
    - The entity reads, shaped as a registered loop of M(ocerra.acumatica.ocerra_connection)
      (C(results), one per entity, each with its C(item)).
  returned: when RV(next) is V(connect), V(safe_order), or V(failed) after the ERP step
  type: dict
msg:
  description: Why the site failed (the ERP step's message, or each entity's).
  returned: failure
  type: str
"""
