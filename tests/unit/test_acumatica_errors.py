"""Acumatica answers are classified by their text, whatever the status or form (§4)."""
import json
from urllib.parse import quote

import pytest
import requests

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import errors as ae

SITE, USER = "https://acme.example (tenant 'Company')", "admin"

# (exact text of the reference, expected code)
SIGN_IN_TEXTS = [
    ("Invalid credentials. Please try again.", ae.INVALID),
    ("Your account is locked out. Please contact your system administrator.", ae.LOCKED),
    ("Your account is disabled. Please contact your system administrator.", ae.DISABLED),
    ("Your account is not activated yet. Please contact your system administrator.", ae.NOT_ACTIVATED),
    ("You are not allowed to log in to the tenant Company. Please contact your system administrator.",
     ae.TENANT_NOT_ALLOWED),
    ("Your account does not have access to the Acumatica ERP. Please contact your system administrator.",
     ae.NO_ACCESS),
    ("Your account does not have access to the MYOB Acumatica. Please contact your system administrator.",
     ae.NO_ACCESS),
    ("Current user cannot send API requests.", ae.API_NOT_ALLOWED),
    ("You need to change your password. Sign in by using your browser to set a new password.",
     ae.CHANGE_REQUIRED),
    ("API Login Limit", ae.LOGIN_LIMIT),
    ("API Login Limit: the user OcerraAPI has reached the maximum number of concurrent sessions.",
     ae.LOGIN_LIMIT),
    ("A proper company ID cannot be determined", ae.UNKNOWN_TENANT),
    ("Your account does not have a license type that allows access to the Acumatica ERP. Please contact "
     "your system administrator.", ae.LICENCE),
]
OTHER_TEXTS = [
    ("The user is not logged in to the system", ae.NOT_LOGGED_IN),
    ("You have insufficient rights to access the Users (SM201010) form.", ae.FORBIDDEN),
    ("No entity satisfies the condition.", ae.NOT_FOUND),
    ("The entered login already exists.", ae.LOGIN_EXISTS),
    ("The password length must be at least 14 characters.", ae.PASSWORD_REJECTED),
    ("The password is not complex.", ae.PASSWORD_REJECTED),
    ("The entered password doesn't match the confirmation.", ae.PASSWORD_REJECTED),
    ("The user has not been found or is locked out. The password has not been reset.", ae.LOCKED),
]


def response(status, body=None, text=None, headers=None):
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers or {})
    if body is not None:
        r._content = json.dumps(body).encode()
        r.headers["Content-Type"] = "application/json"
    else:
        r._content = (text or "").encode()
    return r


def http_error(text):
    return {"message": "An error has occurred.", "exceptionMessage": text,
            "exceptionType": "PX.Data.PXException", "stackTrace": "   at X()"}


def forms(text):
    """Every form the same refusal has been seen in: JSON 500/401/400/429, plain text, a 302."""
    yield from (response(status, http_error(text)) for status in (500, 401, 400, 429))
    yield response(500, text=f"<html><body><p>{text}</p></body></html>")
    yield response(302, headers={"Location": "/acme/Frames/Error.aspx?exceptionID=1&typeID=PX.Data."
                                             f"PXException&errorcode={quote(text)}"})


@pytest.mark.parametrize("text,code", SIGN_IN_TEXTS + OTHER_TEXTS)
def test_every_text_classifies_the_same_in_every_form(text, code):
    for r in forms(text):
        assert ae.classify(r).code == code, (r.status_code, text)


def test_status_is_only_a_fallback():
    assert ae.classify(response(404, {"message": "No HTTP resource was found"})).code == ae.ENDPOINT_MISSING
    assert ae.classify(response(403, text="")).code == ae.FORBIDDEN
    assert ae.classify(response(429, text="The custom error module does not recognize this error.")).code \
        == ae.THROTTLED
    assert ae.classify(response(500, http_error("Something else broke."))).code == ae.OTHER


def test_422_field_errors_decide_the_code():
    record = {"Username": {"value": "OcerraAPI"},
              "Roles": [{"Rolename": {"value": "Administrator", "error": "The role 'Administrator' is not "
                                      "available for the user type 'API User'."}, "Selected": {"value": True}}],
              "error": "Inserting  'Users' record raised at least one error. Please review the errors."}
    failure = ae.classify(response(422, record))
    assert failure.code == ae.ROLE and "Roles[Administrator].Rolename" in failure.text
    record = {"LicenseTypes": [{"LicenseType": {"value": "Full User (Full API)"},
                                "Selected": {"value": True, "error": "No licenses of the 'Full User (Full "
                                             "API)' type are available."}}], "error": "…"}
    assert ae.classify(response(422, record)).code == ae.LICENCE
    record = {"Password": {"value": None, "error": "Admin's custom alert: too weak"}, "error": "…"}
    assert ae.classify(response(422, record)).code == ae.PASSWORD_REJECTED


@pytest.mark.parametrize("text,code", SIGN_IN_TEXTS)
def test_sign_in_errors_name_site_and_user_and_say_what_to_do(text, code):
    error = ae.sign_in_error(ae.classify(response(500, http_error(text))), SITE, USER)
    assert SITE in error.message and f"'{USER}'" in error.message
    assert error.kind != "api_error", "every reference text has its own advice"


def test_invalid_credentials_says_not_retried_and_login_limit_what_to_do():
    invalid = ae.sign_in_error(ae.classify(response(401, http_error(SIGN_IN_TEXTS[0][0]))), SITE, USER)
    assert isinstance(invalid, ae.InvalidCredentials) and "Not retried" in invalid.message
    limit = ae.sign_in_error(ae.classify(response(429, http_error("API Login Limit"))), SITE, USER, waited=42)
    assert isinstance(limit, ae.LoginLimitReached)
    assert "10 minutes" in limit.message and "SM203510" in limit.message and "42s" in limit.message
    assert limit.details["waited_seconds"] == 42


def test_forbidden_names_the_form():
    failure = ae.classify(response(403, http_error("You have insufficient rights to access the Customization "
                                                   "Projects (SM204505) form.")))
    error = ae.forbidden_error(failure, SITE, USER)
    assert "Customization Projects (SM204505) form" in error.message and SITE in error.message
