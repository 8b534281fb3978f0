"""Newer builds redirect every refused sign-in to /{instance}/ui/error without a word (switch
`signin_error_page: ui_error`): the client never retries such a sign-in (it may have counted
toward a lock-out) and tells an API user's wrong password from the API Login Limit by a second
read of its failed sign-in count."""
import requests

from tests.modules.erp_support import ADMIN_PW, API_PW, DESIRED, NEW_PW, api_user

UI_ERROR = {"signin_error_page": "ui_error", "customization": {"publish_polls": 1}}


def test_an_admin_refused_without_a_reason_is_not_retried_and_the_message_says_why(erp):
    erp.seed(api_user(), switches=UI_ERROR)
    result = erp.run(admin_password="Not-the-admin-Pw-42!", **DESIRED)
    assert result["failed"] and "generic error page (/ui/error) and no reason" in result["msg"], result
    assert "Not tried again" in result["msg"]
    assert erp.counters()["failed_signins"] == 1


def test_a_wrong_api_password_is_told_from_the_login_limit_by_a_second_read(erp):
    erp.seed(api_user(), switches=UI_ERROR)
    changed = erp.run(**dict(DESIRED, password=NEW_PW))        # the probe fails: count 0 -> 1: wrong
    assert changed["password_updated"] and erp.can_sign_in("OcerraAPI", NEW_PW), changed
    assert erp.user_counters("OcerraAPI")["failed_signins"] == 1


def test_the_login_limit_behind_a_generic_error_page_is_said_as_such(erp):
    erp.seed(api_user(allowed_sessions=1), switches=UI_ERROR)
    with requests.Session() as held:       # Ocerra's session holds the API user's only one
        signed = held.post(f"{erp.sandbox.acumatica_url}/acme/entity/auth/login", timeout=10,
                           json={"name": "OcerraAPI", "password": API_PW, "tenant": "Company"})
        assert signed.status_code == 204
        result = erp.run(**DESIRED)
        held.post(f"{erp.sandbox.acumatica_url}/acme/entity/auth/logout", data=b"", timeout=10)
    assert result["failed"] and "API Login Limit" in result["msg"], result
    assert erp.user("OcerraAPI")["failed_attempts"] == 0 and not erp.user("OcerraAPI")["locked"]
    assert ADMIN_PW not in result["msg"]


def test_the_generic_error_page_itself_answers(erp):
    erp.seed(switches=UI_ERROR)
    page = requests.get(f"{erp.sandbox.acumatica_url}/acme/ui/error", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]


def test_the_sign_in_page_answers_as_the_real_one_for_tools_that_probe_tenants(erp):
    erp.seed()
    page = requests.get(f"{erp.sandbox.acumatica_url}/acme/Frames/Login.aspx", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'name="ctl00$phUser$txtUser"' in page.text and 'type="password"' in page.text
    assert "cmbCompany" not in page.text            # one tenant: no tenant box
    assert requests.get(f"{erp.sandbox.acumatica_url}/nowhere/Frames/Login.aspx", timeout=10).status_code == 404
