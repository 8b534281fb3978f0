"""State and rules of the fake MYOB Acumatica, behind one lock (moto style: no HTTP here).

Instances → tenants → users (state.py); sign-in checks in the reference's order (§4, §8, §9);
sessions with licence and per-user caps and an idle timeout on the sandbox clock; request
limits; contract endpoints per tenant (endpoint.py, users.py); the Customization API
(customization.py). Errors are raised as `errors.AcumaticaError`s carrying the exact texts
and the status the current switches imply.
"""
import copy
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import quote

from sandbox.faults import Faults
from sandbox.log import RequestLog
from . import security, state, swagger, texts
from . import switches as sw
from .customization import CustomizationApi
from .endpoint import DEFAULT, USER_SCREEN, maps_licences
from .errors import (AcumaticaError, BadRequest, Forbidden, LengthRequired, LoginLimit,
                     NoEntity, NotFound, NotLoggedIn, SignInFailed, Throttled, http_error)
from .query import parse
from .users import CUSTOM_FIELDS, Users, allowed_sessions, state_code

SITE_COUNTERS = ("requests", "signins", "signouts", "failed_signins", "writes",
                 "sessions_expired")
USER_COUNTERS = ("signins", "signouts", "failed_signins")


@dataclass
class Session:
    id: str          # the ASP.NET_SessionId cookie
    auth: str        # the .ASPXAUTH cookie
    instance: str
    tenant: str
    username: str
    branch: str
    locale: str
    created: object
    last_seen: object

    @property
    def site(self):
        return f"{self.instance}/{self.tenant}"


def _iso(when):
    return when.isoformat() if when else None


class AcumaticaModel:
    def __init__(self, clock):
        self.clock = clock
        self.log = RequestLog()
        self.faults = Faults()
        self._lock = threading.RLock()
        self._seed = {}
        self._load({})

    # ---- seeding and control ------------------------------------------------------------------
    def from_seed(self, section) -> "AcumaticaModel":
        self.reset(section or {})
        return self

    def reset(self, section=None) -> None:
        """Back to the seed (or a new one): state, switches, sessions, log, counters, faults."""
        with self._lock:
            if section is not None:
                self._seed = copy.deepcopy(section)
            self._load(self._seed)
            self.log.clear()
            self.faults.clear()

    def _load(self, section):
        unknown = set(section) - {"switches", "instances"}
        if unknown:
            raise ValueError(f"acumatica seed: unknown keys {sorted(unknown)}")
        switches = sw.merged(sw.DEFAULTS, section.get("switches") or {})
        now = self.clock.now()
        instances = {}
        for raw in section.get("instances") or []:
            inst = state.instance_from_seed(raw, switches, now)
            instances[inst.name] = inst
        with self._lock:
            self._switches, self._instances = switches, instances
            self._sessions, self._operations = {}, {}

    def switches(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._switches)

    def set_switches(self, changes) -> dict:
        with self._lock:
            self._switches = sw.merged(self._switches, changes)
            return copy.deepcopy(self._switches)

    def upsert_user(self, instance, tenant, fields) -> dict:
        """Seed or patch one user (seed keys, plus `username`); returns its state."""
        with self._lock:
            t = self._tenant(instance, tenant)
            fields = dict(fields)
            name = fields.pop("username", None)
            if not name:
                raise ValueError("username is required")
            user = t.users.get(name.casefold())
            if user is None:
                user = state.User(name, None, None)
            state.apply_user_fields(t, user, fields, self.clock.now())
            t.users[name.casefold()] = user
            return self._user_state(instance, t, user)

    def install_user_endpoint(self, instance, tenant) -> None:
        with self._lock:
            state.install_user_endpoint(self._tenant(instance, tenant), self._instances[instance].flavour)

    def _tenant(self, instance, tenant):
        inst = self._instances.get(instance)
        if inst is None or tenant not in inst.tenants:
            raise ValueError(f"unknown site {instance}/{tenant}")
        return inst.tenants[tenant]

    # ---- inspection ---------------------------------------------------------------------------
    def _user_state(self, instance, tenant, user) -> dict:
        now = self.clock.now()
        return {"username": user.username, "email": user.email, "first_name": user.first_name,
                "last_name": user.last_name, "user_type": user.user_type,
                "state": state_code(user, tenant.security, now, self._online(instance, tenant)),
                "is_approved": user.is_approved, "pending": user.pending,
                "locked": security.is_locked(user, tenant.security, now),
                "locked_out_date": _iso(user.locked_out_date),
                "failed_attempts": user.failed_count, "force_change": user.force_change,
                "allow_password_changes": user.allow_password_changes,
                "password_never_expires": user.password_never_expires,
                "has_password": bool(user.password_hash),
                "password_changed": _iso(user.password_changed),
                "last_login": _iso(user.last_login), "allowed_sessions": user.allowed_sessions,
                "allowed_in_tenant": user.allowed_in_tenant, "roles": sorted(user.roles),
                "licence_types": sorted(user.licence_types)}

    def state(self) -> dict:
        """Everything a test may inspect; never a password, hash or cookie."""
        with self._lock:
            self._purge()
            out = []
            for inst in self._instances.values():
                tenants = [{
                    "name": t.name, "security": asdict(t.security),
                    "user_types": [asdict(ut) for ut in t.user_types.values()],
                    "licence_types": [{"name": lt.name, "seats": lt.seats,
                                       "available": t.seats_left(lt.name)}
                                      for lt in t.licence_types.values()],
                    "endpoints": [f"{n}/{v}" for n, v in t.endpoints()],
                    "projects": [{"name": p.name, "description": p.description,
                                  "published": p.name in t.published}
                                 for p in t.projects.values()],
                    "published": list(t.published),
                    "users": [self._user_state(inst.name, t, u) for u in t.users.values()],
                } for t in inst.tenants.values()]
                sessions = [{"tenant": s.tenant, "user": s.username, "created": _iso(s.created),
                             "last_seen": _iso(s.last_seen)}
                            for s in self._sessions.values() if s.instance == inst.name]
                pub = inst.publication
                out.append({"name": inst.name, "flavour": inst.flavour,
                            "licence": {"max_api_users": self._max_api_users(inst),
                                        "max_concurrent_requests": inst.max_concurrent_requests,
                                        "max_requests_per_minute": inst.max_requests_per_minute},
                            "requests_in_flight": inst.in_flight,
                            "tenants": tenants, "sessions": sessions,
                            "publication": None if pub is None else {
                                "projects": [p.name for p in pub["projects"]],
                                "completed": pub["result"] is not None}})
            return {"switches": copy.deepcopy(self._switches), "instances": out}

    def counters(self) -> dict:
        """Per site ("instance/tenant"): SITE_COUNTERS, sessions_open, and per user
        USER_COUNTERS under "users"."""
        with self._lock:
            self._purge()
            raw = self.log.counters()
            sites = {f"{i.name}/{t}" for i in self._instances.values() for t in i.tenants}
            sites |= {k for k in raw if isinstance(k, str)}
            out = {site: {**{c: raw.get(site, {}).get(c, 0) for c in SITE_COUNTERS},
                          "sessions_open": 0, "users": {}} for site in sites}
            for key, values in raw.items():
                if isinstance(key, tuple):
                    site, user = key
                    out[site]["users"][user] = {c: values.get(c, 0) for c in USER_COUNTERS}
            for s in self._sessions.values():
                out[s.site]["sessions_open"] += 1
            return out

    def _count(self, site, name, user=None):
        self.log.count(site, name)
        if user is not None:
            self.log.count((site, user), name)

    # ---- request limits (§9) ------------------------------------------------------------------
    def begin_request(self, instance, path) -> None:
        """Take a request slot on the instance, or raise Throttled (NotFound for an unknown
        instance, as IIS answers). Pair with end_request."""
        with self._lock:
            inst = self._instances.get(instance)
            if inst is None:
                raise NotFound(path)
            now = self.clock.now()
            while inst.recent and inst.recent[0] <= now - timedelta(minutes=1):
                inst.recent.popleft()
            per_minute, concurrent = inst.max_requests_per_minute, inst.max_concurrent_requests
            if (concurrent is not None and inst.in_flight >= concurrent) or (
                    per_minute is not None and len(inst.recent) >= per_minute):
                raise self._throttled()
            inst.in_flight += 1
            inst.recent.append(now)

    def end_request(self, instance) -> None:
        with self._lock:
            inst = self._instances.get(instance)
            if inst is not None and inst.in_flight > 0:
                inst.in_flight -= 1

    def _throttled(self):
        retry = self._switches["retry_after"]
        headers = {"Retry-After": str(retry)} if retry is not None else {}
        if self._switches["throttle_response"] == "json429":
            return Throttled(429, http_error(texts.THROTTLE_JSON), headers)
        return Throttled(429, texts.THROTTLE_TEXT, headers, content_type="text/plain")

    # ---- sessions -----------------------------------------------------------------------------
    def _purge(self):
        """Forget sessions idle longer than the timeout: they free their slot (§2)."""
        limit = self.clock.now() - timedelta(seconds=self._switches["session_idle_timeout_s"])
        for sid, s in list(self._sessions.items()):
            if s.last_seen <= limit:
                del self._sessions[sid]
                self._count(s.site, "sessions_expired")

    def _online(self, instance, tenant):
        return frozenset(s.username.casefold() for s in self._sessions.values()
                         if s.instance == instance and s.tenant == tenant.name)

    def _max_api_users(self, inst):
        return inst.max_api_users or self._switches["max_api_users"]

    def _sessions_default(self, inst):
        """AllowedSessions when neither the user nor its type sets one: MYOB 1; on Acumatica an
        empty AllowedSessions leaves the licence's API-user count as the only cap (not the
        field's PXDefault(3), which only a new record's form shows)."""
        return self._switches["allowed_sessions_default"] or (1 if inst.flavour == "myob" else self._max_api_users(inst))

    def _user_cap(self, inst, tenant, user):
        return allowed_sessions(tenant, user, self._sessions_default(inst))

    def session(self, instance, sid, auth) -> Session:
        """The live session these cookies name, touched; or NotLoggedIn (401)."""
        with self._lock:
            self._purge()
            s = self._sessions.get(sid or "")
            if s is None or s.instance != instance or not secrets.compare_digest(s.auth, auth or ""):
                raise NotLoggedIn()
            s.last_seen = self.clock.now()
            return s

    def sign_out(self, instance, sid, auth, has_content_length) -> Session | None:
        """Ends the session if there is one; sign-outs are never throttled (§2)."""
        with self._lock:
            if self._switches["logout_requires_content_length"] and not has_content_length:
                raise LengthRequired()
            self._purge()
            s = self._sessions.get(sid or "")
            if s is None or s.instance != instance or not secrets.compare_digest(s.auth, auth or ""):
                return None
            del self._sessions[sid]
            self._count(s.site, "signouts", s.username)
            return s

    # ---- sign-in (§2, §4, §8, §9) ----------------------------------------------------------------
    def sign_in(self, instance, body) -> Session:
        with self._lock:
            inst = self._instances.get(instance)
            if inst is None:
                raise NotFound(f"/{instance}/entity/auth/login")
            body = body if isinstance(body, dict) else {}
            if body.get("tenant") and body.get("company"):
                raise BadRequest(texts.BOTH_TENANT_AND_COMPANY)
            tenant = self._signin_tenant(inst, body.get("tenant") or body.get("company"))
            site, name = f"{inst.name}/{tenant.name}", str(body.get("name") or "")
            user = tenant.users.get(name.casefold())
            try:
                self._check_signin(inst, tenant, user, body.get("password"))
            except AcumaticaError as refused:
                self._count(site, "failed_signins", user.username if user else name)
                # Newer builds send every error to their generic page: no text at all.
                error = refused if self._switches["signin_error_page"] == "none" else \
                    AcumaticaError(302, None, {"Location": f"/{inst.name}/ui/error"})
                error.site, error.user = site, name
                raise error from None
            now = self.clock.now()
            security.register_success(user, now)
            s = Session(secrets.token_hex(12), secrets.token_hex(40).upper(), inst.name,
                        tenant.name, user.username, str(body.get("branch") or ""),
                        str(body.get("locale") or "en-US"), now, now)
            self._sessions[s.id] = s
            self._count(site, "signins", user.username)
            return s

    def _signin_tenant(self, inst, name):
        tenants = list(inst.tenants.values())
        if not name and tenants:
            return tenants[0]        # an empty tenant lands in the default one (§2)
        found = next((t for t in tenants if t.name.casefold() == str(name).casefold()), None)
        if found is not None:        # tenant login names compare like SQL Server's keys
            return found
        if len(tenants) == 1:        # one tenant: any tenant name signs in to it (KB)
            return tenants[0]
        if tenants and self._switches["unknown_tenant"] == "default_tenant":
            return tenants[0]
        self._count(f"{inst.name}/{name}", "failed_signins")
        raise SignInFailed(500, texts.UNKNOWN_COMPANY, "PX.Data.PXUndefinedCompanyException",
                           site=f"{inst.name}/{name}")

    def _check_signin(self, inst, tenant, user, password):
        """Raises the first failing check, in the reference's order."""
        sec, now = tenant.security, self.clock.now()
        status = self._switches["signin_failure_status"]

        def fail(text):
            raise SignInFailed(status, text)

        if user is None:
            fail(texts.INVALID_CREDENTIALS)
        locked = security.is_locked(user, sec, now)
        # An empty stored password cannot be checked: it asks for a change (§8, A).
        if user.password_hash and not security.verify_password(password, user.password_hash):
            if not locked:       # a locked account's failures do not extend the lock (A)
                security.register_failure(user, sec, now)
            fail(texts.INVALID_CREDENTIALS)
        if locked:
            fail(texts.LOCKED_OUT)
        if not user.is_approved:
            fail(texts.DISABLED)
        if user.pending:
            fail(texts.PENDING)
        if not user.allowed_in_tenant:
            fail(texts.NOT_IN_TENANT.format(tenant.name))
        user_type = tenant.user_types.get(user.user_type)
        if user_type and user_type.allowed == "U":
            fail(texts.NO_API_ACCESS)
        # On MYOB "Force User to Change Password" applies only while "Allow Password Changes" is on.
        forced = user.force_change and (inst.flavour != "myob" or user.allow_password_changes)
        if not user.password_hash or forced or security.password_expired(user, sec, now):
            fail(texts.CHANGE_PASSWORD)
        if inst.flavour == "myob" and not user.licence_types:
            fail(texts.NO_LICENCE.format(self._switches["message_brand"]))
        self._purge()
        if sum(s.instance == inst.name for s in self._sessions.values()) >= self._max_api_users(inst):
            raise self._login_limit(inst, texts.LICENCE_LIMIT)
        mine = sum(s.tenant == tenant.name and s.instance == inst.name and
                   s.username == user.username for s in self._sessions.values())
        if mine >= self._user_cap(inst, tenant, user):
            raise self._login_limit(inst, texts.USER_LIMIT.format(user.username))

    def _login_limit(self, inst, text):
        mode = self._switches["login_limit_response"]
        if mode == "redirect302":
            location = (f"/{inst.name}/Frames/Error.aspx?exceptionID={uuid.uuid4()}"
                        f"&typeID=PX.Data.PXException&errorcode={quote(text)}")
            return LoginLimit(302, None, {"Location": location})
        if mode == "redirect302_message":
            location = f"/{inst.name}/Frames/Error.aspx?message={quote(texts.CONCURRENT_LOGINS)}"
            return LoginLimit(302, None, {"Location": location})
        if mode == "iis429":
            return LoginLimit(429, texts.THROTTLE_TEXT, content_type="text/plain")
        return LoginLimit(429 if mode == "json429" else 500, http_error(text))

    # ---- contract API (§5-§7) -----------------------------------------------------------------
    def _context(self, s: Session):
        inst = self._instances[s.instance]
        tenant = inst.tenants[s.tenant]
        user = tenant.users.get(s.username.casefold())
        if user is None:
            raise NotLoggedIn()
        return inst, tenant, user

    def list_endpoints(self, instance, s: Session | None) -> dict:
        """The tenant's endpoints; without a session (200 all the same) the system ones only."""
        with self._lock:
            if s is None:
                if instance not in self._instances:
                    raise NotFound(f"/{instance}/entity")
                names = [(DEFAULT.name, DEFAULT.version)]
            else:
                _, tenant, _ = self._context(s)
                names = list(tenant.endpoints())
            build = self._instances[instance].build
            return {"version": {"acumaticaBuildVersion": build, "databaseVersion": build}, "endpoints": [
                {"name": n, "version": v, "href": f"/{instance}/entity/{n}/{v}/"} for n, v in names]}

    def swagger(self, s: Session, name, version, root) -> dict:
        """An endpoint's document, in the format of the instance's build; `root`: scheme://host."""
        with self._lock:
            inst, tenant, _ = self._context(s)
            definition = tenant.endpoints().get((name, version))
            if definition is None:
                raise NotFound(f"/{s.instance}/entity/{name}/{version}/swagger.json")
            return swagger.render(definition, root, f"/{s.instance}/entity/{name}/{version}",
                                  swagger.openapi3(inst.build, inst.flavour))

    def login_page_tenants(self, instance) -> list:
        """The tenant names the sign-in page offers (Frames/Login.aspx), for tools that probe
        an instance's tenants with it; 404 for an unknown instance."""
        with self._lock:
            inst = self._instances.get(instance)
            if inst is None:
                raise NotFound(f"/{instance}/Frames/Login.aspx")
            return [t.name for t in inst.tenants.values()]

    def auth_swagger(self, instance, root) -> dict:
        with self._lock:
            inst = self._instances.get(instance)
            if inst is None:
                raise NotFound(f"/{instance}/entity/swagger.json")
            return swagger.render_auth(root, f"/{instance}/entity", swagger.openapi3(inst.build, inst.flavour))

    def _resolve(self, s: Session, name, version, entity_name):
        """(tenant, Users or None, entity) for an installed entity; 404 or 403 otherwise."""
        inst, tenant, user = self._context(s)
        if self._metadata_broken(inst, tenant):
            raise AcumaticaError(500, http_error(texts.BROKEN_METADATA, "System.NullReferenceException"))
        definition = tenant.endpoints().get((name, version))
        entity = definition.entities.get(entity_name) if definition else None
        if entity is None:
            raise NotFound(f"/{s.instance}/entity/{name}/{version}/{entity_name}")
        if entity.screen != USER_SCREEN:
            return tenant, None, entity
        if state.ADMIN_ROLE not in user.roles:
            raise Forbidden("Users", USER_SCREEN)
        return tenant, Users(tenant, entity, definition, self._switches, self.clock.now(),
                             self._online(s.instance, tenant),
                             self._sessions_default(inst),
                             f"/{s.instance}/entity/{name}/{version}/{entity_name}"), entity

    def _metadata_broken(self, inst, tenant):
        """A published endpoint maps a view plain Acumatica lacks (switch breaks_api): every
        contract call of the tenant fails until it is unpublished (reference, KB)."""
        return inst.flavour == "acumatica" and any(
            maps_licences(e) for p in tenant.published.values() for e in p.endpoints)

    def get_list(self, s, name, version, entity_name, args) -> list:
        with self._lock:
            _, users, entity = self._resolve(s, name, version, entity_name)
            q = parse(args, entity, CUSTOM_FIELDS if users else None)
            if users is None:
                return []
            chosen = users.matching(q.filter)[q.skip:]
            chosen = chosen[:q.top] if q.top is not None else chosen
            return [users.record(user, q.select, q.expand, number)
                    for number, user in enumerate(chosen, 1)]

    def get_one(self, s, name, version, entity_name, key, args) -> dict:
        with self._lock:
            _, users, entity = self._resolve(s, name, version, entity_name)
            q = parse(args, entity)
            if users is None:
                raise NoEntity()
            if key == "$adHocSchema":
                return users.ad_hoc_schema()
            user = users.by_url_key(key)
            if user is None:
                raise NoEntity()
            return users.record(user, q.select, q.expand)

    def put(self, s, name, version, entity_name, body, args, if_match=None,
            if_none_match=None, update_only=False) -> dict:
        with self._lock:
            _, users, entity = self._resolve(s, name, version, entity_name)
            q = parse(args, entity, CUSTOM_FIELDS if users else None)
            if users is None:
                raise AcumaticaError(500, http_error(
                    f"The sandbox does not store {entity_name} records."))
            _, record = users.put(body, if_match, if_none_match, q.select, q.expand, q.filter,
                                  update_only)
            return record

    def attach_file(self, s, name, version, entity_name, key, filename, content) -> None:
        with self._lock:
            _, users, _ = self._resolve(s, name, version, entity_name)
            if users is None:
                raise NoEntity()
            users.attach(key, filename, content)

    def file(self, s, file_id) -> bytes:
        """An attached file's content (`GET /entity/files/{id}`), from any User endpoint."""
        with self._lock:
            _, tenant, _ = self._context(s)
            for definition in tenant.endpoints().values():
                entity = next((e for e in definition.entities.values() if e.screen == USER_SCREEN), None)
                if entity is not None:
                    _, users, _ = self._resolve(s, definition.name, definition.version, entity.name)
                    return users.file(file_id)
            raise NoEntity()

    def delete(self, s, name, version, entity_name, key) -> None:
        with self._lock:
            _, users, _ = self._resolve(s, name, version, entity_name)
            user = users.by_url_key(key) if users else None
            if user is None:
                raise NoEntity()
            del users.tenant.users[user.username.casefold()]
            for sid, other in list(self._sessions.items()):
                if (other.instance, other.tenant, other.username) == \
                        (s.instance, s.tenant, user.username):
                    del self._sessions[sid]

    def invoke(self, s, name, version, entity_name, action_name, body) -> tuple[bool, str]:
        """Runs an action: (True, the record's URL) when done (204), or (False, the Location
        to poll) (202, switch)."""
        with self._lock:
            _, users, entity = self._resolve(s, name, version, entity_name)
            action = entity.actions.get(action_name)
            if action is None or users is None:
                raise NotFound(f"/{s.instance}/entity/{name}/{version}/{entity_name}/{action_name}")
            perform = users.prepare(action, body, s.username)
            if self._switches["action_mode"] == 204:
                perform(self.clock.now())
                record = users.action_target(body)
                return True, f"/{s.instance}/entity/{name}/{version}/{entity_name}/{record.id}"
            op = str(uuid.uuid4())
            self._operations[op] = {"instance": s.instance, "perform": perform,
                                    "polls_left": self._switches["action_polls"]}
            return False, f"/{s.instance}/entity/{name}/{version}/{entity_name}/{action_name}/status/{op}"

    def action_status(self, s, op) -> bool:
        """True once the action is done (204); it completes on the poll that says so."""
        with self._lock:
            entry = self._operations.get(op)
            if entry is None or entry["instance"] != s.instance:
                raise NoEntity()
            if entry["polls_left"] > 0:
                entry["polls_left"] -= 1
                return False
            del self._operations[op]
            entry["perform"](self.clock.now())
            return True

    # ---- Customization API (§10) --------------------------------------------------------------
    def customization(self, s: Session, method, body) -> dict:
        with self._lock:
            inst, tenant, user = self._context(s)
            if state.CUSTOMIZER_ROLE not in user.roles:
                raise Forbidden("Customization Projects", "SM204505")
            pub = inst.publication
            running = pub is not None and not pub["result"]
            answer = CustomizationApi(inst, tenant, self._switches, self.clock.now()).call(method, body)
            # A publication that updated the website recycled the application on its way.
            updated = (running and pub["result"] is not None and pub["outcome"] == "ok" and
                       not pub["result"].get("isFailed") and not pub["validate_only"])
            if updated and self._switches["publish_ends_sessions"]:
                self._recycle(inst)
            return answer

    def _recycle(self, inst):
        """The application restarted (a publish): every API session of the instance is gone."""
        for sid, s in list(self._sessions.items()):
            if s.instance == inst.name:
                del self._sessions[sid]
                self._count(s.site, "sessions_expired")
