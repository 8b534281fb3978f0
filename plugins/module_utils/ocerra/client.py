"""The Ocerra adapter: the only code that knows Ocerra's paths and payload shapes.

Ocerra publishes no API for its MYOB Acumatica settings. The routes, fields and status codes
below are the toolkit's assumption (reference ocerra.md §6); moving to Ocerra's confirmed
endpoints later is a change in this file only. The rest of the toolkit sees the interface of
ocerra.md §6.1 with the toolkit's own field names:

    list_clients(), find_client(name), get_settings(id), put_settings(id, changes),
    test_connection(id), ensure_enabled(id)

A connection is {client_id, client_name, erp_url, tenant, branch, login, has_password,
enabled, status: {code, message, checked}, updated}, never with a password.
"""
import threading
import time

from ..errors import ApiError
from ..http import HttpSeam
from ..module_kit import check_options, ocerra_connection_spec, require_http
from ..secrets import Secrets
from ..sign_in_guard import UNGUARDED
from .errors import (OcerraAuthError, OcerraForbidden, OcerraNotFound, OcerraRejected, OcerraServerError,
                     WrongClient)

SETTINGS = "api/Acumatica/Settings"
CONNECTION_TEST = "api/Acumatica/Connection/Test"
CLIENT_SWITCH = "api/Client/Switch"
CURRENT_CLIENT = "api/Client/Current"
OTHER_CLIENTS = "odata/OtherClients()"

# toolkit name -> Ocerra settings field, both ways (the password is written, never read back)
FIELDS = {"erp_url": "baseUrl", "tenant": "tenant", "branch": "branch", "login": "login",
          "password": "password", "enabled": "enableConnection"}
WRITE_ONLY = {"password"}

CONNECTED = "Connected"
IDLE = {"NotConfigured", "Disabled"}            # no sign-in result behind these
RETRYABLE = {"Unreachable", "LicenseLimit"}     # may clear by itself; all others need a person
STATUS_ADVICE = {
    "InvalidCredentials": "the API user's password in the ERP and the one stored in Ocerra "
                          "differ: run the provision or restore_connection playbook, which sets "
                          "one password in both.",
    "AccountLocked": "the ERP has locked the API user out: unlock it first (the erp_user module "
                     "unlocks it), then run again with its current password.",
    "PasswordChangeRequired": "the ERP forces a password change on the API user: run the "
                              "restore_connection playbook.",
    "LicenseLimit": "the ERP licence has no free API session: sign out other API sessions or wait "
                    "about ten minutes for idle ones to expire, then run again.",
    "Unreachable": "Ocerra could not reach the ERP: check erp_url and that the site is up.",
    "TenantNotFound": "the ERP has no such tenant: check tenant.",
    "NotConfigured": "give erp_url, tenant, login and password.",
    "Disabled": "Enable Connection is off: run with enabled: true.",
}
SELECTIONS = ("auto", "query_param", "switch_call")

# Entities whose settings are read at once when every entity is listed (one connection each):
# enough to hide Ocerra's latency over hundreds of entities, few enough not to look like a flood.
LISTING_WORKERS = 32


def argument_spec():
    """The shared Ocerra connection options plus how requests choose their client."""
    spec = ocerra_connection_spec()
    spec["ocerra_client_selection"] = dict(type="str", default="auto", choices=list(SELECTIONS))
    return spec


class OcerraClient:
    """One Ocerra service user over one HttpSeam (Basic auth, TLS, timeouts, safe retries).

    Client selection (ocerra.md §3 leaves it open): every settings call carries ?clientId=
    and checks the clientId of the answer. `auto` falls back to POST Client/Switch the first
    time an answer comes back for another client; a write is only ever sent after a read
    has proved the selection works, and its answer is checked too.

    `password` is the service user's password, or a callable that gives it when the first
    request needs it (a vaulted password shared by every site is then decrypted only where it
    is used).
    """

    def __init__(self, url, username, password, *, selection="auto", validate_certs=True,
                 ca_path=None, timeout=30, retry_timeout=60, check_mode=False, warn=None,
                 sleep=time.sleep, guard=UNGUARDED):
        self.username = username
        self.selection = selection
        self.http = HttpSeam(url, service="Ocerra", validate_certs=validate_certs, ca_path=ca_path,
                             timeout=timeout, retry_timeout=retry_timeout, check_mode=check_mode,
                             warn=warn, sleep=sleep, pool_size=LISTING_WORKERS)
        self.secrets = Secrets()
        self._password = password
        self._authenticating = threading.Lock()     # the listing's threads share this client
        self._current = None       # the client a switch call last selected
        self._accepted = False     # the credentials worked for an earlier request
        self._names = {}
        self._guard = guard        # the service user's failed sign-ins across runs (sign_in_guard.py)

    @classmethod
    def from_module(cls, module):
        require_http(module)
        check_options(module, required=("ocerra_url", "ocerra_username", "ocerra_password"),
                      urls={"ocerra_url": "ocerra_url", "erp_url": "erp_url"},
                      texts=("ocerra_username", "tenant", "login", "branch", "client_name"))
        p = module.params
        return cls(p["ocerra_url"], p["ocerra_username"], p["ocerra_password"],
                   selection=p["ocerra_client_selection"],
                   validate_certs=p["ocerra_validate_certs"], ca_path=p["ocerra_ca_path"],
                   timeout=p["timeout"], retry_timeout=p["retry_timeout"],
                   check_mode=module.check_mode, warn=module.warn)

    def close(self):
        self.http.close()

    # ---- clients ---------------------------------------------------------------------------
    def list_clients(self):
        """[{client_id, client_name}] the service user can reach: its current client first."""
        try:
            current = [self._call("GET", CURRENT_CLIENT)]
        except OcerraNotFound:     # a user with no client at all
            current = []
        others = self._call("GET", OTHER_CLIENTS).get("value") or []
        clients, seen = [], set()
        for raw in current + others:
            cid = _guid(raw.get("clientId") or raw.get("ClientId") or raw.get("id"))
            if cid and cid not in seen:
                seen.add(cid)
                name = raw.get("name") or raw.get("Name")
                self._names[cid] = name
                clients.append({"client_id": cid, "client_name": name})
        return clients

    def find_client(self, name):
        """The one client named `name` (case-insensitive), or an error listing what exists."""
        clients = self.list_clients()
        found = [c for c in clients if (c["client_name"] or "").strip().casefold() == name.strip().casefold()]
        if len(found) == 1:
            return found[0]
        if found:
            raise OcerraNotFound(
                f"{len(found)} Ocerra clients are named '{name}': give client_id instead "
                f"({', '.join(c['client_id'] for c in found)}).")
        raise OcerraNotFound(
            f"The Ocerra user '{self.username}' sees no client named '{name}' (it sees "
            f"{len(clients)}: {', '.join(sorted(str(c['client_name']) for c in clients)) or 'none'}). "
            "Check client_name, or give the user access to that client.")

    # ---- settings --------------------------------------------------------------------------
    def get_settings(self, client_id):
        return self._connection(self._settings_call("GET", client_id))

    def put_settings(self, client_id, changes):
        """Write the given toolkit fields only (a partial PUT); returns the saved connection."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"not an Ocerra setting: {sorted(unknown)}")
        if changes.get("password") is not None:
            self.secrets.add(changes["password"])
        body = {FIELDS[k]: v for k, v in changes.items()}
        # A save is idempotent, so it is retried like a read (503s, dropped connections); but a save
        # that switches the connection on runs Ocerra's test, one ERP sign-in each: that one is
        # retried only where Ocerra cannot have acted on it.
        return self._connection(self._settings_call("PUT", client_id, body, safe=body.get("enableConnection") is not True))

    def ensure_enabled(self, client_id):
        """The second save a person makes after Ocerra dropped Enable Connection."""
        return self.put_settings(client_id, {"enabled": True})

    def test_connection(self, client_id):
        """Ocerra's sign-in test with the stored credentials; the new status. Never retried:
        each failed test is one more failed ERP sign-in toward the API user's lock-out."""
        self._select(client_id)
        answer = self._call("POST", CONNECTION_TEST, client_id)
        if answer.get("id") and _guid(answer["id"]) != _guid(client_id):
            raise self._wrong_client(client_id, answer["id"], wrote=True)
        return _status(answer.get("status"))

    # ---- client selection ------------------------------------------------------------------
    def _settings_call(self, method, client_id, body=None, safe=None):
        client_id = _guid(client_id)
        self._select(client_id)
        model = self._call(method, SETTINGS, client_id, body, safe=safe)
        if _guid(model.get("clientId")) == client_id:
            return model
        if method != "GET" or self.selection != "auto":
            raise self._wrong_client(client_id, model.get("clientId"), wrote=method != "GET")
        self.selection = "switch_call"   # the server ignores ?clientId=: switch from now on
        self._select(client_id)
        model = self._call(method, SETTINGS, client_id, body, safe=safe)
        if _guid(model.get("clientId")) != client_id:
            raise self._wrong_client(client_id, model.get("clientId"), wrote=False)
        return model

    def _select(self, client_id):
        if self.selection != "switch_call" or self._current == client_id:
            return
        try:
            # Changes only which client later calls act on, so check mode may send it.
            self._call("POST", CLIENT_SWITCH, client_id, read_only=True, safe=True)
        except OcerraNotFound as exc:
            if not exc.details.get("no_route"):
                raise
            raise WrongClient(
                f"Ocerra answered for another client than {client_id} and has no client switch: "
                f"the user '{self.username}' cannot choose that client. If Ocerra gives each "
                "client its own service user, use that client's user.", client_id=client_id) from None
        self._current = client_id

    def _wrong_client(self, client_id, answered, wrote):
        hint = (f" Its settings may have been written to client {answered}: check both. Another run "
                "with the same Ocerra user probably switched its current client meanwhile; run "
                "entities of one Ocerra user one at a time (or give each client its own user)."
                if wrote else "")
        return WrongClient(f"Ocerra answered for client {answered} instead of {client_id}.{hint}",
                           client_id=client_id)

    # ---- HTTP and errors -------------------------------------------------------------------
    def _authenticate(self):
        """Basic auth on the session, the first time a request needs it; the password."""
        with self._authenticating:
            if self.http.session.auth is not None:
                return self.http.session.auth[1].decode()
            password = self._password() if callable(self._password) else self._password
            self.secrets.add(password, basic_user=self.username)
            # UTF-8 (RFC 7617's charset, what ASP.NET Core Basic handlers usually decode);
            # requests would send Latin-1 and fail on anything beyond it.
            self.http.session.auth = (self.username.encode(), password.encode())
            return password

    def _call(self, method, path, client_id=None, body=None, read_only=False, safe=None):
        password = self._authenticate()
        kwargs = dict(params={"clientId": client_id} if client_id else None, json=body,
                      safe=(method == "GET") if safe is None else safe, read_only=read_only)
        if self._accepted:
            response = self.http.request(method, path, **kwargs)
        else:   # the first answer says whether the credentials work: guarded across runs
            with self._guard.attempt(password) as attempt:
                response = self.http.request(method, path, **kwargs)
                if response.status_code == 401:
                    attempt.refused()
                elif response.status_code < 400:
                    attempt.worked()
        if response.status_code >= 400:
            raise self._error(response, method, path, client_id)
        self._accepted = True
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise ApiError(f"Ocerra answered {method} {path} with HTTP {response.status_code} but "
                           "not with JSON: is ocerra_url the Ocerra API?", status=response.status_code) from None

    def _error(self, response, method, path, client_id):
        status = response.status_code
        where = f"{method} {path}" + (f" for client {client_id}" if client_id else "")
        text = self._server_text(response)
        details = {"status": status, "url": f"{self.http.base_url}/{path}", "client_id": client_id}
        if status == 401:
            if self._accepted:
                return OcerraAuthError(
                    f"Ocerra answered HTTP 401 on {where} although the same credentials worked "
                    f"earlier in this run: the user '{self.username}' may have no access to that "
                    "client, or it was just locked. Not retried.", **details)
            return OcerraAuthError(
                f"Ocerra rejected the service user's credentials (HTTP 401 on {where}): check "
                "ocerra_username and ocerra_password. The user may be locked after repeated "
                "failures, or use two-factor authentication, which Basic auth cannot pass; use a "
                "dedicated service user without 2FA. Not retried, so as not to lock it further.",
                **details)
        if status == 403:
            return OcerraForbidden(
                f"The Ocerra user '{self.username}' may not do {where} (HTTP 403"
                f"{': ' + text if text else ''}): it needs the accountant role on that client. "
                "Ask an Ocerra administrator to grant it.", **details)
        if status == 404:
            if client_id and text:
                return OcerraNotFound(
                    f"Ocerra does not know client {client_id} (HTTP 404 on {where}: {text}): check "
                    "client_id; ocerra_connection_info lists the clients the user can see.", **details)
            # ASP.NET's empty 404: no such route (or an unknown client on a terse server)
            return OcerraNotFound(f"Ocerra has no {where} (HTTP 404): check ocerra_url"
                                  f"{' and client_id' if client_id else ''}.", no_route=True, **details)
        if status == 400:
            return OcerraRejected(f"Ocerra rejected {where} (HTTP 400): {text or 'no reason given'}.",
                                  **details)
        if status >= 500:
            return OcerraServerError(
                f"Ocerra failed on {where} (HTTP {status}{': ' + text if text else ''}). Ocerra may "
                "be down: run again later; the module reads the settings first, so a save that "
                "went through is not repeated.", **details)
        return ApiError(f"Ocerra answered HTTP {status} on {where}{': ' + text if text else ''}.",
                        **details)

    def _server_text(self, response):
        """The server's own reason (errorMessage, ProblemDetails, plain text), secrets removed."""
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, dict):
            body = (body.get("errorMessage") or body.get("detail") or body.get("title")
                    or body.get("message") or "")
        return self.scrub(str(body or "").strip()[:300])

    def scrub(self, text):
        """`text` without any secret this client knows, in any of its encoded forms."""
        return self.secrets.scrub(text)

    def _connection(self, model):
        cid = _guid(model.get("clientId"))
        settings = {key: model.get(name) for key, name in FIELDS.items() if key not in WRITE_ONLY}
        return {"client_id": cid, "client_name": model.get("clientName") or self._names.get(cid),
                **settings, "enabled": bool(settings["enabled"]), "has_password": bool(model.get("hasPassword")),
                "status": _status(model.get("status")), "updated": model.get("updatedDate")}


def _status(raw):
    raw = raw or {}
    return {"code": raw.get("code"), "message": raw.get("message"), "checked": raw.get("checkedDate")}


def _guid(value):
    return str(value).strip().strip("{}").lower() if value else None
