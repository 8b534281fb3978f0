#!/usr/bin/python
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)

DOCUMENTATION = r"""
module: ocerra_connection
short_description: Set and verify the MYOB Acumatica connection of one Ocerra entity
version_added: 0.1.0
description:
  - Writes the ERP base URL, tenant, branch, login and (when told to) the API user's password
    into the MYOB Acumatica settings of one Ocerra client (entity), switches Enable Connection
    on or off, and requires the connection status to read C(Connected).
  - Only the fields that differ are saved, in one partial save. Ocerra switches Enable
    Connection off when the login or password changes; the module then saves again with it
    on, as a person does in Ocerra's settings page.
  - A run that changes nothing sends one request for an entity given by O(client_id) whose
    status reads C(Connected); O(client_name) costs two more (the list of clients).
  - A status other than C(Connected) is tested once; only C(Unreachable) and C(LicenseLimit)
    are tested again (O(status_retry)). C(InvalidCredentials) and C(AccountLocked) are never
    retried, because each test is one more failed sign-in toward the ERP's lock-out.
author: Ocerra (@Ocerra)
extends_documentation_fragment:
  - ocerra.acumatica.ocerra
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Sends reads only (and, under O(ocerra_client_selection=switch_call), the client
      switch); predicts the saved settings and the diff. The connection is not tested.
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  client_id:
    description:
      - GUID of the Ocerra client (entity). Mutually exclusive with O(client_name).
    type: str
  client_name:
    description:
      - Name of the Ocerra client, compared case-insensitively among the clients the service
        user can see. Fails when none or several match.
    type: str
  erp_url:
    description:
      - Base URL of the MYOB Acumatica site, for example C(https://acme.myobadvanced.com/).
        Compared without a trailing slash and with a case-insensitive host. Unset means unmanaged.
    type: str
  tenant:
    description:
      - The Acumatica tenant (company) login name; compared case-insensitively. Unset means unmanaged.
    type: str
  branch:
    description:
      - Default branch ID; compared case-insensitively. Unset means unmanaged.
    type: str
  login:
    description:
      - The API user's login, for example C(OcerraAPI); compared case-insensitively. Changing
        it makes Ocerra drop Enable Connection, which the module switches back on.
    type: str
  password:
    description:
      - The API user's password. Ocerra never reads it back, so it is only sent when
        O(push_password=true) or when Ocerra has no password stored yet.
    type: str
  push_password:
    description:
      - Send O(password) even though Ocerra may already hold it. Set it when the password
        changed, for example from the ERP module's C(password_updated) result.
      - Every push reports C(changed) and makes Ocerra test the sign-in again.
    type: bool
    default: false
  enabled:
    description:
      - Whether Enable Connection must be on. Switch entities off before an ERP password
        change and back on after it, so Ocerra's 20-minute sync cannot lock the API user out
        with the old password.
    type: bool
    default: true
  verify:
    description:
      - Require the status C(Connected) when O(enabled=true); the task fails with the status
        and what to do otherwise.
    type: bool
    default: true
  status_retry:
    description:
      - How many more connection tests to run while the status is C(Unreachable) or
        C(LicenseLimit). Never used for any other status.
    type: int
    default: 2
  status_retry_delay:
    description:
      - Seconds between those tests.
    type: int
    default: 15
notes:
  - "Statuses and what to do: C(InvalidCredentials), the passwords in the ERP and Ocerra
    differ: run the provision or restore_connection playbook; C(AccountLocked), unlock the
    ERP user first (M(ocerra.acumatica.erp_user) unlocks it); C(PasswordChangeRequired), run
    restore_connection; C(LicenseLimit), free API sessions; C(Unreachable), check O(erp_url);
    C(TenantNotFound), check O(tenant)."
seealso:
  - module: ocerra.acumatica.ocerra_connection_info
"""

EXAMPLES = r"""
- name: Connect the Live entity to the site with the API user's new password
  ocerra.acumatica.ocerra_connection:
    ocerra_username: "{{ ocerra_service_user }}"
    ocerra_password: "{{ vault_ocerra_service_password }}"
    client_id: 6f1c2b7e-8a3d-4c55-9d0e-1a2b3c4d5e6f
    erp_url: https://acme.myobadvanced.com/
    tenant: Company
    login: OcerraAPI
    password: "{{ vault_api_user_password }}"
    push_password: "{{ api_user.password_updated }}"

- name: Take every entity of the site offline before the ERP password changes
  ocerra.acumatica.ocerra_connection:
    ocerra_username: "{{ ocerra_service_user }}"
    ocerra_password: "{{ vault_ocerra_service_password }}"
    client_name: "{{ item }}"
    enabled: false
  loop: [Acme Live, Acme Test]
"""

RETURN = r"""
connection:
  description: The entity's MYOB Acumatica settings after the run (predicted in check mode),
    never with a password. Also returned when the task fails on the connection status.
  returned: success, and failures on the connection status
  type: dict
  contains:
    client_id: {description: "GUID of the Ocerra client.", type: str}
    client_name: {description: "Its name; null when given by O(client_id).", type: str}
    erp_url: {description: "ERP base URL.", type: str}
    tenant: {description: "ERP tenant.", type: str}
    branch: {description: "Default branch ID.", type: str}
    login: {description: "The API user's login.", type: str}
    has_password: {description: "Whether Ocerra stores a password.", type: bool}
    enabled: {description: "Enable Connection.", type: bool}
    status:
      description: The last connection test.
      type: dict
      contains:
        code: {description: "C(Connected), C(Disabled), C(NotConfigured), C(InvalidCredentials),
          C(AccountLocked), C(PasswordChangeRequired), C(LicenseLimit), C(TenantNotFound) or
          C(Unreachable).", type: str}
        message: {description: "Ocerra's status text.", type: str}
        checked: {description: "When it was tested (ISO 8601).", type: str}
  sample:
    client_id: 6f1c2b7e-8a3d-4c55-9d0e-1a2b3c4d5e6f
    client_name: Acme Live
    erp_url: https://acme.myobadvanced.com/
    tenant: Company
    branch: HQ
    login: OcerraAPI
    has_password: true
    enabled: true
    status: {code: Connected, message: Connection was successful., checked: "2025-07-01T00:00:00Z"}
password_pushed:
  description: Whether the password was sent to Ocerra (would be, in check mode).
  returned: always
  type: bool
diff:
  description: The changed keys before and after. A pushed password shows as C((stored)) (null if
    Ocerra had none) before and C((changed)) after, never as itself.
  returned: always
  type: dict
  sample: {before: {password: (stored)}, after: {password: (changed)}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import run
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import OcerraClient, argument_spec
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import MANAGED, ensure_connection


def main():
    spec = argument_spec()
    spec.update(
        client_id=dict(type="str"),
        client_name=dict(type="str"),
        erp_url=dict(type="str"),
        tenant=dict(type="str"),
        branch=dict(type="str"),
        login=dict(type="str"),
        password=dict(type="str", no_log=True),
        push_password=dict(type="bool", default=False, no_log=False),
        enabled=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
        status_retry=dict(type="int", default=2),
        status_retry_delay=dict(type="int", default=15),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[("client_id", "client_name")],
                           required_one_of=[("client_id", "client_name")],
                           required_if=[("push_password", True, ("password",))])
    client = OcerraClient.from_module(module)

    def body(m):
        p = m.params
        client_id = p["client_id"] or client.find_client(p["client_name"])["client_id"]
        desired = {k: p[k] for k in MANAGED}
        desired["enabled"] = p["enabled"]
        return ensure_connection(client, client_id, desired, password=p["password"],
                                 push_password=p["push_password"], verify=p["verify"],
                                 status_retry=max(0, p["status_retry"]),
                                 status_retry_delay=max(0, p["status_retry_delay"]),
                                 check_mode=m.check_mode, warn=m.warn)

    run(module, body, client)


if __name__ == "__main__":
    main()
