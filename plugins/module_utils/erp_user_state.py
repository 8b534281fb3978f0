"""The API user's state: one field table, one engine that plans the writes.

Pure logic, no HTTP: `view()` turns the endpoint's record into the toolkit's user dict,
`plan_present()` / `plan_absent()` compare it with the options the user set (None = not
managed) and return a Plan: the writes in order and the predicted after-state. Check mode
and a real run use the same Plan, so they report the same diff.
"""
from . import acumatica_errors as ae
from .module_kit import PASSWORD_PLACEHOLDER, diff_of

STATUS_LABELS = {"A": "Active", "O": "Online", "D": "Disabled", "L": "Temporarily Locked",
                 "P": "Pending Activation"}
LOCKED_STATUS = "Temporarily Locked"
PENDING_STATUS = "Pending Activation"


def _fold(value):
    return "" if value is None else str(value).strip().casefold()


def _strip(value):
    return "" if value is None else str(value).strip()


def _int(value):
    return None if value is None else int(value)


# option -> (contract field, normaliser used to compare)
SCALARS = {
    "email": ("Email", _fold),
    "first_name": ("FirstName", _strip),
    "last_name": ("LastName", _strip),
    "user_type": ("LoginTypeID", _fold),
    "password_never_expires": ("PasswordNeverExpires", bool),
    "allowed_sessions": ("AllowedSessions", _int),
}
# option -> (collection, key field of a row)
DETAILS = {"roles": ("Roles", "Rolename"), "licence_types": ("LicenseTypes", "LicenseType")}
ABSENT = {"exists": False}


def value(record, field):
    item = (record or {}).get(field)
    return item.get("value") if isinstance(item, dict) else item


def rows(record, option):
    """[(name, selected, available)] of a detail collection; available None = unlimited."""
    collection, key = DETAILS[option]
    found = []
    for row in (record or {}).get(collection) or []:
        name = value(row, key)
        if name:
            found.append((str(name), bool(value(row, "Selected")), value(row, "Available")))
    return found


def _sorted(names):
    return sorted(names, key=str.casefold)


def status_label(raw):
    return STATUS_LABELS.get(raw, raw) if raw else raw


def view(record):
    """The user as the toolkit reports it: no secrets, lists sorted, state as a label."""
    if record is None:
        return dict(ABSENT)
    status = status_label(value(record, "State"))
    # Disabled and Pending mask a lock in the status; then the lock date tells.
    masked = status in (None, "Disabled", PENDING_STATUS)
    locked = status == LOCKED_STATUS or (masked and bool(value(record, "LockedOutDate")))
    return {
        "exists": True,
        "login": value(record, "Username"),
        "email": value(record, "Email"),
        "first_name": value(record, "FirstName"),
        "last_name": value(record, "LastName"),
        "user_type": value(record, "LoginTypeID"),
        "status": status,
        "locked": locked,
        "enabled": bool(value(record, "IsApproved")),
        "roles": _sorted(n for n, selected, _ in rows(record, "roles") if selected),
        "licence_types": _sorted(n for n, selected, _ in rows(record, "licence_types") if selected),
        "password_never_expires": value(record, "PasswordNeverExpires"),
        "force_password_change": bool(value(record, "PasswordChangeOnNextLogin")),
        "allowed_sessions": value(record, "AllowedSessions"),
        "last_login": value(record, "LastLoginDate"),
        "locked_out_date": value(record, "LockedOutDate"),
        "failed_attempts": value(record, "FailedPasswordAttemptCount"),
    }


def same(option, a, b):
    """Equality of two values of an option the way the site compares them."""
    if option in DETAILS:
        return {_fold(x) for x in a or []} == {_fold(x) for x in b or []}
    norm = SCALARS[option][1] if option in SCALARS else (lambda v: v)
    return norm(a) == norm(b)


class Plan:
    """Writes in execution order plus the predicted after-state and what to report."""

    def __init__(self, before, after):
        self.before, self.after = before, after
        self.create = self.delete = self.unlock = False
        self.enable = None          # True: EnableLogin, False: DisableLogin
        self.password = None        # "set" on create, "reset" via ResetPasswordOK
        self.fields = {}            # contract field -> value, for one PUT
        self.rows = {}              # collection -> [(name, selected)]
        self.actions = []
        self.keys = []              # the diff's keys, in the order they changed

    def change(self, key, new, action=None):
        self.after[key] = new
        if key not in self.keys:
            self.keys.append(key)
        if action:
            self.actions.append(action)

    @property
    def updated(self):
        return bool(self.create or self.delete or self.unlock or self.enable is not None
                    or self.fields or self.rows)

    @property
    def diff(self):
        return diff_of({k: self.before.get(k) for k in self.keys}, {k: self.after.get(k) for k in self.keys})


def plan_absent(record):
    plan = Plan(view(record), dict(ABSENT))
    if record is not None:
        plan.delete = True
        plan.keys = list(plan.before)
        plan.actions.append("deleted")
    return plan


def plan_present(record, desired, *, mode="exact", password_step=None, locked=False, site="", login=""):
    """Plan for a user that should exist. `desired` holds only the options the user set.

    `password_step` is "set" (creation), "reset" or None, decided by the caller, which is
    the one that can probe the password; `locked` says a probe found the user locked out
    although the record did not show it. Raises the actionable errors it can foresee.
    """
    if record is None:
        return _plan_create(desired, password_step)
    before = view(record)
    before["locked"] = before["locked"] or locked
    plan = Plan(before, dict(before))
    if before["locked"]:
        plan.unlock = True
        plan.change("locked", False, "unlocked")
    want_enabled = desired.get("enabled")
    if want_enabled is not None and want_enabled != before["enabled"]:
        plan.enable = want_enabled
        plan.change("enabled", want_enabled, "enabled" if want_enabled else "disabled")
    if password_step == "reset":
        plan.password = "reset"
        plan.change("password", PASSWORD_PLACEHOLDER, "password_reset")
    for option, (field, _norm) in SCALARS.items():
        want = desired.get(option)
        if want is not None and not same(option, before[option], want):
            plan.fields[field] = want
            plan.change(option, want, f"{option}_changed")
    if before["force_password_change"]:
        plan.fields["PasswordChangeOnNextLogin"] = False
        plan.change("force_password_change", False, "force_password_change_cleared")
    type_changes = "LoginTypeID" in plan.fields
    for option in DETAILS:
        if desired.get(option) is not None:
            _plan_rows(plan, record, option, desired[option], mode, not type_changes, site, login,
                       before["user_type"])
    if plan.unlock or plan.enable is not None:
        plan.after["status"] = _predicted_status(plan.after, before["status"])
    return plan


def _plan_create(desired, password_step):
    after = {"exists": True, "login": desired["login"], "locked": False,
             "enabled": desired.get("enabled", True), "force_password_change": False}
    plan = Plan(dict(ABSENT), dict(after))
    plan.create = True
    plan.keys = ["exists", "login"]
    plan.actions.append("created")
    for option, (field, _norm) in SCALARS.items():
        if desired.get(option) is not None:
            plan.fields[field] = desired[option]
            plan.change(option, desired[option])
    if desired.get("enabled") is not None:
        plan.fields["IsApproved"] = desired["enabled"]
        plan.change("enabled", desired["enabled"])
    plan.fields["PasswordChangeOnNextLogin"] = False  # user types may default it on; API users fail then
    for option in DETAILS:
        if desired.get(option) is not None:
            plan.change(option, _sorted({n.strip() for n in desired[option]}))
            plan.rows[DETAILS[option][0]] = [(n, True) for n in plan.after[option]]
    if password_step:
        plan.password = "set"
        plan.change("password", PASSWORD_PLACEHOLDER, "password_set")
    plan.after["status"] = "Active" if plan.after["enabled"] else "Disabled"
    return plan


def _plan_rows(plan, record, option, wanted, mode, rows_are_current, site, login, user_type):
    current = rows(record, option)
    names = {_fold(n): n for n, _, _ in current}
    have = {_fold(n) for n, selected, _ in current if selected}
    want = {_fold(w): names.get(_fold(w), w.strip()) for w in wanted}
    if rows_are_current and current:
        _check_rows(option, current, [want[k] for k in want if k not in have], site, login, user_type)
    add = _sorted(want[k] for k in want if k not in have)
    remove = _sorted(names[k] for k in have if k not in want) if mode == "exact" else []
    if not (add or remove):
        return
    plan.rows[DETAILS[option][0]] = [(n, True) for n in add] + [(n, False) for n in remove]
    kept = [names[k] for k in have if names[k] not in remove]
    plan.change(option, _sorted(kept + add))
    if add:
        plan.actions.append(f"{option}_added: {', '.join(add)}")
    if remove:
        plan.actions.append(f"{option}_removed: {', '.join(remove)}")


def _check_rows(option, current, adding, site, login, user_type):
    """Fail before writing when the rows already show that an addition cannot work."""
    known = {_fold(n): (n, available) for n, _, available in current}
    if option == "roles":
        unknown = [n for n in adding if _fold(n) not in known]
        if unknown:
            raise role_error(unknown, site, login, user_type, [n for n, _, _ in current])
        return
    blocked = [n for n in adding if _fold(n) not in known or known[_fold(n)][1] == 0]
    if blocked:
        raise licence_error(blocked, site, login, current)


def role_error(roles, site, login, user_type, allowed, server_text=None):
    said = f" The site said: {server_text}" if server_text else ""
    listed = f" Roles it allows: {', '.join(_sorted(allowed))}." if allowed else ""
    return ae.RoleNotAllowed(
        f"Role(s) {', '.join(roles)} cannot be given to '{login}' on MYOB Acumatica {site}: its user type "
        f"'{user_type or '?'}' does not allow them.{listed}{said} Choose roles the user type allows, or "
        "another user_type (User Types, EP202500).", roles=list(roles))


def licence_error(types, site, login, current_rows, server_text=None):
    free = [f"{n} ({'unlimited' if a is None else f'{a} free'})" for n, _, a in current_rows if a is None or a > 0]
    said = f" The site said: {server_text}" if server_text else ""
    listed = (f" Licence types available: {', '.join(free)}." if free
              else " See the License Types tab of Users (SM201010) for what is available.")
    return ae.LicenceUnavailable(
        f"Licence type(s) {', '.join(types)} cannot be assigned to '{login}' on MYOB Acumatica {site}: "
        f"unknown or no seat left.{listed}{said} Free a seat or choose another licence_types.",
        licence_types=list(types), available=[n for n, _, a in current_rows if a is None or a > 0])


def _predicted_status(after, status):
    if not after["enabled"]:
        return "Disabled"
    if status in (None, LOCKED_STATUS, "Disabled", PENDING_STATUS):
        return "Active"
    return status


def mismatches(plan, actual):
    """Keys written by the plan whose read-back differs from the prediction."""
    skip = {"password", "exists", "status"}
    return [k for k in plan.keys if k not in skip and not same(k, plan.after.get(k), actual.get(k))]
