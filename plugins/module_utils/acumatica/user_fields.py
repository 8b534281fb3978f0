"""THE field table of the User (SM201010, graph PX.SM.AccessUsers) and what derives from it.

One row per contract field of the toolkit's `UserAdmin` endpoint. Each row says how the field
is mapped (contract name, value type, view), what the toolkit calls it in its read view and in
erp_user's options (with that option's argument spec), how two values compare, how it is
written and whether the report keeps it. The endpoint XML (endpoint.py), the read view, the
comparison, the plan's writes (user.py), erp_user's argument spec and the report's user all
come from this table, so adding a field is one row here.

Write kinds:
  KEY     the record's key (Username);
  PUT     a scalar of the upsert PUT, on create and on update;
  CREATE  sent on create only (with the password);
  STATE   on create a PUT scalar, on update an action (EnableLogin / DisableLogin);
  SECRET  write-only, never read or compared (the password: ResetPasswordOK on update);
  READ    read-only (statistics, state);
  ROWS    a detail collection: rows selected or deselected, compared as a set.
"""
STRING, BOOL, INT, DATE = "StringValue", "BooleanValue", "IntValue", "DateTimeValue"
KEY, PUT, CREATE, STATE, SECRET, READ, ROWS = "key", "put", "create", "state", "secret", "read", "rows"
USER_VIEW = "UserList"

STATUS_LABELS = {"A": "Active", "O": "Online", "D": "Disabled", "L": "Temporarily Locked",
                 "P": "Pending Activation"}


def fold(value):
    return "" if value is None else str(value).strip().casefold()


def strip(value):
    return "" if value is None else str(value).strip()


def integer(value):
    return None if value is None else int(value)


def status_label(raw):
    return STATUS_LABELS.get(raw, raw) if raw else raw


def _same(value):
    return value


def folded_set(values):
    return {fold(v) for v in values or []}


class Detail:
    """A detail collection: its entity name, view, key column and columns."""

    def __init__(self, entity, view, key, columns):
        self.entity, self.view, self.key, self.columns = entity, view, key, columns


class Field:
    def __init__(self, key, contract, kind, write, *, option=None, norm=None, read=None,
                 report=False, detail=None, myob=False):
        self.key = key              # the read view's and the option's name; None: not read
        self.contract = contract    # the contract (= DAC) field name
        self.kind = kind            # XML value type, or None for a detail collection
        self.write = write
        self.option = option        # erp_user's argument spec of this option, or None
        self.norm = norm or _same   # applied to both sides before comparing
        self.read = read or _same   # the site's value -> the read view's
        self.report = report        # kept in the report's view of the user
        self.detail = detail
        self.myob = myob            # mapped only by the MYOB edition of the endpoint


ROLE_COLUMNS = (("Rolename", STRING), ("Selected", BOOL))
LICENCE_COLUMNS = (("LicenseType", STRING), ("Selected", BOOL), ("Description", STRING), ("Available", INT))

# The API user's login when the inventory names none (the help articles' checklist).
DEFAULT_LOGIN = "OcerraAPI"

# The order is the endpoint's field order (it is part of the digest).
FIELDS = (
    Field("login", "Username", STRING, KEY, option=dict(type="str", default=DEFAULT_LOGIN)),
    Field("first_name", "FirstName", STRING, PUT, option=dict(type="str"), norm=strip),
    Field("last_name", "LastName", STRING, PUT, option=dict(type="str"), norm=strip),
    Field("email", "Email", STRING, PUT, option=dict(type="str"), norm=fold),
    Field("user_type", "LoginTypeID", STRING, PUT, option=dict(type="str"), norm=fold, report=True),
    Field("enabled", "IsApproved", BOOL, STATE, option=dict(type="bool"), norm=bool, read=bool,
          report=True),
    Field(None, "GeneratePassword", BOOL, CREATE),
    Field("password", "Password", STRING, SECRET, option=dict(type="str", no_log=True)),
    Field("password_never_expires", "PasswordNeverExpires", BOOL, PUT,
          option=dict(type="bool", no_log=False), norm=bool, report=True),
    Field("force_password_change", "PasswordChangeOnNextLogin", BOOL, PUT, norm=bool, read=bool,
          report=True),
    Field("allowed_sessions", "AllowedSessions", INT, PUT, option=dict(type="int"), norm=integer),
    Field("status", "State", STRING, READ, read=status_label, report=True),
    Field("locked_out_date", "LockedOutDate", DATE, READ),
    Field("failed_attempts", "FailedPasswordAttemptCount", INT, READ, norm=integer),
    Field("last_login", "LastLoginDate", DATE, READ, report=True),
    Field("last_password_change", "LastPasswordChangedDate", DATE, READ, report=True),
    Field("roles", "Roles", None, ROWS, option=dict(type="list", elements="str"), norm=folded_set,
          report=True, detail=Detail("UserRole", "AllowedRoles", "Rolename", ROLE_COLUMNS)),
    Field("licence_types", "LicenseTypes", None, ROWS, option=dict(type="list", elements="str"),
          norm=folded_set, report=True, myob=True,
          # MYOB only; the view behind the License Types tab is assumed (reference §5.2).
          detail=Detail("UserLicenseType", "LicenseTypes", "LicenseType", LICENCE_COLUMNS)),
)

BY_KEY = {f.key: f for f in FIELDS if f.key}
SCALARS = tuple(f for f in FIELDS if f.detail is None)
DETAILS = tuple(f for f in FIELDS if f.detail is not None)
# What a user may set and the plan compares (the login is the key, the password is apart).
MANAGED = tuple(f.key for f in FIELDS if f.option and f.write in (PUT, STATE, ROWS))
PUT_FIELDS = tuple(f for f in FIELDS if f.write == PUT and f.option)
REPORTED = ("exists", "locked") + tuple(f.key for f in FIELDS if f.report)


class Edition:
    """One of the toolkit's User endpoints (endpoint.py publishes them): its customization project,
    its name and the detail collections it maps (the MYOB edition also maps licence types)."""

    def __init__(self, endpoint, project, myob):
        self.endpoint, self.project, self.myob = endpoint, project, myob   # no '-' or '_' in project
        self.details = tuple(f for f in DETAILS if myob or not f.myob)
        self.name = f"{endpoint}/{VERSION}"
        self.entity_path = f"entity/{endpoint}/{VERSION}/User"
        self.expand = {"$expand": ",".join(f.contract for f in self.details)}


VERSION = "1.0.0"
CORE = Edition("UserAdmin", "OcerraUserAdmin", myob=False)
MYOB = Edition("UserAdminMyob", "OcerraUserAdminMyob", myob=True)
EDITIONS = (CORE, MYOB)


def option_spec():
    """erp_user's options that are User fields, as AnsibleModule argument spec entries."""
    return {f.key: dict(f.option) for f in FIELDS if f.option}


def value(record, contract):
    item = (record or {}).get(contract)
    return item.get("value") if isinstance(item, dict) else item


def rows(record, key):
    """[(name, selected, available)] of a detail collection; available None = unlimited."""
    field = BY_KEY[key]
    found = []
    for row in (record or {}).get(field.contract) or []:
        name = value(row, field.detail.key)
        if name:
            found.append((str(name), bool(value(row, "Selected")), value(row, "Available")))
    return found


def sort_names(names):
    return sorted(names, key=str.casefold)


def same(key, a, b):
    """Whether two values of a field are equal the way the site compares them."""
    norm = BY_KEY[key].norm if key in BY_KEY else _same
    return norm(a) == norm(b)
