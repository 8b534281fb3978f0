#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
# The work is done by the action plugin of the same name (plugins/action/validate_sites.py);
# this file documents it for ansible-doc.

DOCUMENTATION = r"""
module: validate_sites
short_description: Validate the sites' inventory variables offline before any network call
description:
  - Checks the variables of every host of the play (one host per MYOB Acumatica site) against
    the collection's JSON Schema C(schemas/site.schema.json), and the rules a schema cannot
    express, then fails with one line per problem, naming the file, line, host and JSON
    pointer of the bad value and what was expected.
  - Only variables whose names start with C(erp_), C(api_user_) or C(ocerra_) are checked;
    an unknown one (a typo such as C(erp_tenent)) is an error.
  - "Also rejected: an API user password that breaks the MYOB 2023.1.3 policy (at least 14
    characters with an upper-case letter, a lower-case letter and a digit or symbol; no
    control characters); two hosts for the same site (same C(erp_url), ignoring host case and a
    trailing slash, and same C(erp_tenant), ignoring case); an Ocerra entity listed under two
    sites; an entity password that differs from C(api_user_password); an API user login equal
    to C(erp_admin_user); an C(erp_url) or C(ocerra_url) that is C(http://) to a host other than
    loopback, holds a user or password, has a port outside 1-65535, an invalid host, C(..)
    segments or an API path (C(/entity/...), C(/api)); logins, tenants and names with control
    characters or surrounding spaces, or longer than the services take."
  - "Inventory files are read by the validator itself before their values are judged: a file
    over 2 MB, nested deeper than 64 levels, with aliases that expand beyond 200,000 values (a
    YAML bomb) or with a key written twice in one mapping is an error naming the file and line."
  - "A variable the inventory leaves unset is taken from the environment variable the modules
    fall back to (E(ACUMATICA_URL), E(ACUMATICA_TENANT), E(ACUMATICA_ADMIN_USER),
    E(ACUMATICA_ADMIN_PASSWORD), E(OCERRA_URL), E(OCERRA_USERNAME), E(OCERRA_PASSWORD)), as the
    site engine does: how AWX and CI inject credentials. Extra vars are seen like any variable."
  - C(erp_validate_certs=false) or C(ocerra_validate_certs=false) is a warning, not an error.
  - Secrets (C(erp_admin_password), C(api_user_password), C(ocerra_password) and entity
    passwords) must come from Ansible Vault (C(!vault)) or a Jinja expression (C({{ ... }})).
    A secret written as plain text in an inventory YAML file is an error. No message ever
    contains a secret's value.
  - Values are read as written, without templating, so no lookup runs and nothing is sent over
    the network. A template made only of C({{ variable }}) references is followed; any other
    expression is accepted as present but not checked (see RV(unchecked)).
  - Meant as the first task of every playbook, with C(run_once=true). The same checks run
    without Ansible through C(./run validate).
author: Ocerra (@Ocerra)
version_added: 0.1.0
requirements:
  - jsonschema (in the controller's Python)
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
    details: It validates every host of the play from one host's task; use O(hosts) or C(run_once).
  check_mode:
    support: full
    details: It never changes anything; it validates the same way in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller only.
options:
  hosts:
    description:
      - The inventory hosts to validate together.
      - Default is every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  per_site:
    description:
      - V(false) fails the task when any site is invalid, so a play stops before any network
        call.
      - V(true) never fails it for a site's errors and returns the invalid sites in
        RV(invalid) instead, so that each fails alone (the role C(ocerra.acumatica.toolkit) and
        M(ocerra.acumatica.site) do this) while the valid ones run.
    type: bool
    default: false
  secrets:
    description:
      - V(true) decrypts vaulted values with the run's vault secrets and checks them too (the
        API user password's policy, entity passwords equal to it).
      - V(false) decrypts nothing and leaves those checks to each site's task, which makes them
        once Ansible has decrypted the site's values for its own use, before any request (the
        role C(ocerra.acumatica.toolkit) does this, so that a run decrypts each value once).
    type: bool
    default: true
notes:
  - The duplicate checks see only the hosts validated together; run C(./run validate) to check
    a whole inventory, including hosts left out by C(--limit).
  - Only YAML inventory files, C(group_vars/) and C(host_vars/) next to the inventory are read
    for the plain-text rule and for file names and lines.
seealso:
  - name: The site schema
    description: Every variable, its type, default and meaning.
    link: https://example.invalid/ocerra-acumatica-toolkit/site.schema.json
"""

EXAMPLES = r"""
- name: Provision the Ocerra API user of every site
  hosts: all
  gather_facts: false
  tasks:
    - name: Validate the inventory before any network call
      ocerra.acumatica.validate_sites:
      run_once: true

- name: Validate only some hosts
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Validate the sites of region_au
      ocerra.acumatica.validate_sites:
        hosts: "{{ groups['region_au'] }}"
"""

RETURN = r"""
msg:
  description: A summary, and on failure every error, one per line.
  returned: always
  type: str
  sample: "1 error(s) in the sites' inventory variables:\ninventories/x/host_vars/acme.yml:4: acme: /erp_tenent: unknown variable; did you mean 'erp_tenant'?"
invalid:
  description: With O(per_site=true), each invalid site and its errors, one line each.
  returned: when O(per_site=true)
  type: dict
  sample: {acme: ["inventories/x/host_vars/acme.yml:4: acme: /erp_tenent: unknown variable; did you mean 'erp_tenant'?"]}
errors:
  description: One entry per problem (also listed in RV(msg), one per line). Never contains a secret.
  returned: when a site is invalid
  type: list
  elements: dict
  contains:
    file:
      description: The file that defines the bad value (the host's inventory file when it is missing), if known.
      type: str
    line:
      description: Line of the bad value in RV(errors[].file), if known.
      type: int
    host:
      description: The inventory host, or for a file problem the host or group the file belongs to.
      type: str
    pointer:
      description: JSON pointer of the bad value among the host's variables, for example C(/ocerra_entities/1/client_id).
      type: str
    message:
      description: What was expected.
      type: str
  sample:
    - {file: inventories/x/host_vars/acme.yml, line: 12, host: acme, pointer: /ocerra_entities/1/client_id,
       message: "must be a GUID such as 6f1c2d3e-0000-4000-8000-000000000001 (got \"12\")"}
secret_sources:
  description:
    - With O(secrets=false), where each site's secret variables (and C(ocerra_entities)) are
      written, so that each site's task names the file and line of a secret it finds wrong.
  returned: when O(secrets=false)
  type: dict
  sample: {acme: {api_user_password: {file: inventories/x/host_vars/acme.yml, lines: {/api_user_password: 7}}}}
sites:
  description: The hosts validated.
  returned: always
  type: list
  elements: str
  sample: [acme, bravo]
unchecked:
  description: Values present but not checkable offline (vaulted without a usable vault secret, or Jinja expressions evaluated only at run time).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The inventory host.
      type: str
    pointer:
      description: JSON pointer of the value.
      type: str
    reason:
      description: C(vault) or C(template).
      type: str
  sample: [{host: acme, pointer: /api_user_password, reason: template}]
"""
