"""module_kit: the guard against null secrets and the diff helper."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    diff_of, require_values)


class FakeModule:
    def __init__(self, **params):
        self.params = params

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs)


def test_null_or_empty_required_values_fail_naming_them():
    module = FakeModule(url="http://x", admin_user="admin", admin_password=None, tenant="")
    with pytest.raises(RuntimeError) as err:
        require_values(module, ("url", "tenant", "admin_user", "admin_password"))
    failure = err.value.args[0]
    assert failure["msg"].startswith("tenant, admin_password must not be empty")
    assert failure["error_kind"] == "invalid_options"


def test_given_values_pass():
    require_values(FakeModule(url="http://x", tenant="T"), ("url", "tenant"))


def test_diff_keeps_only_changed_keys():
    assert diff_of({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"before": {"b": 2}, "after": {"b": 3}}
