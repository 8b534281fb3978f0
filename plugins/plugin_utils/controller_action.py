"""The base of the collection's controller-side actions (site, site_report, validate_sites,
import_sites): no connection to a host, check mode supported, arguments validated against
ARGUMENT_SPEC, and a missing HTTP library said as Ansible says it."""
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.action import ActionBase

from ansible_collections.ocerra.acumatica.plugins.module_utils.http import HTTP_IMPORT_ERROR


def missing_http():
    """Ansible's missing-library message when `requests` cannot be imported here, else None."""
    return missing_library("requests") if HTTP_IMPORT_ERROR else None


def missing_library(name):
    return missing_required_lib(name) + " (the controller runs this task)"


class ControllerAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC = {}
    NEEDS_HTTP = False      # talks to the services from the controller's Python

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.ARGUMENT_SPEC)

    def begin(self, tmp, task_vars):
        """(result, validated arguments) at the start of run()."""
        missing = self.NEEDS_HTTP and missing_http()
        if missing:
            raise AnsibleActionFail(missing)
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        return result, args

