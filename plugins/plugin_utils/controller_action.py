"""The base of the collection's controller-side actions (site, site_report, validate_sites):
no connection to a host, check mode supported, arguments validated against ARGUMENT_SPEC."""
from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.ARGUMENT_SPEC)

    def begin(self, tmp, task_vars):
        """(result, validated arguments) at the start of run()."""
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        return result, args
