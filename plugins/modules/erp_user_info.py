#!/usr/bin/python
"""Read the API user of one MYOB Acumatica / MYOB Advanced site, for reports and checks."""

DOCUMENTATION = r"""
module: erp_user_info
short_description: Read the API user's full state in MYOB Acumatica / MYOB Advanced
version_added: 0.1.0
description:
  - Reads one user through the toolkit's C(UserAdmin/1.0.0) endpoint with its roles and
    licence types, and returns it without any secret. Sends no write.
  - Costs three requests (the admin sign-in, one read, the sign-out).
author: Ocerra (@Ocerra)
extends_documentation_fragment:
  - ocerra.acumatica.acumatica
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  login:
    description: The user's login.
    type: str
    default: OcerraAPI
  myob:
    description:
      - The site is MYOB Acumatica (MYOB Advanced), so read through the MYOB edition of the User
        endpoint (C(UserAdminMyob/1.0.0)), which also maps the user's licence types. With false,
        RV(user.licence_types) is null (not read).
    type: bool
    default: false
seealso:
  - module: ocerra.acumatica.erp_user
"""

EXAMPLES = r"""
- name: Report the Ocerra API user of a site
  ocerra.acumatica.erp_user_info:
    url: https://acme.myobadvanced.com
    tenant: Company
    admin_user: admin
    admin_password: "{{ vault_acme_admin_password }}"
  delegate_to: localhost
  register: api_user

- name: Stop when Ocerra cannot sign in with it
  ansible.builtin.assert:
    that:
      - api_user.user.exists
      - not api_user.user.locked
      - api_user.user.enabled
      - not api_user.user.force_password_change
"""

RETURN = r"""
user:
  description: 'The user, or C({"exists": false}) when there is no such user.'
  type: dict
  returned: always
  contains:
    exists: {description: "Whether the user exists.", type: bool}
    login: {description: "Login.", type: str}
    email: {description: "E-mail address.", type: str}
    first_name: {description: "First name.", type: str}
    last_name: {description: "Last name.", type: str}
    user_type: {description: "User type (LoginTypeID).", type: str}
    status:
      description: The Status label (Active, Online, Disabled, Temporarily Locked, Pending Activation).
      type: str
    locked: {description: "Locked out after failed sign-ins.", type: bool}
    enabled: {description: "Enabled (IsApproved).", type: bool}
    roles: {description: "Roles held, sorted.", type: list, elements: str}
    licence_types: {description: "MYOB licence types held, sorted; null unless O(myob=true).", type: list, elements: str}
    password_never_expires: {description: "Password Never Expires.", type: bool}
    force_password_change: {description: "Force User to Change Password on Next Login.", type: bool}
    allowed_sessions: {description: "Maximum concurrent logins.", type: int}
    last_login: {description: "Last sign-in date, as the site returns it.", type: str}
    locked_out_date: {description: "When it was locked out, if it is.", type: str}
    failed_attempts: {description: "Failed sign-in attempts counted now.", type: int}
    last_password_change: {description: "When the password last changed (Statistics tab).", type: str}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user import view
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user_fields import DEFAULT_LOGIN
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    acumatica_connection_spec, run)


def main():
    spec = acumatica_connection_spec()
    spec.update(login=dict(type="str", default=DEFAULT_LOGIN), myob=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    client = AcumaticaClient.from_module(module, myob=module.params["myob"])
    run(module, lambda m: {"changed": False, "user": view(client.get_user(m.params["login"]))}, client)


if __name__ == "__main__":
    main()
