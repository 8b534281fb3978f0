"""The fake Acumatica's state: instances → tenants → users, and the seed that builds it.

Seeds are strict: an unknown key or a reference to an unknown role, type or licence is a
ValueError naming it, so a typo never silently seeds something else (sandbox/README.md).
"""
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import endpoint, security

ADMIN_ROLE = "Administrator"       # opens SM201010 (Users)
CUSTOMIZER_ROLE = "Customizer"     # opens the Customization API (§10)
LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]
# The toolkit's projects by name (so that it finds them installed) and their rendered copies:
# the core one everywhere, the MYOB edition (licence types) on MYOB instances only.
TOOLKIT_PROJECTS = {"OcerraUserAdmin": REPO / "customization" / "UserAdmin" / "project.xml"}
TOOLKIT_MYOB_PROJECTS = {"OcerraUserAdminMyob": REPO / "customization" / "UserAdminMyob" / "project.xml"}


@dataclass
class UserType:
    name: str
    allowed: str                       # A API only, U UI only, R unrestricted (§5.1)
    roles: list
    max_sessions: int | None = None
    password_change_on_next_login: bool = False
    default_roles: list = field(default_factory=list)   # IsDefault: given on insert / type change


@dataclass
class LicenceType:
    name: str
    seats: int | None                  # None = unlimited
    description: str


@dataclass
class User:
    username: str
    email: str | None
    user_type: str | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    first_name: str | None = None
    last_name: str | None = None
    note: str | None = None
    is_approved: bool = True
    pending: bool = False
    allowed_in_tenant: bool = True
    password_hash: str | None = None
    password_changed: datetime | None = None
    password_never_expires: bool = True
    force_change: bool = False
    allow_password_changes: bool = True     # MYOB: a forced change applies only while this is on
    allowed_sessions: int | None = None
    locked_out_date: datetime | None = None
    failed_count: int = 0
    failed_window_start: datetime | None = None
    last_login: datetime | None = None
    roles: set = field(default_factory=set)
    licence_types: set = field(default_factory=set)
    files: dict = field(default_factory=dict)     # attached files: name -> (file id, bytes)


@dataclass
class Project:
    """A customization project as stored by the Customization API (§10)."""
    name: str
    description: str
    level: int
    content: bytes                     # the package ZIP, description re-serialized
    endpoints: list                    # endpoint.Endpoint


@dataclass
class Tenant:
    name: str
    security: security.Security
    user_types: dict
    licence_types: dict
    users: dict = field(default_factory=dict)        # casefolded username → User
    projects: dict = field(default_factory=dict)     # imported here, by name
    published: dict = field(default_factory=dict)    # published here, by name

    def endpoints(self) -> dict:
        found = {(endpoint.DEFAULT.name, endpoint.DEFAULT.version): endpoint.DEFAULT}
        for project in self.published.values():
            found.update({(e.name, e.version): e for e in project.endpoints})
        return found

    def allowed_roles(self, user_type) -> list:
        """The Roles rows of a user of this type: its roles, or every role without a type."""
        if user_type in self.user_types:
            return list(self.user_types[user_type].roles)
        return sorted({r for t in self.user_types.values() for r in t.roles})

    def seats_used(self, licence) -> int:
        return sum(licence in u.licence_types for u in self.users.values())

    def seats_left(self, licence):
        seats = self.licence_types[licence].seats
        return None if seats is None else seats - self.seats_used(licence)


@dataclass
class Instance:
    name: str
    flavour: str
    max_api_users: int | None          # None: switch max_api_users
    max_concurrent_requests: int | None
    max_requests_per_minute: int | None
    tenants: dict                      # by name, the first is the default tenant
    build: str = "24.200.0123"         # acumaticaBuildVersion: decides the swagger format
    in_flight: int = 0
    recent: deque = field(default_factory=deque)      # request times, last minute
    publication: dict | None = None


def _take(raw: dict, where: str, allowed: set) -> dict:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping")
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return raw


def _user_type(raw) -> UserType:
    raw = _take(raw, "user type", {"name", "allowed", "roles", "max_sessions",
                                   "password_change_on_next_login", "default_roles"})
    if raw.get("allowed", "R") not in ("A", "U", "R"):
        raise ValueError(f"user type {raw.get('name')}: allowed must be A, U or R")
    defaults = list(raw.get("default_roles") or [])
    if set(defaults) - set(raw.get("roles") or []):
        raise ValueError(f"user type {raw.get('name')}: default_roles must be among its roles")
    return UserType(raw["name"], raw.get("allowed", "R"), list(raw.get("roles") or []),
                    raw.get("max_sessions"), bool(raw.get("password_change_on_next_login")), defaults)


USER_KEYS = {"username", "password", "email", "first_name", "last_name", "user_type", "roles",
             "licence_types", "is_approved", "pending", "locked", "force_change", "expired",
             "password_never_expires", "allowed_sessions", "allowed_in_tenant", "allow_password_changes"}


def apply_user_fields(tenant: Tenant, user: User, raw: dict, now) -> None:
    """Seed or patch `user` from seed keys (also used by POST /_sandbox/users)."""
    where = f"user {user.username}"
    _take(raw, where, USER_KEYS)
    simple = {"email": "email", "first_name": "first_name", "last_name": "last_name",
              "is_approved": "is_approved", "pending": "pending", "force_change": "force_change",
              "password_never_expires": "password_never_expires",
              "allowed_sessions": "allowed_sessions", "allowed_in_tenant": "allowed_in_tenant",
              "allow_password_changes": "allow_password_changes"}
    for key, attr in simple.items():
        if key in raw:
            setattr(user, attr, raw[key])
    if "user_type" in raw:
        if raw["user_type"] is not None and raw["user_type"] not in tenant.user_types:
            raise ValueError(f"{where}: unknown user type {raw['user_type']!r}")
        user.user_type = raw["user_type"]
    if "password" in raw:
        user.password_hash = security.hash_password(raw["password"]) if raw["password"] else None
        user.password_changed = now
    if "roles" in raw:
        allowed = tenant.allowed_roles(user.user_type)
        bad = set(raw["roles"] or []) - set(allowed)
        if bad:
            raise ValueError(f"{where}: roles {sorted(bad)} not allowed for type {user.user_type}")
        user.roles = set(raw["roles"] or [])
    if "licence_types" in raw:
        bad = set(raw["licence_types"] or []) - set(tenant.licence_types)
        if bad:
            raise ValueError(f"{where}: unknown licence types {sorted(bad)}")
        user.licence_types = set(raw["licence_types"] or [])
    if "locked" in raw:
        sec = tenant.security
        if raw["locked"]:
            user.locked_out_date, user.failed_window_start = now, now
            user.failed_count = sec.lockout_threshold
        else:
            user.locked_out_date, user.failed_count, user.failed_window_start = None, 0, None
    if raw.get("expired"):
        if tenant.security.password_expiry_days is None:
            raise ValueError(f"{where}: expired needs the tenant's security.password_expiry_days")
        user.password_changed, user.password_never_expires = LONG_AGO, False


def _tenant(raw, default_installed, flavour, now) -> Tenant:
    raw = _take(raw, "tenant", {"name", "security", "user_types", "licence_types",
                                "user_endpoint_installed", "users"})
    tenant = Tenant(raw["name"], security.Security(**(raw.get("security") or {})),
                    {t.name: t for t in map(_user_type, raw.get("user_types") or [])},
                    {}, {})
    if raw.get("licence_types") and flavour != "myob":
        raise ValueError(f"tenant {tenant.name}: licence types exist only on the myob flavour")
    for lt in raw.get("licence_types") or []:
        lt = _take(lt, "licence type", {"name", "available", "description"})
        tenant.licence_types[lt["name"]] = LicenceType(lt["name"], lt.get("available"),
                                                       lt.get("description") or lt["name"])
    for raw_user in raw.get("users") or []:
        if "username" not in raw_user:
            raise ValueError(f"tenant {tenant.name}: a user without username")
        user = User(raw_user["username"], None, None)
        apply_user_fields(tenant, user, raw_user, now)
        tenant.users[user.username.casefold()] = user
    for name, lt in tenant.licence_types.items():
        if lt.seats is not None and tenant.seats_used(name) > lt.seats:
            raise ValueError(f"tenant {tenant.name}: licence type {name!r} over-allocated")
    if raw.get("user_endpoint_installed", default_installed):
        install_user_endpoint(tenant, flavour)
    return tenant


def install_user_endpoint(tenant: Tenant, flavour: str) -> None:
    """As if the toolkit's projects for this flavour had been imported and published here."""
    projects = {**TOOLKIT_PROJECTS, **(TOOLKIT_MYOB_PROJECTS if flavour == "myob" else {})}
    for name, path in projects.items():
        xml = path.read_bytes()
        parsed = endpoint.parse_endpoints(xml)
        project = Project(name, parsed.description, 0, endpoint.package(xml), parsed.endpoints)
        tenant.projects[project.name] = project
        tenant.published[project.name] = project


def instance_from_seed(raw, switches, now) -> Instance:
    raw = _take(raw, "instance", {"name", "licence", "flavour", "tenants", "build"})
    licence = _take(raw.get("licence") or {}, f"instance {raw.get('name')} licence",
                    {"max_api_users", "max_concurrent_requests", "max_requests_per_minute"})
    flavour = raw.get("flavour", switches["flavour"])
    if flavour not in ("myob", "acumatica"):
        raise ValueError(f"instance {raw.get('name')}: flavour must be myob or acumatica")
    tenants = [_tenant(t, switches["user_endpoint_installed"], flavour, now)
               for t in raw.get("tenants") or []]
    build = str(raw.get("build") or Instance.build)
    if not re.fullmatch(r"\d+\.\d+\.\d+", build):
        raise ValueError(f"instance {raw.get('name')}: build must look like 24.200.0123")
    return Instance(raw["name"], flavour, licence.get("max_api_users"),
                    licence.get("max_concurrent_requests"), licence.get("max_requests_per_minute"),
                    {t.name: t for t in tenants}, build)
