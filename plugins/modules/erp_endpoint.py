#!/usr/bin/python
"""Publish the toolkit's User endpoint on one MYOB Acumatica / MYOB Advanced tenant."""

DOCUMENTATION = r"""
module: erp_endpoint
short_description: Publish the toolkit's User endpoint (UserAdmin/1.0.0) on a tenant
version_added: 0.1.0
description:
  - Acumatica's Default endpoint has no User entity. The toolkit ships its own contract
    endpoint C(UserAdmin/1.0.0) for the Users form (SM201010) in the customization project
    C(OcerraUserAdmin) (a rendered copy is in C(customization/UserAdmin/)).
  - Compares the sha256 digest kept in the published project's description with this
    release's. Equal, and the tenant lists the endpoint at C(GET /entity), means nothing to do.
  - Otherwise imports the project (replacing an older one), publishes it to the current
    tenant merged with the site's other published projects, and polls until the publication
    ends, tolerating the connection drops of the application restart. Then checks that
    C(GET /entity) lists C(UserAdmin/1.0.0).
  - Publishing restarts the site's application for every user; schedule it.
author: Ocerra Acumatica toolkit team
extends_documentation_fragment:
  - ocerra.acumatica.acumatica
attributes:
  check_mode:
    support: full
    details:
      - Reads the published projects (read-only Customization API calls) and reports whether a
        publication is needed; never imports or publishes.
  diff_mode:
    support: full
options:
  publish_timeout:
    description: Seconds to wait for the publication to finish.
    type: int
    default: 900
  poll_interval:
    description: Seconds between two polls of the publication's state (at least 1).
    type: int
    default: 5
notes:
  - The admin user needs the Customizer role. The Customization Web API does not accept OAuth.
  - The endpoint is per tenant; run the module for every tenant the toolkit manages.
  - Fallback when the Customization Web API is not allowed, see C(customization/UserAdmin/README.md).
seealso:
  - module: ocerra.acumatica.erp_user
"""

EXAMPLES = r"""
- name: Make sure the User endpoint is published
  ocerra.acumatica.erp_endpoint:
    url: https://acme.myobadvanced.com
    tenant: Company
    admin_user: admin
    admin_password: "{{ vault_acme_admin_password }}"
  delegate_to: localhost
"""

RETURN = r"""
changed:
  description: The project was (or, in check mode, would be) imported and published.
  type: bool
  returned: always
endpoint:
  description: The endpoint's name and version.
  type: str
  returned: always
  sample: UserAdmin/1.0.0
project:
  description: The customization project's name.
  type: str
  returned: always
  sample: OcerraUserAdmin
digest:
  description: The sha256 digest of this release's endpoint definition.
  type: str
  returned: always
published_digest:
  description: The digest published before the run; null when none was published.
  type: str
  returned: always
publish_log:
  description: The publication's log lines (also returned on failure).
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint as ue
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.endpoint import ensure_published
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    acumatica_connection_spec, run)


def publish(client, check_mode):
    outcome = ensure_published(client, check_mode)
    return dict(outcome, endpoint=f"{ue.ENDPOINT}/{ue.VERSION}", project=ue.PROJECT,
                diff={"before": {"digest": outcome["published_digest"]}, "after": {"digest": outcome["digest"]}}
                if outcome["changed"] else {"before": {}, "after": {}})


def main():
    spec = acumatica_connection_spec()
    spec.update(publish_timeout=dict(type="int", default=900), poll_interval=dict(type="int", default=5))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if module.params["poll_interval"] < 1:
        module.fail_json(msg="poll_interval must be at least 1 second.")
    client = AcumaticaClient.from_module(module, poll_timeout=module.params["publish_timeout"],
                                         poll_interval=module.params["poll_interval"])
    run(module, lambda m: publish(client, m.check_mode), client)


if __name__ == "__main__":
    main()
