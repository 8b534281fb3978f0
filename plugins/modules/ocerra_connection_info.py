#!/usr/bin/python
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)

DOCUMENTATION = r"""
module: ocerra_connection_info
short_description: List the MYOB Acumatica connections of the Ocerra entities a user can see
version_added: 0.1.0
description:
  - Reads the MYOB Acumatica settings of every Ocerra client (entity) the service user can
    reach, with their ERP base URL, tenant, login, Enable Connection and status. Never a
    password; C(has_password) tells whether one is stored.
  - The filters find every entity that uses a given site and login, which a password change
    must reach.
  - Read-only. Costs two requests for the list of clients plus one per client.
author: Ocerra (@Ocerra)
extends_documentation_fragment:
  - ocerra.acumatica.ocerra
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
  platform:
    platforms: all
options:
  erp_url:
    description:
      - Only entities with this ERP base URL (compared without a trailing slash and with a
        case-insensitive host).
    type: str
  tenant:
    description:
      - Only entities with this tenant (case-insensitive).
    type: str
  login:
    description:
      - Only entities with this API user login (case-insensitive).
    type: str
seealso:
  - module: ocerra.acumatica.ocerra_connection
"""

EXAMPLES = r"""
- name: Find every entity that signs in to the Acme site as OcerraAPI
  ocerra.acumatica.ocerra_connection_info:
    ocerra_username: "{{ ocerra_service_user }}"
    ocerra_password: "{{ vault_ocerra_service_password }}"
    erp_url: https://acme.myobadvanced.com/
    tenant: Company
    login: OcerraAPI
  register: acme

- name: Push the new password to each of them
  ocerra.acumatica.ocerra_connection:
    ocerra_username: "{{ ocerra_service_user }}"
    ocerra_password: "{{ vault_ocerra_service_password }}"
    client_id: "{{ item.client_id }}"
    password: "{{ vault_api_user_password }}"
    push_password: true
  loop: "{{ acme.connections }}"
  loop_control:
    label: "{{ item.client_name }}"
"""

RETURN = r"""
connections:
  description: The matching entities, sorted by name. Same keys as the C(connection) result
    of M(ocerra.acumatica.ocerra_connection).
  returned: always
  type: list
  elements: dict
  sample:
    - client_id: 6f1c2b7e-8a3d-4c55-9d0e-1a2b3c4d5e6f
      client_name: Acme Live
      erp_url: https://acme.myobadvanced.com/
      tenant: Company
      branch: HQ
      login: OcerraAPI
      has_password: true
      enabled: true
      status: {code: Connected, message: Connection was successful., checked: "2025-07-01T00:00:00Z"}
unreadable:
  description: Clients whose settings the user may not read (no accountant role), with the reason.
    A warning names them too.
  returned: always
  type: list
  elements: dict
  sample: [{client_id: 0b5e4c3d-2a1f-4e6d-8c7b-9a8f7e6d5c4b, client_name: Beta Live, error: "..."}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import run
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import OcerraClient, argument_spec
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import find_connections

FILTERS = ("erp_url", "tenant", "login")


def main():
    spec = argument_spec()
    spec.update({name: dict(type="str") for name in FILTERS})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    client = OcerraClient.from_module(module)

    def body(m):
        wanted = {k: m.params[k] for k in FILTERS if m.params[k] is not None}
        connections, unreadable = find_connections(client, wanted, m.warn)
        return {"changed": False, "connections": connections, "unreadable": unreadable}

    run(module, body, client)


if __name__ == "__main__":
    main()
