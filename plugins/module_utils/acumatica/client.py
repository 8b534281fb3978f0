"""One MYOB Acumatica site (URL + tenant) as seen by the toolkit's admin user.

Built on the shared HttpSeam (retries, Retry-After, TLS, the check-mode write guard). This
file adds what is Acumatica's own: the lazy cookie sign-in and the sign-out on close(), the
classification of answers into typed errors, the User entity of the toolkit's endpoint, its
actions (204, or 202 + Location to poll), the Customization Web API, and a probe sign-in as
another user on a separate cookie jar.
"""
import base64
import threading
import time
from urllib.parse import quote, urljoin

from . import errors as ae
from ..errors import RateLimited, ToolkitError, TransportError
from ..http import HttpSeam
from ..module_kit import check_options, require_http
from ..secrets import Secrets
from ..sign_in_guard import UNGUARDED
from .user_fields import CORE, MYOB

SERVICE = "MYOB Acumatica"
LOGIN = "entity/auth/login"
LOGOUT = "entity/auth/logout"
PROBE_OUTCOMES = {ae.INVALID, ae.LOCKED, ae.DISABLED, ae.NOT_ACTIVATED, ae.CHANGE_REQUIRED,
                  ae.LOGIN_LIMIT, ae.API_NOT_ALLOWED, ae.TENANT_NOT_ALLOWED, ae.NO_ACCESS, ae.LICENCE,
                  ae.UNEXPLAINED}
PROBE_OK = "ok"


def is_login_limit(response):
    """API Login Limit in any form (JSON 500/429, 302 to Error.aspx): retried like a 429."""
    return response.status_code >= 300 and ae.classify(response).code == ae.LOGIN_LIMIT


def wrap(value):
    return {"value": value}


class AcumaticaClient:
    """One admin session per module run: signed in on first use, signed out by close()."""

    def __init__(self, url, tenant, user, password, *, branch=None, validate_certs=True, ca_path=None,
                 timeout=30, retry_timeout=60, check_mode=False, warn=None, sleep=time.sleep,
                 poll_interval=5, poll_timeout=900, myob=False, guard=UNGUARDED):
        self._seam_options = dict(service=SERVICE, validate_certs=validate_certs, ca_path=ca_path,
                                  timeout=timeout, retry_timeout=retry_timeout, check_mode=check_mode,
                                  sleep=sleep)
        self.seam = HttpSeam(url, warn=warn, **self._seam_options)
        self.tenant, self.branch, self.user = tenant, branch, user
        self._password = password
        self.secrets = Secrets(password)
        self._warn = warn or (lambda _msg: None)
        self._sleep = sleep
        self.poll_interval, self.poll_timeout = poll_interval, poll_timeout
        self.site = f"{self.seam.base_url} (tenant '{tenant}')"
        self.signed_in = False
        self.probe_requests = 0
        # The User endpoint this client reads and writes: the MYOB edition maps licence types.
        self.edition = MYOB if myob else CORE
        self._probe_out = None      # the thread of a probe's sign-out
        self._guard = guard         # the admin's failed sign-ins across runs (sign_in_guard.py)

    @classmethod
    def from_module(cls, module, **extra):
        require_http(module)
        required = ("url", "tenant", "admin_user", "admin_password") + (("login",) if "login" in module.params else ())
        check_options(module, required=required, urls={"url": "erp_url"},
                      texts=("tenant", "admin_user", "branch", "login"))
        p = module.params
        return cls(p["url"], p["tenant"], p["admin_user"], p["admin_password"], branch=p.get("branch"),
                   validate_certs=p["validate_certs"], ca_path=p.get("ca_path"), timeout=p["timeout"],
                   retry_timeout=p["retry_timeout"], check_mode=module.check_mode, warn=module.warn,
                   **extra)

    @property
    def requests_sent(self):
        return self.seam.requests_sent + self.probe_requests

    # -- sessions -------------------------------------------------------------------------

    def _sign_in(self, seam, name, password, admin=True):
        """Sign `name` in on `seam`; None on success, else the classified Failure.

        Never retried after an answer about the credentials. The admin's sign-in (whose
        password is known to be right once it has worked) is retried like a read: on a 429, a
        login limit, 502/503/504 and dropped connections, while a site restarts. A probe's (a
        password that may be wrong, so each attempt may count toward a lock-out) only when the
        site cannot have checked it: a 429, a login limit, a 503 or a connection never opened.
        """
        body = {"name": name, "password": password, "tenant": self.tenant}
        if self.branch:
            body["branch"] = self.branch
        retry = dict(safe=True) if admin else dict(retry_statuses=(503,), retry_unsent=True)
        try:
            response = seam.request("POST", LOGIN, read_only=True, json=body, retry_when=is_login_limit,
                                    allow_redirects=False, opens_session=True, **retry)
        except RateLimited as exc:
            response = exc.response
        if 200 <= response.status_code < 300:
            return None
        failure = ae.classify(response)
        failure.text = self.secrets.scrub(failure.text)
        if failure.code == ae.THROTTLED:
            # IIS's 429 page on sign-in is the API login limit (it never names it): retried
            # like it, then reported with its advice.
            failure.code = ae.LOGIN_LIMIT
        failure.waited = seam.last_waited
        return failure

    def ensure_signed_in(self):
        self._adopt_late_sign_in()
        if self.signed_in:
            return
        with self._guard.attempt(self._password) as attempt:
            failure = self._sign_in(self.seam, self.user, self._password)
            if failure is None:
                attempt.worked()
            elif failure.code in (ae.INVALID, ae.LOCKED, ae.UNEXPLAINED):     # unexplained: it may have counted
                attempt.refused(locked=failure.code == ae.LOCKED)
        if failure is not None:
            raise ae.sign_in_error(failure, self.site, self.user, failure.waited)
        self.signed_in = True

    def renew_session(self):
        """Sign out and in again: publishing recycles the application, which ends its API
        sessions (and one that survived is signed out, not left holding a slot)."""
        try:
            self.sign_out()
        except ToolkitError:
            pass        # the recycle ended it already
        self.ensure_signed_in()

    def _adopt_late_sign_in(self):
        """A sign-in answered after this client stopped waiting opened a session: it is this
        client's again (used, then signed out), never left open."""
        if any(200 <= r.status_code < 300 for r in self.seam.settle_late()):
            self.signed_in = True

    def sign_out(self):
        """End the admin session now, if there is one (one a late sign-in opened too); the next
        call signs in again."""
        self._adopt_late_sign_in()
        if self.signed_in:
            self.signed_in = False
            self._sign_out(self.seam, self.user)

    def _sign_out(self, seam, name):
        response = seam.request("POST", LOGOUT, read_only=True, data=b"",
                                headers={"Content-Length": "0"})
        if response.status_code not in (200, 204):
            raise ae.UnexpectedAnswer(
                f"Signing out of {SERVICE} {self.site} as '{name}' answered HTTP {response.status_code}; "
                "its API session stays open until it idles out (about 10 minutes).")

    def close(self):
        """Sign out if signed in (while a probe's sign-out may still be under way), and wait
        for that one; safe to call twice. A failure raises for run() to warn."""
        try:
            self.sign_out()
        finally:
            self.settle()
            self.seam.close()

    def probe_signin(self, login, password):
        """Sign in as `login` on a separate cookie jar and sign out at once.

        Returns PROBE_OK or one of PROBE_OUTCOMES; anything else raises. One probe costs an
        API session for a moment and, when the password is wrong, one failed attempt. The
        caller goes on while a successful probe signs out (on a thread: its answer decides
        nothing); settle() waits for it, as the next probe and close() do, and must come before
        anything else signs in as `login` (MYOB allows one session per user by default).
        """
        self.settle()
        self.secrets.add(password)
        seam = HttpSeam(self.seam.base_url, **self._seam_options)
        try:
            failure = self._sign_in(seam, login, password, admin=False)
        except BaseException:
            if seam.late:   # its answer may still come, with a session to sign out: on a thread
                self._probe_out = threading.Thread(target=self._probe_sign_out, args=(seam, login, True),
                                                   name="probe-sign-out", daemon=True)
                self._probe_out.start()
            else:
                self._probe_done(seam)
            raise
        if failure is None:
            self._probe_out = threading.Thread(target=self._probe_sign_out, args=(seam, login),
                                               name="probe-sign-out", daemon=True)
            self._probe_out.start()
            return PROBE_OK
        self._probe_done(seam)
        if failure.code in PROBE_OUTCOMES:
            return failure.code
        raise ae.sign_in_error(failure, self.site, login, failure.waited)

    def _probe_sign_out(self, seam, login, late=False):
        try:
            if not late or any(200 <= r.status_code < 300 for r in seam.settle_late()):
                self._sign_out(seam, login)
        except ToolkitError as exc:
            self.warn(exc.message)
        except Exception as exc:  # noqa: BLE001 - a failed sign-out warns, never fails
            self.warn(f"Signing out of {SERVICE} {self.site} as '{login}' failed: {type(exc).__name__}.")
        finally:
            self._probe_done(seam)

    def _probe_done(self, seam):
        self.probe_requests += seam.requests_sent
        seam.close()

    def settle(self):
        """Wait for a probe's sign-out still under way."""
        if self._probe_out is not None:
            self._probe_out.join()
            self._probe_out = None

    # -- requests -------------------------------------------------------------------------

    def call(self, method, path, *, what, expect=(200,), safe=False, read_only=False, **kwargs):
        """One request in the admin session; returns the response or raises a typed error.

        `what` names the operation for messages ("Reading user 'X'"). Answers outside
        `expect` raise UnexpectedAnswer carrying `.failure` for callers that refine it.
        """
        self.ensure_signed_in()
        try:
            response = self.seam.request(method, path, safe=safe, read_only=read_only,
                                         allow_redirects=False, **kwargs)
        except RateLimited as exc:
            raise ae.RateLimitedSite(
                f"{what} on {SERVICE} {self.site} was rate limited (HTTP 429) after "
                f"{exc.details.get('waited_seconds', 0):.0f}s of waiting. Run again later, lower forks, "
                "or raise retry_timeout.", **exc.details) from None
        if response.status_code in expect:
            return response
        raise self.error(ae.classify(response), what)

    def call_json(self, method, path, *, what, **kwargs):
        """call() for answers that must be JSON (a proxy's HTML page is an error, not a bug)."""
        response = self.call(method, path, what=what, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ae.UnexpectedAnswer(
                f"{what} on {SERVICE} {self.site} answered HTTP {response.status_code} with something that "
                "is not JSON. Check that the URL is the site's base URL and no proxy answers instead.",
                status=response.status_code) from None

    def error(self, failure, what):
        failure.text = self.secrets.scrub(failure.text)
        if failure.code == ae.FORBIDDEN:
            return ae.forbidden_error(failure, self.site, self.user)
        if failure.code == ae.NOT_LOGGED_IN:
            message = (f"{what} on {SERVICE} {self.site} failed: the admin session of '{self.user}' ended "
                       "(HTTP 401). The site may have restarted; run again.")
        else:
            message = (f"{what} on {SERVICE} {self.site} failed: HTTP {failure.status}: "
                       f"{failure.text or 'no message'}")
        error = ae.UnexpectedAnswer(message, status=failure.status, reason=failure.code)
        error.failure = failure
        return error

    def warn(self, message):
        self._warn(message)

    # -- the User entity --------------------------------------------------------------------

    def _user_path(self, login, suffix=""):
        return f"{self.edition.entity_path}/{quote(login, safe='')}{suffix}"

    def get_user(self, login):
        """The user record with its detail rows (Roles; LicenseTypes in the MYOB edition), or
        None when it does not exist."""
        try:
            return self.call_json("GET", self._user_path(login), params=self.edition.expand, safe=True,
                                  what=f"Reading user '{login}'")
        except ae.UnexpectedAnswer as exc:
            code = getattr(exc, "failure", None) and exc.failure.code
            if code == ae.NOT_FOUND:
                return None
            if code == ae.ENDPOINT_MISSING:
                raise ae.endpoint_missing_error(self.site, self.edition.name) from None
            raise

    def put_user(self, record, *, create, what):
        """Create-only (If-None-Match: *) or update-only (If-Match: *) upsert of the user."""
        headers = {"If-None-Match": "*"} if create else {"If-Match": "*"}
        return self.call_json("PUT", self.edition.entity_path, json=record, params=self.edition.expand,
                              headers=headers, safe=not create, what=what)

    def delete_user(self, login):
        self.call("DELETE", self._user_path(login), expect=(200, 204), what=f"Deleting user '{login}'")

    def user_action(self, action, login, parameters=None):
        """Invoke an action on the user; waits for a 202 + Location to finish (bounded)."""
        body = {"entity": {"Username": wrap(login)},
                "parameters": {k: wrap(v) for k, v in (parameters or {}).items()}}
        what = f"Action {action} on user '{login}'"
        response = self.call("POST", f"{self.edition.entity_path}/{action}", json=body, expect=(200, 202, 204),
                             what=what)
        waited, delay, location = 0.0, 0.2, None
        while response.status_code == 202:
            location = response.headers.get("Location") or location  # polls may not repeat it
            if not location:
                raise ae.UnexpectedAnswer(f"{what} on {SERVICE} {self.site} answered 202 without a Location "
                                          "to follow; check the user on Users (SM201010).")
            if waited >= self.poll_timeout:
                raise ae.UnexpectedAnswer(f"{what} on {SERVICE} {self.site} was still running after "
                                          f"{waited:.0f}s; check the user on Users (SM201010) and run again.")
            self._sleep(delay)
            waited, delay = waited + delay, min(delay * 2, self.poll_interval)
            response = self.call("GET", urljoin(self.seam.base_url + "/", location), expect=(200, 202, 204),
                                 safe=True, what=what)

    def contract_api_problem(self, entity_path):
        """None when the entity's schema can be read, else what went wrong (a health check)."""
        try:
            self.call("GET", f"{entity_path}/$adHocSchema", safe=True, what="Reading the User entity's schema")
        except ae.ToolkitError as exc:
            return exc.message
        return None

    def endpoints(self):
        """(name, version) of every contract endpoint the tenant lists at GET /entity."""
        data = self.call_json("GET", "entity", safe=True, what="Listing the web service endpoints")
        items = data.get("endpoints", []) if isinstance(data, dict) else data
        return {(e.get("name"), e.get("version")) for e in items if isinstance(e, dict)}

    # -- Customization Web API --------------------------------------------------------------

    def customization(self, method, body=None, *, read_only=False, safe=False):
        """POST /CustomizationApi/<method>; in-band `logType: error` entries raise."""
        what = f"Customization API {method}"
        try:
            data = self.call_json("POST", f"CustomizationApi/{method}", json=body or {}, read_only=read_only,
                                  safe=safe, what=what)
        except ae.InsufficientRights as exc:
            raise ae.InsufficientRights(exc.message + " Publishing the User endpoint needs the Customizer "
                                        "role (Customization Projects, SM204505).", **exc.details) from None
        errors = [str(e.get("message")) for e in data.get("log") or [] if e.get("logType") == "error"]
        if errors:
            raise ae.CustomizationFailed(
                f"{what} on {SERVICE} {self.site} reported: {'; '.join(errors)}",
                publish_log=_log_lines(data))
        return data

    def published_projects(self):
        data = self.customization("getPublished", read_only=True, safe=True)
        return [p.get("name") for p in data.get("projects") or []]

    def get_project(self, name):
        """The project's ZIP content, or None when the tenant does not hold it."""
        try:
            data = self.customization("getProject", {"projectName": name, "IsAutoResolveConflicts": False},
                                      read_only=True, safe=True)
        except ae.CustomizationFailed as exc:
            if "not found" in exc.message.lower():
                return None
            raise
        content = data.get("projectContentBase64")
        return base64.b64decode(content) if content else None

    def import_project(self, name, description, content):
        return self.customization("import", {
            "projectLevel": 0, "isReplaceIfExists": True, "projectName": name,
            "projectDescription": description,
            "projectContentBase64": base64.b64encode(content).decode("ascii")})

    def unpublish(self, name):
        """Take one project back: republish the tenant's other published projects on their own
        (as the Customization Projects form does when one is unticked). Returns the log lines."""
        others = [n for n in self.published_projects() if str(n).casefold() != name.casefold()]
        if not others:
            return _log_lines(self.customization("unpublishAll", {"tenantMode": "Current"}))
        return self.publish(others, merge=False)

    def publish(self, names, merge=True):
        """publishBegin (current tenant; merged with the published projects unless `merge` is
        false), then poll publishEnd until done or timed out.

        The site restarts while publishing, so dropped connections and 502/503 answers are
        part of polling; only the time limit ends it. Returns the publish log lines.
        """
        self.customization("publishBegin", {
            "isMergeWithExistingPackages": merge, "isOnlyValidation": False, "isOnlyDbUpdates": False,
            "isReplayPreviouslyExecutedScripts": False, "projectNames": list(names),
            "tenantMode": "Current", "tenantLoginNames": []})
        waited = 0.0
        while True:
            try:
                data = self.customization("publishEnd", safe=True)
                if data.get("isCompleted"):
                    if data.get("isFailed"):
                        raise ae.CustomizationFailed(
                            f"Publishing {', '.join(names)} on {SERVICE} {self.site} failed; see publish_log.",
                            publish_log=_log_lines(data))
                    return _log_lines(data)
            except TransportError:
                pass
            except ae.UnexpectedAnswer as exc:
                if getattr(exc, "failure", None) is None or exc.failure.status not in (502, 503, 504):
                    raise
            if waited >= self.poll_timeout:
                raise ae.CustomizationFailed(
                    f"Publishing {', '.join(names)} on {SERVICE} {self.site} did not finish within "
                    f"{self.poll_timeout}s. Check Customization Projects (SM204505) and run again.")
            self._sleep(self.poll_interval)
            waited += self.poll_interval


def _log_lines(data):
    return [f"{e.get('logType', '?')}: {e.get('message', '')}" for e in data.get("log") or []]
