"""State and rules of the fake Ocerra (ocerra.md §1-§6): users, clients, settings, sync.

Everything here is guarded by one lock, except the ERP sign-ins, which run outside it so a
slow ERP never stalls the other Ocerra calls; their result is stored only if the settings
did not change meanwhile (the per-client `version`).
"""
import copy
import hashlib
import hmac
import math
import os
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sandbox.log import RequestLog
from sandbox.faults import Faults
from . import switches as sw
from .errors import NoRoute, Unauthorized, shaped

SYNC_PERIOD = timedelta(minutes=20)   # ocerra.md §5
MAX_CATCH_UP = 3                      # a clock jump of a day must not fire 72 syncs at once
WRITABLE = ("baseUrl", "tenant", "branch", "login", "password", "enableConnection",
            "autoExportStatuses")
READ_ONLY = ("clientId", "hasPassword", "status", "updatedDate")
ACCOUNTANT = "accountant"     # may edit General Settings; "employee" may not (ocerra.md §1)
ROLES = (ACCOUNTANT, "employee")
# erp_probe outcomes → status codes. A disabled ERP account has no code of its own in §6.3;
# like a bad password it must stop the client at once, so it shares InvalidCredentials.
OUTCOME_CODES = {"connected": "Connected", "invalid_credentials": "InvalidCredentials",
                 "account_locked": "AccountLocked", "account_disabled": "InvalidCredentials",
                 "password_change_required": "PasswordChangeRequired",
                 "licence_limit": "LicenseLimit", "tenant_not_found": "TenantNotFound",
                 "unreachable": "Unreachable"}
# Low on purpose: every request verifies Basic credentials and the benchmarks hit this server.
_PBKDF2_ROUNDS = 1000


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)


def _iso(when):
    return when.isoformat(timespec="seconds").replace("+00:00", "Z") if when else None


def _guid(value) -> str:
    return str(uuid.UUID(str(value)))


@dataclass
class _User:
    login: str
    salt: bytes
    hashed: bytes
    roles: dict            # client id → role, in seed order
    two_factor: bool
    current: str | None
    failed: int = 0
    lockout_end: datetime | None = None


@dataclass
class _Settings:
    baseUrl: str | None = None
    tenant: str | None = None
    branch: str | None = None
    login: str | None = None
    password: str | None = None   # plain: Ocerra must replay it to the ERP; never exposed
    enableConnection: bool = False
    autoExportStatuses: str | None = None
    status: dict = field(default_factory=dict)
    updatedDate: datetime | None = None
    version: int = 0

    def configured(self) -> bool:
        return bool(self.baseUrl and self.login and self.password)


@dataclass
class _Client:
    id: str
    name: str
    is_active: bool
    settings: _Settings


class OcerraModel:
    def __init__(self, clock, erp_signin=None, erp_verify=True):
        if erp_signin is None:
            from sandbox.erp_probe import erp_signin
        self.clock = clock
        self.log = RequestLog()
        self.faults = Faults()
        self._erp_signin = erp_signin
        self._erp_verify = erp_verify
        self._lock = threading.Lock()
        self._seed = {}
        self._acumatica_url = ""
        self._load({})

    # ---- seeding -------------------------------------------------------------------------
    def from_seed(self, section: dict, acumatica_url: str) -> "OcerraModel":
        self._acumatica_url = acumatica_url.rstrip("/")
        self.reset(section)
        return self

    def reset(self, section: dict | None = None) -> None:
        """Back to the seed (or a new one): state, switches, log, counters, faults, audit."""
        seed = self._seed if section is None else self._hashed_seed(section)
        self._load(seed)        # raises ValueError on a bad seed, keeping the old one
        self._seed = seed
        self.log.clear()
        self.faults.clear()

    @staticmethod
    def _hashed_seed(section: dict) -> dict:
        """A copy of the seed with each user's password replaced by a salted hash, so even
        the copy kept for reset holds no Ocerra password."""
        section = copy.deepcopy(section)
        for user in section.get("users") or []:
            user["salt"] = os.urandom(16)
            user["hashed"] = _hash(user.pop("password"), user["salt"])
        return section

    def _load(self, section: dict) -> None:
        switches = sw.merged(sw.DEFAULTS, section.get("switches") or {})
        clients = {}
        for c in section.get("clients") or []:
            client = _Client(_guid(c["id"]), c["name"], c.get("isActive", True),
                             self._seed_settings(c.get("settings") or {}, switches))
            clients[client.id] = client
        users = {}
        for u in section.get("users") or []:
            roles = {}
            for entry in u.get("clients") or []:
                cid, role = ((entry["id"], entry.get("role", ACCOUNTANT)) if isinstance(entry, dict)
                             else (entry, ACCOUNTANT))
                if _guid(cid) not in clients:
                    raise ValueError(f"ocerra user {u['login']!r}: unknown client {cid}")
                if role not in ROLES:
                    raise ValueError(f"ocerra user {u['login']!r}: role must be one of {ROLES}")
                roles[_guid(cid)] = role
            users[u["login"].casefold()] = _User(u["login"], u["salt"], u["hashed"], roles,
                                                 bool(u.get("two_factor")), next(iter(roles), None))
        with self._lock:
            self._clients, self._users = clients, users
            self._switches = switches
            self._audit = []
            self._last_sync = self.clock.now()

    def _seed_settings(self, raw: dict, switches: dict) -> _Settings:
        unknown = set(raw) - set(WRITABLE)
        if unknown:
            raise ValueError(f"ocerra client settings: unknown fields {sorted(unknown)}")
        s = _Settings(**raw)
        if s.baseUrl:
            s.baseUrl = s.baseUrl.replace("{acumatica}", self._acumatica_url)
        # A seeded enabled connection is taken as working, so a demo starts in a clean state.
        code = "Connected" if s.enableConnection and s.configured() else self._idle_code(s)
        s.status = self._status(code, self.clock.now(), switches)
        return s

    # ---- switches, inspection ------------------------------------------------------------
    def switches(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._switches)

    def set_switches(self, changes: dict) -> dict:
        """Merge `changes` (ValueError on an unknown switch or value); returns all switches."""
        with self._lock:
            self._switches = sw.merged(self._switches, changes)
            return copy.deepcopy(self._switches)

    def audit(self, client_id=None) -> list:
        """Who changed which fields of which client, when: names only, never values."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._audit
                    if client_id is None or e["clientId"] == client_id]

    def counters(self, client_id=None) -> dict:
        return self.log.counters(client_id)

    def state(self) -> dict:
        """Users, clients and settings, never a password or a hash."""
        with self._lock:
            return {
                "users": [{"login": u.login, "clients": dict(u.roles), "current": u.current,
                           "twoFactor": u.two_factor, "accessFailedCount": u.failed,
                           "lockoutEnd": _iso(u.lockout_end)} for u in self._users.values()],
                "clients": [{**self._client_model(c), "settings": self._settings_model(c)}
                            for c in self._clients.values()],
                "lastSync": _iso(self._last_sync),
            }

    # ---- Basic auth (ASP.NET Identity lock-out) -------------------------------------------
    def authenticate(self, login, password) -> str:
        """The user's login, or Unauthorized. Only a wrong password counts as a failure."""
        with self._lock:
            user = self._users.get((login or "").casefold())
            if user is None or password is None:
                raise Unauthorized()
            now = self.clock.now()
            if user.lockout_end and user.lockout_end > now:
                raise Unauthorized()
            if not hmac.compare_digest(_hash(password, user.salt), user.hashed):
                threshold = self._switches["basic_lockout_threshold"]
                if threshold:
                    user.failed += 1
                    if user.failed >= threshold:
                        user.failed = 0
                        user.lockout_end = now + timedelta(
                            seconds=self._switches["basic_lockout_seconds"])
                raise Unauthorized()
            user.failed, user.lockout_end = 0, None
            if user.two_factor:   # Basic cannot answer the second factor (ocerra.md §1)
                raise Unauthorized()
            return user.login

    # ---- clients ---------------------------------------------------------------------------
    def current_client(self, login: str, on_target=None) -> dict:
        with self._lock:
            user = self._user(login)
            if user.current is None:
                raise self._error(404, "The user has no current client.")
            return self._client_model(self._reach(user, user.current, None, on_target))

    def other_clients(self, login: str) -> list:
        with self._lock:
            user = self._user(login)
            return [self._client_model(self._clients[cid]) for cid in user.roles
                    if cid != user.current]

    def list_clients(self, login: str, page_index=None, page_size=None) -> list:
        """ASSUMED REST list (ocerra.md §2 conventions): bare array, 0-based pages."""
        with self._lock:
            user = self._user(login)
            index = self._int_param("pageIndex", page_index, 0, 0)
            size = self._int_param("pageSize", page_size, 20, 1)
            ids = list(user.roles)[index * size:(index + 1) * size]
            return [self._client_model(self._clients[cid]) for cid in ids]

    def switch_client(self, login: str, client_id, on_target=None) -> dict:
        """POST /api/Client/Switch: exists only when client_selection is switch_call."""
        with self._lock:
            if self._switches["client_selection"] != "switch_call":
                raise NoRoute()
            user = self._user(login)
            client = self._reach(user, self._parse_client_id(client_id), None, on_target)
            user.current = client.id
            return self._client_model(client)

    # ---- Acumatica settings --------------------------------------------------------------
    def get_settings(self, login: str, client_id=None, on_target=None) -> dict:
        with self._lock:
            return self._settings_model(self._target(login, client_id, on_target))

    def put_settings(self, login: str, client_id, body, on_target=None) -> dict:
        """Partial update. A login or password change switches Enable Connection off as
        `enable_drop_mode` says; a save that leaves it on signs in to the ERP when
        `save_runs_test`, and a failed sign-in still succeeds, with the outcome in `status`."""
        with self._lock:
            client = self._target(login, client_id, on_target)
            s = client.settings
            given = self._validated(body)
            new = replace(s, **{k: v for k, v in given.items() if k != "enableConnection"})
            login_changed = "login" in given and given["login"] != s.login
            password_changed = "password" in given and (
                self._switches["same_password_drops"] or given["password"] != s.password)
            asked = given.get("enableConnection")
            mode = self._switches["enable_drop_mode"]
            if (login_changed or password_changed) and mode != "never":
                new.enableConnection = bool(asked) if mode == "on_edit" else False
            elif asked is not None:
                new.enableConnection = asked
            if (asked or new.enableConnection) and not (new.login and new.baseUrl):
                raise self._error(400, "baseUrl and login are required to enable the connection.")
            changed = [k for k in WRITABLE if k != "password" and getattr(new, k) != getattr(s, k)]
            if password_changed:
                changed.append("password")
            now = self.clock.now()
            if changed:
                new.updatedDate = now
                self._audit.append({"at": _iso(now), "clientId": client.id,
                                    "user": login, "fields": sorted(changed)})
            if not new.enableConnection:
                new.status = self._status(self._idle_code(new), now)
            new.version = s.version + 1
            client.settings = new
            test = new.enableConnection and self._switches["save_runs_test"]
            snap = replace(new)
        if test:
            self._store(client, snap, self._probe(snap))
        with self._lock:
            return self._settings_model(client)

    def test_connection(self, login: str, client_id=None, on_target=None) -> dict:
        """Signs in with the stored credentials even when disabled; stores the result only
        when enabled, so a disabled connection keeps reading Disabled."""
        with self._lock:
            client = self._target(login, client_id, on_target)
            self.log.count(client.id, "tests")
            snap = replace(client.settings)
        status = self._probe(snap)
        if snap.enableConnection:
            self._store(client, snap, status)
        ok = status["code"] == "Connected"
        return {"id": client.id, "uid": str(uuid.uuid4()),
                "successMessage": status["message"] if ok else None,
                "warningMessage": None if snap.enableConnection else
                "The connection is disabled; the result was not saved.",
                "errorMessage": None if ok else status["message"],
                "inProgressMessage": None, "status": status}

    # ---- background sync (ocerra.md §5) ----------------------------------------------------
    def sync(self) -> list:
        """One run of the 20-minute sync: every enabled client signs in with its stored
        credentials, so a stale password adds one ERP failure per client sharing it."""
        with self._lock:
            self._last_sync = self.clock.now()
        return self._sync_once()

    def tick(self) -> list:
        """The syncs due since the last one, one per 20 minutes of sandbox clock (at most
        MAX_CATCH_UP, all at the current time); a list with one result list per run."""
        with self._lock:
            due = math.floor((self.clock.now() - self._last_sync) / SYNC_PERIOD)
            self._last_sync += due * SYNC_PERIOD
        return [self._sync_once() for _ in range(min(due, MAX_CATCH_UP))]

    def _sync_once(self) -> list:
        with self._lock:
            snaps = [(c, replace(c.settings)) for c in self._clients.values()
                     if c.settings.enableConnection]
        results = []
        for client, snap in snaps:
            self.log.count(client.id, "syncs")
            status = self._probe(snap)
            self._store(client, snap, status)
            results.append({"clientId": client.id, "status": status})
        return results

    # ---- helpers (called with the lock held, except _probe) --------------------------------
    def _probe(self, snap: _Settings) -> dict:
        """Signs in to the ERP and out again (erp_probe); the status to store."""
        if not snap.configured():
            code = "NotConfigured"
        else:
            result = self._erp_signin(snap.baseUrl, snap.tenant, snap.branch, snap.login,
                                      snap.password, self._erp_verify)
            code = OUTCOME_CODES[result.outcome]
        with self._lock:
            return self._status(code, self.clock.now())

    def _store(self, client, snap, status) -> None:
        with self._lock:
            if client.settings.version == snap.version:
                client.settings.status = status

    def _status(self, code, when, switches=None) -> dict:
        return {"code": code, "message": sw.status_text(switches or self._switches, code),
                "checkedDate": _iso(when)}

    @staticmethod
    def _idle_code(s: _Settings) -> str:
        return "Disabled" if s.configured() else "NotConfigured"

    def _validated(self, body) -> dict:
        """The fields of a PUT body; null means "leave as is", as a read-back model sends it."""
        if not isinstance(body, dict):
            raise self._error(400, "The request body must be a JSON object.")
        for key in body:
            if key in READ_ONLY:
                raise self._error(400, f"The field '{key}' is read-only.")
            if key not in WRITABLE:
                raise self._error(400, f"Unknown field '{key}'.")
        given = {k: v for k, v in body.items() if v is not None}
        for key, value in given.items():
            want = bool if key == "enableConnection" else str
            if not isinstance(value, want):
                raise self._error(400, f"The field '{key}' must be a "
                                       f"{'boolean' if want is bool else 'string'}.")
        if "baseUrl" in given:
            url = urlsplit(given["baseUrl"])
            if url.scheme not in ("http", "https") or not url.netloc:
                raise self._error(400, "baseUrl must be an absolute http(s) URL.")
        return given

    def _target(self, login, client_id, on_target) -> _Client:
        """The client a settings call acts on. Under switch_call and one_user_per_client the
        query parameter does not exist, so, like ASP.NET with any unbound parameter, it is
        ignored: the call acts on the user's current client, whose id the answer carries."""
        user = self._user(login)
        if self._switches["client_selection"] == "query_param":
            cid = self._parse_client_id(client_id)
        else:
            cid = user.current
        return self._reach(user, cid, ACCOUNTANT, on_target)

    def _parse_client_id(self, client_id) -> str:
        if not client_id:
            raise self._error(400, "The clientId parameter is required.")
        try:
            return _guid(client_id)
        except ValueError:
            raise self._error(400, "The clientId parameter must be a GUID.") from None

    def _reach(self, user, cid, role, on_target) -> _Client:
        """The existing client `cid` if the user may act on it with `role` (None = any).
        `on_target(cid)` learns of an existing client even when access is then denied: the
        HTTP layer counts requests per client with it."""
        client = self._clients.get(cid)
        if client is None:
            raise self._error(404, "Client not found.")
        if on_target:
            on_target(client.id)
        if cid not in user.roles or (role and user.roles[cid] != role):
            raise self._error(403, "Access denied")
        return client

    def _user(self, login) -> _User:
        return self._users[login.casefold()]

    def _int_param(self, name, raw, default, minimum) -> int:
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise self._error(400, f"The {name} parameter must be an integer >= {minimum}.")
        return value

    def _error(self, status, message):
        return shaped(status, message, self._switches["error_body"])

    def _client_model(self, c: _Client) -> dict:
        return {"clientId": c.id, "name": c.name, "isActive": c.is_active,
                "financialSystemType": "Acumatica", "financialSystemUrl": c.settings.baseUrl,
                "extraSettingsObj": None, "peopleClients": []}

    def _settings_model(self, c: _Client) -> dict:
        s = c.settings
        return {"clientId": c.id, "baseUrl": s.baseUrl, "tenant": s.tenant, "branch": s.branch,
                "login": s.login, "password": None, "hasPassword": bool(s.password),
                "enableConnection": s.enableConnection,
                "autoExportStatuses": s.autoExportStatuses, "status": dict(s.status),
                "updatedDate": _iso(s.updatedDate)}
