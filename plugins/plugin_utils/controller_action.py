"""The base of the collection's controller-side actions (site, site_report, validate_sites,
import_sites): no connection to a host, check mode supported, arguments validated against
ARGUMENT_SPEC (an option the task leaves out taken from the documented variable VARIABLES names
for it, as Ansible's own plugins take options from variables), and a missing HTTP library said as
Ansible says it."""
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
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
    VARIABLES = {}          # option -> the documented variable it falls back to
    MINIMUMS = {}           # option -> the least number it takes
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
        given = {**{option: self._templar.template(task_vars[name]) for option, name in self.VARIABLES.items()
                    if name in task_vars}, **self._task.args}
        validated = ArgumentSpecValidator(self.ARGUMENT_SPEC).validate(given)
        errors = validated.error_messages or [
            "%s (the variable %s) must be at least %s, not %s" % (option, self.VARIABLES.get(option), least, value)
            for option, least in self.MINIMUMS.items()
            for value in [validated.validated_parameters[option]] if value is not None and value < least]
        if errors:
            raise AnsibleActionFail("Invalid options: %s" % "; ".join(errors))
        return result, validated.validated_parameters
