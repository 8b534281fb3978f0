"""module_kit: the options guard (before any request) and the diff helper."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import (
    check_options, diff_of)


class FakeModule:
    def __init__(self, **params):
        self.params = params

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs)


def fails(**params):
    module = FakeModule(**params)
    with pytest.raises(RuntimeError) as err:
        check_options(module, required=("url", "tenant", "admin_user", "admin_password"), urls={"url": "erp_url"},
                      texts=("tenant", "admin_user", "login"))
    failure = err.value.args[0]
    assert failure["error_kind"] == "invalid_options" and failure["msg"].endswith("Nothing was sent.")
    return failure["msg"]


GOOD = dict(url="https://x.example.com", tenant="T", admin_user="admin", admin_password="pw", login="OcerraAPI",
            timeout=30, retry_timeout=60)


def test_null_empty_or_blank_required_values_fail_naming_them():
    msg = fails(**dict(GOOD, admin_password=None, tenant="", admin_user="  "))
    assert msg.startswith("tenant must not be empty; admin_user must not be empty; admin_password must not be empty")


@pytest.mark.parametrize("changes, expected", [
    ({"url": "file:///etc/passwd"}, "url must be an absolute http:// or https:// base URL"),
    ({"url": "https://admin:Secr3t-Pass@x.example.com"}, "url must not hold a user name or password"),
    ({"url": "http://x.example.com"}, "url must use https://"),
    ({"url": "https://x.example.com:70000"}, "url must have a port between 1 and 65535"),
    ({"login": " OcerraAPI"}, "login must not have leading or trailing spaces"),
    ({"tenant": "Com\npany"}, "tenant must not have leading or trailing spaces, line breaks"),
    ({"timeout": 0}, "timeout must be a positive number of seconds"),
    ({"timeout": -5}, "timeout must be a positive number of seconds"),
    ({"retry_timeout": -1}, "retry_timeout must not be negative"),
])
def test_options_that_cannot_work_fail_before_any_request(changes, expected):
    msg = fails(**dict(GOOD, **changes))
    assert msg.startswith(expected) and "Secr3t" not in msg and "admin:" not in msg


def test_given_values_pass():
    check_options(FakeModule(**GOOD), required=("url", "tenant"), urls={"url": "erp_url"}, texts=("tenant",))
    check_options(FakeModule(**dict(GOOD, url="http://127.0.0.1:8601/acme")), urls={"url": "erp_url"})


def test_diff_keeps_only_changed_keys():
    assert diff_of({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"before": {"b": 2}, "after": {"b": 3}}
