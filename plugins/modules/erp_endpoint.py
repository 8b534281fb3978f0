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
  - With O(myob=true), then does the same for the MYOB edition C(UserAdminMyob/1.0.0) (project
    C(OcerraUserAdminMyob)), which also maps the user's licence types. It is a project of its
    own, published after the core one, because the view behind MYOB's License Types tab is
    unverified. If it fails to publish, the core endpoint stays as it was; if the tenant's
    contract API fails after it is published, it is unpublished again (the site's other
    published projects republished as they were) and the module fails with that advice.
author: Ocerra (@Ocerra)
extends_documentation_fragment:
  - ocerra.acumatica.acumatica
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the published projects (read-only Customization API calls) and reports whether a
        publication is needed; never imports or publishes.
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  myob:
    description:
      - The site is MYOB Acumatica (MYOB Advanced) and its API user's licence types are managed,
        so publish the MYOB edition of the endpoint too. Leave false on plain Acumatica, which has no
        licence types.
    type: bool
    default: false
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
myob:
  description: The same keys for the MYOB edition (C(UserAdminMyob/1.0.0)).
  type: dict
  returned: when O(myob=true)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.endpoint import ensure_published
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    acumatica_connection_spec, run)


def publish(client, check_mode):
    outcome = ensure_published(client, check_mode)
    editions = [outcome] + ([outcome["myob"]] if "myob" in outcome else [])
    changed = [e for e in editions if e["changed"]]
    return dict(outcome, diff={"before": {e["endpoint"]: e["published_digest"] for e in changed},
                               "after": {e["endpoint"]: e["digest"] for e in changed}})


def main():
    spec = acumatica_connection_spec()
    spec.update(myob=dict(type="bool", default=False), publish_timeout=dict(type="int", default=900),
                poll_interval=dict(type="int", default=5))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if module.params["poll_interval"] < 1:
        module.fail_json(msg="poll_interval must be at least 1 second.")
    client = AcumaticaClient.from_module(module, poll_timeout=module.params["publish_timeout"],
                                         poll_interval=module.params["poll_interval"], myob=module.params["myob"])
    run(module, lambda m: publish(client, m.check_mode), client)


if __name__ == "__main__":
    main()
