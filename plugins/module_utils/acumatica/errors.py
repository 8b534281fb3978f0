"""Acumatica's answers classified by their text, and the typed errors they become.

The same condition comes back as 500, 401, 400, 429 or a 302 to /Frames/Error.aspx
depending on the build (reference §4), so `classify()` reads the message first and the
status only as a fallback. The errors name the site (URL + tenant) and the user and say what
to do; they are built from server texts and names only, never from a request.
"""
import re
from urllib.parse import unquote_plus, urlsplit

from ..errors import ToolkitError

INVALID = "invalid"
LOCKED = "locked"
DISABLED = "disabled"
NOT_ACTIVATED = "not_activated"
TENANT_NOT_ALLOWED = "tenant_not_allowed"
NO_ACCESS = "no_access"
API_NOT_ALLOWED = "api_not_allowed"
CHANGE_REQUIRED = "change_required"
LOGIN_LIMIT = "login_limit"
NOT_LOGGED_IN = "not_logged_in"
FORBIDDEN = "forbidden"
UNKNOWN_TENANT = "unknown_tenant"
NOT_FOUND = "not_found"
ENDPOINT_MISSING = "endpoint_missing"
LOGIN_EXISTS = "login_exists"
THROTTLED = "throttled"
ACTION_DISABLED = "action_disabled"
PASSWORD_REJECTED = "password_rejected"
LICENCE = "licence_unavailable"
ROLE = "role_not_allowed"
VALIDATION = "validation"
OTHER = "other"
UNEXPLAINED = "unexplained"     # a redirect to the generic /ui/error page: no reason given

# First match wins; texts of reference §4 / §5 / §7, compared case-insensitively.
_TEXT_RULES = (
    (r"invalid credentials", INVALID),
    (r"is locked out", LOCKED),
    (r"account is disabled", DISABLED),
    (r"not activated yet", NOT_ACTIVATED),
    (r"not allowed to log in to the tenant", TENANT_NOT_ALLOWED),
    (r"does not have access to the", NO_ACCESS),
    (r"cannot send api requests", API_NOT_ALLOWED),
    (r"need to change your password", CHANGE_REQUIRED),
    (r"api login limit|number of concurrent api logins", LOGIN_LIMIT),
    (r"proper company id cannot be determined|pxundefinedcompanyexception", UNKNOWN_TENANT),
    (r"insufficient rights to access", FORBIDDEN),
    (r"not logged in", NOT_LOGGED_IN),
    (r"no entity satisfies the condition", NOT_FOUND),
    (r"entered login already exists", LOGIN_EXISTS),
    (r"custom error module does not recognize", THROTTLED),
    (r"button is disabled|pxactiondisabledexception", ACTION_DISABLED),
    (r"password length must be|password is not complex|doesn't match the confirmation", PASSWORD_REJECTED),
    (r"licen[cs]e", LICENCE),
    (r"\broles?\b", ROLE),
)
_FIELD_RULES = (("Password", PASSWORD_REJECTED), ("NewPassword", PASSWORD_REJECTED),
                ("LicenseTypes", LICENCE), ("Roles", ROLE))
_STATUS_FALLBACK = {401: NOT_LOGGED_IN, 403: FORBIDDEN, 404: ENDPOINT_MISSING, 422: VALIDATION,
                    429: THROTTLED}
_MAX_TEXT = 400


class Failure:
    """What a non-success answer means: a code, the status and the server's own words."""

    def __init__(self, code, status, text, field_errors=()):
        self.code, self.status, self.text, self.field_errors = code, status, text, list(field_errors)
        self.waited = 0.0

    def __repr__(self):
        return f"Failure({self.code!r}, {self.status}, {self.text!r})"


def classify(response):
    """Classify an error response by its texts (body, 422 field errors, redirect target)."""
    body = _json(response)
    field_errors = _field_errors(body) if isinstance(body, dict) else []
    texts = []
    if isinstance(body, dict):
        texts += [str(body[k]) for k in ("exceptionMessage", "message", "error") if body.get(k)]
    elif response.text and not isinstance(body, (list, dict)):
        texts.append(re.sub(r"<[^>]+>|\s+", " ", response.text).strip())
    if response.status_code in (301, 302, 303, 307) or response.headers.get("Location"):
        texts.append(unquote_plus(response.headers.get("Location", "")))
    text = " ".join(t for t in texts if t)[:_MAX_TEXT]
    if re.search(r"/ui/error/?$", urlsplit(response.headers.get("Location", "")).path, re.I) and not _by_text(text):
        # Newer builds send errors to their generic page without a word: the reason is unknown.
        return Failure(UNEXPLAINED, response.status_code, "a redirect to the generic error page, without a reason", [])
    code = next((code for field, code in _FIELD_RULES
                 if any(path.split("[")[0] == field for path, _message in field_errors)), None)
    for message in [m for _path, m in field_errors] + [text]:
        code = code or _by_text(message)
    return Failure(code or _STATUS_FALLBACK.get(response.status_code, OTHER), response.status_code,
                   _summary(text, field_errors), field_errors)


def _by_text(text):
    return next((code for pattern, code in _TEXT_RULES if re.search(pattern, text or "", re.I)), None)


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _field_errors(record, prefix=""):
    """[(path, error)] for every {"error": ...} field of a 422 record, details included."""
    found = []
    for key, value in record.items():
        if isinstance(value, dict) and value.get("error") and key != "custom":
            found.append((prefix + key, str(value["error"])))
        elif isinstance(value, list):
            for row in value:
                if isinstance(row, dict):
                    label = next((str(v.get("value")) for k, v in row.items()
                                  if k in ("Rolename", "LicenseType") and isinstance(v, dict)), "?")
                    found += _field_errors(row, f"{prefix}{key}[{label}].")
    return found


def _summary(text, field_errors):
    parts = [f"{path}: {error}" for path, error in field_errors]
    return "; ".join(parts + ([text] if text and not parts else []))[:_MAX_TEXT]


class AcumaticaError(ToolkitError):
    """Base of the errors an Acumatica site's answers become."""

    kind = "acumatica_error"


class InvalidCredentials(AcumaticaError):
    kind = "invalid_credentials"


class AccountLocked(AcumaticaError):
    kind = "account_locked"


class AccountDisabled(AcumaticaError):
    kind = "account_disabled"


class PasswordChangeRequired(AcumaticaError):
    kind = "password_change_required"


class SignInRefused(AcumaticaError):
    """Pending activation, wrong tenant, guest, or a user type without API access."""

    kind = "sign_in_refused"


class UnknownTenant(AcumaticaError):
    kind = "unknown_tenant"


class LoginLimitReached(AcumaticaError):
    kind = "login_limit"


class RateLimitedSite(AcumaticaError):
    kind = "rate_limited"


class InsufficientRights(AcumaticaError):
    kind = "insufficient_rights"


class EndpointNotPublished(AcumaticaError):
    kind = "endpoint_not_published"


class LicenceUnavailable(AcumaticaError):
    kind = "licence_unavailable"


class RoleNotAllowed(AcumaticaError):
    kind = "role_not_allowed"


class PasswordRejected(AcumaticaError):
    kind = "password_rejected"


class WriteNotDurable(AcumaticaError):
    """The site answered a write with success but the read-back shows it was dropped."""

    kind = "write_not_durable"


class CustomizationFailed(AcumaticaError):
    kind = "customization_failed"


class UnexpectedAnswer(AcumaticaError):
    kind = "api_error"


_SIGN_IN_ADVICE = {
    INVALID: (InvalidCredentials, "invalid credentials. Check the user name, password and tenant. "
              "Not retried, to avoid locking the account out (3 failures lock it by default)."),
    LOCKED: (AccountLocked, "the account is locked out after failed sign-ins. It unlocks itself after "
             "the lock-out duration (15 minutes by default), or an administrator unlocks it on Users "
             "(SM201010); find what keeps signing in with a wrong password."),
    DISABLED: (AccountDisabled, "the account is disabled. Enable it on Users (SM201010)."),
    CHANGE_REQUIRED: (PasswordChangeRequired, "the account must change its password (forced change, "
                      "empty or expired password). Set a new password on Users (SM201010) and clear "
                      "'Force User to Change Password on Next Login'."),
    NOT_ACTIVATED: (SignInRefused, "the account is pending activation. Enable it on Users (SM201010)."),
    TENANT_NOT_ALLOWED: (SignInRefused, "the account may not sign in to this tenant. Give it access to "
                         "the tenant on Users (SM201010) or use the right tenant."),
    NO_ACCESS: (SignInRefused, "the account is a guest without ERP access. Use an internal user."),
    API_NOT_ALLOWED: (SignInRefused, "the account's user type cannot send API requests. Pick a user "
                      "type whose Allowed Login Type is API or unrestricted (User Types, EP202500)."),
    LICENCE: (SignInRefused, "the account has no licence type that allows access. Give it one (e.g. "
              "Full User (Full API)) on the License Types tab of Users (SM201010)."),
    UNKNOWN_TENANT: (UnknownTenant, "the tenant does not exist on this site. Check the tenant name "
                     "(the Tenant box of the sign-in page)."),
    UNEXPLAINED: (SignInRefused, "the site answered with a redirect to its generic error page (/ui/error) and no "
                  "reason: wrong credentials, a locked account and the API Login Limit all look the same there. Not "
                  "tried again, since each try may count toward a lock-out: sign in once in a browser as that user "
                  "to see the reason, fix it, then run again."),
    LOGIN_LIMIT: (LoginLimitReached, "API Login Limit: the licence's concurrent API sessions or the "
                  "user's maximum concurrent logins are all in use. Idle API sessions free themselves "
                  "after about 10 minutes; sign out or pause other integrations using this site, or "
                  "restart the application (Apply Updates, SM203510), then run again."),
}


def sign_in_error(failure, site, user, waited=None):
    """The typed error for a failed sign-in of `user` on `site` ('URL (tenant T)')."""
    cls, advice = _SIGN_IN_ADVICE.get(failure.code, (UnexpectedAnswer, None))
    if advice is None:
        advice = f"unexpected answer HTTP {failure.status}: {failure.text or 'no message'}."
    waiting = {}
    if failure.code == LOGIN_LIMIT:
        advice += f" Gave up after waiting {waited or 0:.0f}s (retry_timeout)."
        waiting = {"waited_seconds": round(waited or 0, 1)}
    return cls(f"Signing in to MYOB Acumatica {site} as '{user}' failed: {advice}",
               status=failure.status, reason=failure.code, **waiting)


def forbidden_error(failure, site, user):
    form = re.search(r"access the (.+?) form", failure.text or "")
    what = form.group(1) if form else "a required"
    return InsufficientRights(
        f"'{user}' has insufficient rights to the {what} form on MYOB Acumatica {site} (HTTP 403). "
        "Give the admin user a role with access to that form (Administrator for Users SM201010, "
        "Customizer for Customization Projects SM204505).", status=failure.status, reason=failure.code)


def endpoint_missing_error(site, endpoint):
    return EndpointNotPublished(
        f"The toolkit's User endpoint {endpoint} is not published on MYOB Acumatica {site}. "
        "Run ocerra.acumatica.erp_endpoint for this site, or set publish_endpoint: true on erp_user "
        "(the admin user needs the Customizer role).", reason=ENDPOINT_MISSING)
