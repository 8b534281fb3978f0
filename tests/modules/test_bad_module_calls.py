"""Module calls that cannot work fail with a clear message before any request, never as an
"Unexpected ... toolkit bug", and never quote a secret; erp_user never touches the admin it
signs in as."""
import pytest

from tests.modules.erp_support import ADMIN_PW, API_PW, DESIRED, leaked_forms
from tests.modules.ocerra_support import oc  # noqa: F401 - the fixture

USERINFO = "https://admin:%s@erp.example.com" % ADMIN_PW


def assert_refused_without_a_request(result, expected, requests):
    assert result.get("failed") and result.get("error_kind") == "invalid_options", result
    assert expected in result["msg"] and "toolkit bug" not in result["msg"]
    assert not any(form in result["msg"] for form in leaked_forms(ADMIN_PW) | leaked_forms(API_PW))
    assert requests() == []


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("changes", [
    {"state": "absent"},
    {"update_password": "always"},
    {"state": "present"},
])
def test_erp_user_refuses_the_admins_own_login(erp, check, changes):
    erp.seed()
    for login in ("admin", "ADMIN"):
        result = erp.run(check=check, **dict(DESIRED, login=login, **changes))
        assert_refused_without_a_request(result, "login is admin_user", erp.requests)
    assert erp.user("admin") is not None


@pytest.mark.parametrize("name, changes, expected", [
    ("erp_user", {"login": "   "}, "login must not be empty"),
    ("erp_user", {"login": ""}, "login must not be empty"),
    ("erp_user", {"login": "Ocerra\nAPI"}, "login must not have leading or trailing spaces, line breaks"),
    ("erp_user", {"tenant": ""}, "tenant must not be empty"),
    ("erp_user", {"timeout": 0}, "timeout must be a positive number"),
    ("erp_user", {"timeout": -3}, "timeout must be a positive number"),
    ("erp_user", {"url": "file:///etc/passwd"}, "url must be an absolute http:// or https://"),
    ("erp_user", {"url": USERINFO}, "url must not hold a user name or password"),
    ("erp_user", {"url": "http://erp.example.com"}, "url must use https://"),
    ("erp_user_info", {"login": " "}, "login must not be empty"),
    ("erp_user_info", {"admin_password": None}, "admin_password must not be empty"),
    ("erp_endpoint", {"url": "https://erp.example.com:0"}, "port between 1 and 65535"),
    ("erp_endpoint", {"publish_timeout": 0}, "publish_timeout must be a positive number"),
])
def test_erp_modules_refuse_options_that_cannot_work(erp, name, changes, expected):
    erp.seed()
    args = dict(DESIRED, **changes) if name == "erp_user" else dict(changes)
    result = erp.run(name, **args)
    assert_refused_without_a_request(result, expected, erp.requests)


@pytest.mark.parametrize("name, changes, expected", [
    ("ocerra_connection", {"ocerra_password": ""}, "ocerra_password must not be empty"),
    ("ocerra_connection", {"ocerra_username": " "}, "ocerra_username must not be empty"),
    ("ocerra_connection", {"ocerra_url": "file:///tmp/x"}, "ocerra_url must be an absolute"),
    ("ocerra_connection", {"ocerra_url": "https://u:%s@app.ocerra.com" % ADMIN_PW}, "user name or password"),
    ("ocerra_connection", {"tenant": " Company"}, "tenant must not have leading or trailing spaces"),
    ("ocerra_connection", {"erp_url": USERINFO}, "erp_url must not hold a user name or password"),
    ("ocerra_connection", {"timeout": 0}, "timeout must be a positive number"),
    ("ocerra_connection_info", {"ocerra_password": ""}, "ocerra_password must not be empty"),
])
def test_ocerra_modules_refuse_options_that_cannot_work(oc, name, changes, expected):
    oc.seed()
    oc.clear_log()
    args = oc.connect_args(**changes) if name == "ocerra_connection" else oc.args(**changes)
    result = oc.run(name, **args)
    assert_refused_without_a_request(result, expected, oc.log)
