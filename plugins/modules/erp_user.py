#!/usr/bin/python
"""Manage the API user of one MYOB Acumatica / MYOB Advanced site, idempotently."""

DOCUMENTATION = r"""
module: erp_user
short_description: Manage the API user (e.g. OcerraAPI) in MYOB Acumatica / MYOB Advanced
version_added: 0.1.0
description:
  - Makes the dedicated API user of one site (URL + tenant) match the options given, through
    the toolkit's C(UserAdmin/1.0.0) endpoint (see M(ocerra.acumatica.erp_endpoint)).
  - Options left unset are not managed. Roles and licence types are compared as sets.
  - Writes only what differs, as one update plus the actions the Users form (SM201010) needs
    (C(ActivateLogin), C(EnableLogin), C(UnlockLogin), C(ResetPasswordOK), C(DisableLogin)), in
    the order the user's state allows them, then reads the user back and fails if a role or
    licence assignment did not stick.
  - A password on an existing user is only ever changed with C(ResetPasswordOK), because the
    site silently ignores a C(Password) written by an update.
  - A locked user is unlocked before its password is reset (a disabled one once it is enabled,
    since the site hides the lock of a disabled user); a set C(Force User to Change Password on Next
    Login) flag is cleared, since an API user cannot sign in with it.
  - The password is checked against the MYOB 2023.1.3 policy (14 characters, upper, lower,
    digit or symbol) before any request.
author: Ocerra (@Ocerra)
extends_documentation_fragment:
  - ocerra.acumatica.acumatica
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details:
      - Sends no write. It signs in as the admin and, with O(update_password=when_changed),
        may sign in once as the API user to check the password (then signs out), like a real run.
      - Predicts the whole after-state and reports the same C(diff) a real run would.
      - When the endpoint is missing and O(publish_endpoint=true), the user cannot be read, so
        its creation is predicted.
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  login:
    description: The API user's login (the Login box of SM201010).
    type: str
    default: OcerraAPI
  state:
    description: Whether the user should exist. V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  email:
    description:
      - E-mail address. Required to create the user; a placeholder address is fine.
    type: str
  first_name:
    description: First name.
    type: str
  last_name:
    description: Last name.
    type: str
  user_type:
    description:
      - User type (C(LoginTypeID), User Types EP202500). Its Allowed Login Type must allow API
        sign-ins, and it decides which roles the user may hold.
    type: str
  roles:
    description: Roles the user holds, compared as a set (case-insensitive).
    type: list
    elements: str
  roles_mode:
    description:
      - V(exact) makes the user hold exactly O(roles) (and exactly O(licence_types)), removing
        others. V(additive) only adds missing ones and keeps the rest.
    type: str
    choices: [exact, additive]
    default: exact
  licence_types:
    description:
      - MYOB licence types the user holds, e.g. C(Full User (Full API)). Compared as a set,
        following O(roles_mode). A user needs one to sign in on MYOB.
      - Set only on MYOB sites. It makes the module use the MYOB edition of the User endpoint
        (C(UserAdminMyob/1.0.0), see M(ocerra.acumatica.erp_endpoint)), the only one that maps
        licence types. Unset, the core endpoint is used and licence types are left alone.
    type: list
    elements: str
  password:
    description:
      - The API user's password. Never logged, returned or shown in a diff (the diff shows
        C((changed)) instead).
      - Required to create the user.
    type: str
  update_password:
    description:
      - V(when_changed) signs in once as the API user with O(password) (then signs out) and
        resets the password only when that fails. No probe is made when the user is locked,
        disabled or absent; the password is then reset (or set), as it cannot be verified.
      - The probe is made only when one more failed sign-in could not lock the user out (see
        O(lockout_threshold)); otherwise the password is reset, as for a locked user.
      - V(always) resets the password on every run; such a task is never idempotent.
      - V(on_create) sets it only when the user is created.
    type: str
    choices: [always, on_create, when_changed]
    default: when_changed
  lockout_threshold:
    description:
      - The site's lock-out threshold (Security Preferences, SM201060). The
        O(update_password=when_changed) probe signs in only while the user's failed sign-in
        count plus one stays below it.
    type: int
    default: 3
  password_never_expires:
    description: The Password Never Expires box.
    type: bool
  enabled:
    description:
      - V(true) enables the user (C(EnableLogin), or C(ActivateLogin) for a user pending
        activation), V(false) disables it (C(DisableLogin)).
      - While the user stays disabled, O(update_password=when_changed) leaves its password alone.
    type: bool
  allowed_sessions:
    description: Maximum number of concurrent logins of the user (MYOB's default is 1).
    type: int
  publish_endpoint:
    description:
      - When the User endpoint is missing, import and publish it in the same admin session
        (as M(ocerra.acumatica.erp_endpoint) does) instead of failing. Publishing restarts the
        site's application; the admin needs the Customizer role.
    type: bool
    default: false
  publish_timeout:
    description: Seconds to wait for a publication to finish when O(publish_endpoint) publishes.
    type: int
    default: 900
  defer_password_change:
    description:
      - When the password needs changing, do not change it; return RV(password_change_pending=true)
        instead, so a playbook can first switch the Ocerra connections off, then run again with
        O(update_password=always). Every other difference is still applied.
    type: bool
    default: false
notes:
  - The User endpoint must be published on the site first (M(ocerra.acumatica.erp_endpoint)),
    unless O(publish_endpoint=true).
  - A no-change run sends at most five requests to the site, sign-ins and sign-outs included.
  - "O(login) equal to O(admin_user) (ignoring case) is refused before any request, in check mode
    too: the module must never delete, reset or strip the roles of the administrator it signs
    in as."
  - Options that cannot work (a blank O(login) or O(tenant), a URL with a user and password, a
    C(file://) or non-loopback C(http://) URL, a port outside 1-65535, a O(timeout) of zero or
    less) fail before any request.
seealso:
  - module: ocerra.acumatica.erp_endpoint
  - module: ocerra.acumatica.erp_user_info
"""

EXAMPLES = r"""
- name: The Ocerra API user, with the Full API licence and a password that never expires
  ocerra.acumatica.erp_user:
    url: https://acme.myobadvanced.com
    tenant: Company
    admin_user: admin
    admin_password: "{{ vault_acme_admin_password }}"
    login: OcerraAPI
    email: ocerraapi@acme.example
    first_name: Ocerra
    last_name: API
    roles: [AP Clerk, Purchasing Manager]
    licence_types: [Full User (Full API)]
    password: "{{ vault_acme_ocerra_password }}"
    password_never_expires: true
    enabled: true
  delegate_to: localhost
  register: erp

- name: Apply every difference but the password, which Ocerra still uses
  ocerra.acumatica.erp_user:
    url: "{{ acumatica_url }}"
    tenant: "{{ acumatica_tenant }}"
    admin_user: "{{ acumatica_admin_user }}"
    admin_password: "{{ acumatica_admin_password }}"
    password: "{{ new_password }}"
    defer_password_change: true
  register: erp

- name: Then, with the Ocerra connections off, change it
  ocerra.acumatica.erp_user:
    url: "{{ acumatica_url }}"
    tenant: "{{ acumatica_tenant }}"
    admin_user: "{{ acumatica_admin_user }}"
    admin_password: "{{ acumatica_admin_password }}"
    password: "{{ new_password }}"
    update_password: always
  when: erp.password_change_pending

- name: Remove a user
  ocerra.acumatica.erp_user:
    url: "{{ acumatica_url }}"
    tenant: "{{ acumatica_tenant }}"
    admin_user: "{{ acumatica_admin_user }}"
    admin_password: "{{ acumatica_admin_password }}"
    login: OldIntegration
    state: absent
"""

RETURN = r"""
changed:
  description: RV(updated) or RV(password_updated).
  type: bool
  returned: always
updated:
  description: Something other than the password changed (or would, in check mode).
  type: bool
  returned: always
password_updated:
  description: The password was set at creation or reset (or would be, in check mode).
  type: bool
  returned: always
password_change_pending:
  description: A password change was needed but deferred by O(defer_password_change).
  type: bool
  returned: always
password_verified:
  description: The O(update_password=when_changed) probe signed in with O(password).
  type: bool
  returned: always
actions:
  description:
    - "What was done, in order, e.g. C(created), C(unlocked), C(enabled), C(password_reset),
      C(password_set), C(email_changed), C(roles_added: AP Clerk), C(roles_removed: X),
      C(force_password_change_cleared), C(endpoint_published), C(deleted)."
  type: list
  elements: str
  returned: always
user:
  description:
    - 'The user after the run (read back; predicted in check mode), without any secret.
      C({"exists": false}) when it does not exist.'
  type: dict
  returned: always
  sample:
    exists: true
    login: OcerraAPI
    email: ocerraapi@acme.example
    first_name: Ocerra
    last_name: API
    user_type: API User
    status: Active
    locked: false
    enabled: true
    roles: [AP Clerk]
    licence_types: [Full User (Full API)]
    password_never_expires: true
    force_password_change: false
    allowed_sessions: 1
    last_login: null
    locked_out_date: null
    failed_attempts: 0
    last_password_change: "2026-01-01T00:00:00+00:00"
diff:
  description: Before and after of the changed keys only; the password appears as C((changed)).
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user_fields
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user import manage_user
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    acumatica_connection_spec, run)
from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import (
    describe, unmet_requirements)


def argument_spec():
    spec = acumatica_connection_spec()
    spec.update(user_fields.option_spec())   # login, the managed fields and password
    spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        roles_mode=dict(type="str", choices=["exact", "additive"], default="exact"),
        update_password=dict(type="str", choices=["always", "on_create", "when_changed"],
                             default="when_changed", no_log=False),
        lockout_threshold=dict(type="int", default=3),
        publish_endpoint=dict(type="bool", default=False),
        publish_timeout=dict(type="int", default=900),
        defer_password_change=dict(type="bool", default=False, no_log=False),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    login, admin = module.params["login"], module.params["admin_user"]
    if isinstance(login, str) and isinstance(admin, str) and login.strip().casefold() == admin.strip().casefold():
        module.fail_json(msg="login is admin_user, the user this module signs in as: deleting it, resetting its "
                             "password or replacing its roles could leave the site without an administrator. "
                             "Manage the API user (a login of its own). Nothing was sent.",
                         error_kind="invalid_options")
    password = module.params["password"]
    if password is not None and module.params["state"] == "present":
        unmet = unmet_requirements(password)
        if unmet:
            module.fail_json(msg=f"The password given for '{module.params['login']}' {describe(unmet)}. "
                                 "Nothing was sent to the site.", error_kind="password_policy")
    client = AcumaticaClient.from_module(module, poll_timeout=module.params["publish_timeout"],
                                         myob=module.params["licence_types"] is not None)
    run(module, lambda m: manage_user(client, m.params, m.check_mode), client)


if __name__ == "__main__":
    main()
