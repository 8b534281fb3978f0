#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
# The work is done by the action plugin of the same name (plugins/action/import_sites.py);
# this file documents it for ansible-doc.

DOCUMENTATION = r"""
module: import_sites
short_description: Build a starting inventory from what Ocerra and the ERPs already have
description:
  - Lists every Ocerra entity the service user can see with its MYOB Acumatica settings,
    groups the entities into sites by ERP URL and tenant (one API user per tenant), and writes
    a starting inventory to the new folder O(dest) - C(hosts.yml), C(group_vars/all.yml), one
    C(host_vars/<site>.yml) per site and C(IMPORT.md) with what to look at.
  - Host names are derived from the URL's host (left out when it is loopback), the instance
    path and the tenant; names two sites would share get a short digest of the site.
  - Where an entry of O(erp_admins) matches a site, the site's API user is read (one admin
    session, signed out) and its roles, licence type, e-mail and names are written as the
    site's desired state, so the first C(provision --check) plans no change for it except what
    the flags in C(IMPORT.md) say.
  - Nothing is written to Ocerra or the ERPs, and no secret is written (Ocerra never returns a
    password). The files carry C(FILL IN) placeholders that C(./run validate) reports as missing.
  - The sites one O(erp_admins) entry matched form a group C(erp_admin_<n>) whose
    C(group_vars/erp_admin_<n>.yml) holds that admin's user and password placeholder once.
  - An inventory is never overwritten. O(dest) must not exist or be empty (checked before
    anything is read). Given O(existing),
    its sites are compared instead of adopted again - the entities they lack and logins that
    differ are listed - and only the other sites are written to O(dest), with host names that
    do not clash, so both can be used together (C(-i existing -i dest)).
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
    details: Reads both services and returns what would be written; writes no file.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller only.
options:
  dest:
    description: The new folder to write the inventory to.
    type: path
    required: true
  existing:
    description: An inventory whose sites are compared rather than written again.
    type: path
  ocerra_url:
    description: Base URL of Ocerra's API.
    type: str
    required: true
  ocerra_username:
    description: The Ocerra service user whose entities are imported.
    type: str
    required: true
  ocerra_password:
    description: Its password.
    type: str
    required: true
  ocerra_validate_certs:
    description: Verify Ocerra's TLS certificate.
    type: bool
    default: true
  ocerra_ca_path:
    description: A CA bundle for Ocerra's certificate.
    type: path
  erp_admins:
    description:
      - ERP admin credentials by URL pattern; the first entry whose O(erp_admins[].url) and
        O(erp_admins[].tenant) patterns match a site's base URL and tenant is used to read its
        API user. Sites no entry matches are written without the API user's details.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: A shell-style pattern of the base URL, e.g. V(https://*.myobadvanced.com).
        type: str
        required: true
      tenant:
        description: A shell-style pattern of the tenant.
        type: str
        default: "*"
      user:
        description: The admin's login.
        type: str
        required: true
      password:
        description: The admin's password.
        type: str
        required: true
      validate_certs:
        description: Verify the ERP's TLS certificate.
        type: bool
        default: true
      ca_path:
        description: A CA bundle for the ERP's certificate.
        type: path
  password_store:
    description:
      - The password store every imported site keeps its API user's password in (the value of
        C(api_user_password_store), e.g. C(vault_file) or C(ocerra.acumatica.hashi_vault)),
        written to C(group_vars/all.yml). No C(api_user_password) placeholder is written then, and
        the first provision takes each site over (a generated password, stored first, set in the
        ERP as the admin and given to every entity).
      - The plugin and its options are checked before anything is read.
    type: str
  password_store_options:
    description: The store's options (C(api_user_password_store_options)).
    type: dict
  password_vault_id:
    description: The vault id of a C(vault_file) store (C(api_user_password_vault_id)).
    type: str
  state_dir:
    description:
      - The controller's state folder, where failed sign-ins of the admins and the Ocerra
        service user are remembered across runs, so an import run again with a wrong password
        does not lock the account. Defaults to the variable C(toolkit_state_dir), else
        C($XDG_STATE_HOME/ocerra-acumatica).
    type: path
  timeout:
    description: Seconds per request.
    type: int
    default: 30
seealso:
  - module: ocerra.acumatica.validate_sites
"""

EXAMPLES = r"""
- name: Import every site the service user sees
  ocerra.acumatica.import_sites:
    dest: inventories/imported
    ocerra_url: https://api.ocerra.com
    ocerra_username: svc@partner.example
    ocerra_password: "{{ vault_ocerra_password }}"
    erp_admins:
      - url: "https://*.myobadvanced.com"
        user: partner-admin
        password: "{{ vault_erp_admin_password }}"
  register: imported

- name: Print what was imported
  ansible.builtin.debug:
    msg: "{{ imported.lines }}"
"""

RETURN = r"""
dest:
  description: The folder written (or that would be, in check mode).
  returned: success
  type: str
files:
  description: The files written, relative to O(dest).
  returned: success
  type: list
  elements: str
sites:
  description: Per new site (host name) its ERP URL, tenant, login, entity count, whether the API user was read, and its flags.
  returned: success
  type: dict
differences:
  description: What the existing inventory lacks or has otherwise than Ocerra.
  returned: success
  type: list
  elements: str
left_out:
  description: Entities left out (no ERP URL or tenant, a URL the validation refuses, or not readable); named in IMPORT.md.
  returned: success
  type: int
lines:
  description: One line per new site, then the differences and a summary, for printing.
  returned: success
  type: list
  elements: str
"""
