"""The API user: read, decide the password step (password_step.py), plan, write, read back.

Pure planning over the field table (user_fields.py) plus the few calls that act on a site
through the client. `view()` turns the endpoint's record into the toolkit's user dict;
`plan_present()` / `plan_absent()` compare it with the options the user set (None = not
managed) and return a Plan: the writes in order and the predicted after-state. Check mode
and a real run use the same Plan, so they report the same diff.

The engine's input is one dict of options (erp_user's, which the site flow builds from a
site's variables too): login, state, password, update_password, roles_mode,
publish_endpoint, defer_password_change and the managed fields of the table.

A no-change run costs the admin sign-in, one GET of the user (which also proves the
endpoint is published), at most one probe sign-in + sign-out, and the sign-out.
"""
from . import errors as ae
from . import user_fields as uf
from .password_step import LOCKED_STATUS, PENDING_STATUS, password_step
from .client import wrap
from .endpoint import ensure_published
from ..errors import ToolkitError
from ..module_kit import PASSWORD_PLACEHOLDER, diff_of

ABSENT = {"exists": False}


def view(record):
    """The user as the toolkit reports it: no secrets, lists sorted, state as a label."""
    if record is None:
        return dict(ABSENT)
    user = {"exists": True}
    for field in uf.FIELDS:
        if field.key is None or field.write == uf.SECRET:
            continue
        if field.detail and field.contract not in record:
            user[field.key] = None        # not mapped by this edition of the endpoint: unknown
        elif field.detail:
            user[field.key] = uf.sort_names(n for n, selected, _available in uf.rows(record, field.key) if selected)
        else:
            user[field.key] = field.read(uf.value(record, field.contract))
    # Disabled and Pending mask a lock in the status; then the lock date tells.
    masked = user["status"] in (None, "Disabled", PENDING_STATUS)
    user["locked"] = user["status"] == LOCKED_STATUS or (masked and bool(user["locked_out_date"]))
    return user


def user_summary(user):
    """The part of a user view the site report keeps."""
    return {k: user[k] for k in uf.REPORTED if k in (user or {})}


class Plan:
    """Writes in execution order plus the predicted after-state and what to report."""

    def __init__(self, before, after):
        self.before, self.after = before, after
        self.create = self.delete = self.unlock = False
        self.enable = None          # True: EnableLogin (ActivateLogin when pending), False: DisableLogin
        self.password = None        # "set" on create, "reset" via ResetPasswordOK
        self.fields = {}            # contract field -> value, for one PUT
        self.rows = {}              # collection -> [(name, selected)]
        self.actions = []
        self.keys = []              # the diff's keys, in the order they changed
        self.roles_mode = "exact"

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
        plan = _plan_create(desired, password_step)
        plan.roles_mode = mode
        return plan
    before = view(record)
    before["locked"] = before["locked"] or locked
    plan = Plan(before, dict(before))
    plan.roles_mode = mode
    want_enabled = desired.get("enabled")
    pending = before["status"] == PENDING_STATUS
    if want_enabled is not None and (want_enabled != before["enabled"] or (want_enabled and pending)):
        plan.enable = want_enabled
        plan.change("enabled", want_enabled, ("activated" if pending else "enabled") if want_enabled else "disabled")
    # A disabled user's lock is moot (Unlock User is disabled in that state): unlocked only
    # when the user is or will be enabled.
    if before["locked"] and (before["enabled"] if want_enabled is None else want_enabled):
        plan.unlock = True
        plan.change("locked", False, "unlocked")
    if password_step == "reset":
        plan.password = "reset"
        plan.change("password", PASSWORD_PLACEHOLDER, "password_reset")
    for field in uf.PUT_FIELDS:
        want = desired.get(field.key)
        if want is not None and not uf.same(field.key, before[field.key], want):
            plan.fields[field.contract] = want
            plan.change(field.key, want, f"{field.key}_changed")
    if before["force_password_change"]:
        plan.fields[uf.BY_KEY["force_password_change"].contract] = False
        plan.change("force_password_change", False, "force_password_change_cleared")
    type_changes = uf.BY_KEY["user_type"].contract in plan.fields
    for field in uf.DETAILS:
        if desired.get(field.key) is not None:
            _plan_rows(plan, record, field, desired[field.key], mode, not type_changes, site, login,
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
    for field in uf.PUT_FIELDS:
        if desired.get(field.key) is not None:
            plan.fields[field.contract] = desired[field.key]
            plan.change(field.key, desired[field.key])
    if desired.get("enabled") is not None:
        plan.fields[uf.BY_KEY["enabled"].contract] = desired["enabled"]
        plan.change("enabled", desired["enabled"])
    # User types may default it on; an API user cannot sign in then.
    plan.fields[uf.BY_KEY["force_password_change"].contract] = False
    for field in uf.DETAILS:
        if desired.get(field.key) is not None:
            plan.change(field.key, uf.sort_names({n.strip() for n in desired[field.key]}))
            plan.rows[field.contract] = [(n, True) for n in plan.after[field.key]]
    if password_step:
        plan.password = "set"
        plan.change("password", PASSWORD_PLACEHOLDER, "password_set")
    plan.after["status"] = "Active" if plan.after["enabled"] else "Disabled"
    return plan


def _plan_rows(plan, record, field, wanted, mode, rows_are_current, site, login, user_type):
    current = uf.rows(record, field.key)
    names = {uf.fold(n): n for n, _selected, _available in current}
    have = {uf.fold(n) for n, selected, _available in current if selected}
    want = {uf.fold(w): names.get(uf.fold(w), w.strip()) for w in wanted}
    if rows_are_current and current:
        _check_rows(field.key, current, [want[k] for k in want if k not in have], site, login, user_type)
    add = uf.sort_names(want[k] for k in want if k not in have)
    remove = uf.sort_names(names[k] for k in have if k not in want) if mode == "exact" else []
    if not (add or remove):
        return
    plan.rows[field.contract] = [(n, True) for n in add] + [(n, False) for n in remove]
    kept = [names[k] for k in have if names[k] not in remove]
    plan.change(field.key, uf.sort_names(kept + add))
    if add:
        plan.actions.append(f"{field.key}_added: {', '.join(add)}")
    if remove:
        plan.actions.append(f"{field.key}_removed: {', '.join(remove)}")


def _check_rows(key, current, adding, site, login, user_type):
    """Fail before writing when the rows already show that an addition cannot work."""
    known = {uf.fold(n): (n, available) for n, _selected, available in current}
    if key == "roles":
        unknown = [n for n in adding if uf.fold(n) not in known]
        if unknown:
            raise role_error(unknown, site, login, user_type, [n for n, _selected, _available in current])
        return
    blocked = [n for n in adding if uf.fold(n) not in known or known[uf.fold(n)][1] == 0]
    if blocked:
        raise licence_error(blocked, site, login, current)


def role_error(roles, site, login, user_type, allowed, server_text=None):
    said = f" The site said: {server_text}" if server_text else ""
    listed = f" Roles it allows: {', '.join(uf.sort_names(allowed))}." if allowed else ""
    return ae.RoleNotAllowed(
        f"Role(s) {', '.join(roles)} cannot be given to '{login}' on MYOB Acumatica {site}: its user type "
        f"'{user_type or '?'}' does not allow them.{listed}{said} Choose roles the user type allows, or "
        "another user_type (User Types, EP202500).", roles=list(roles))


def licence_error(types, site, login, current_rows, server_text=None):
    free = [f"{n} ({'unlimited' if a is None else f'{a} free'})" for n, _selected, a in current_rows if a is None or a > 0]
    said = f" The site said: {server_text}" if server_text else ""
    listed = (f" Licence types available: {', '.join(free)}." if free
              else " See the License Types tab of Users (SM201010) for what is available.")
    return ae.LicenceUnavailable(
        f"Licence type(s) {', '.join(types)} cannot be assigned to '{login}' on MYOB Acumatica {site}: "
        f"unknown or no seat left.{listed}{said} Free a seat or choose another licence_types.",
        licence_types=list(types), available=[n for n, _selected, a in current_rows if a is None or a > 0])


def _predicted_status(after, status):
    if not after["enabled"]:
        return "Disabled"
    if status in (None, LOCKED_STATUS, "Disabled", PENDING_STATUS):
        return "Active"
    return status


def mismatches(plan, actual):
    """Keys written by the plan whose read-back differs from the prediction."""
    skip = {"password", "exists", "status"}
    return [k for k in plan.keys if k not in skip and not uf.same(k, plan.after.get(k), actual.get(k))]


# -- acting on a site ----------------------------------------------------------------------

def desired_of(params):
    """The managed options the user set (None = not managed), with the login."""
    desired = {k: params[k] for k in uf.MANAGED if params.get(k) is not None}
    desired["login"] = params["login"]
    return desired


def read(client, params, check_mode):
    """(record or None, endpoint actions): the user, publishing the endpoint first when it is
    missing and `publish_endpoint` allows it."""
    try:
        return client.get_user(params["login"]), []
    except ae.EndpointNotPublished:
        if not params.get("publish_endpoint"):
            raise
    ensure_published(client, check_mode, missing=True)
    if check_mode:
        client.warn("The User endpoint is not published yet, so check mode cannot read the user and "
                    "predicts its creation.")
        return None, ["endpoint_published"]
    return client.get_user(params["login"]), ["endpoint_published"]


def check_new_user_licences(client, desired):
    """Fail before creating a user whose licence types have no free seat (the seats are the
    same for every user of the tenant, so the admin's own record lists them)."""
    wanted = desired.get("licence_types")
    rows = _licence_rows(client) if wanted else []
    if rows:
        _check_rows("licence_types", rows, list(wanted), client.site, desired["login"], None)


def require_for_create(params, site):
    missing = [name for name in ("email", "password") if params.get(name) is None]
    if missing:
        raise ToolkitError(f"User '{params['login']}' does not exist on MYOB Acumatica {site}; creating it "
                           f"needs {' and '.join(missing)}.", error_kind="missing_option")


def _record(plan, login, password=None):
    record = {uf.BY_KEY["login"].contract: wrap(login)}
    record.update({field: wrap(value) for field, value in plan.fields.items()})
    if password is not None:
        record["GeneratePassword"] = wrap(False)  # before Password: with true the site ignores it
        record[uf.BY_KEY["password"].contract] = wrap(password)
    for field in uf.DETAILS:
        if field.contract in plan.rows:
            record[field.contract] = [{field.detail.key: wrap(name), "Selected": wrap(selected)}
                                      for name, selected in plan.rows[field.contract]]
    return record


def apply(client, plan, login, password):
    """Send the plan's writes in order, then read the user back and check they stuck."""
    if password is not None:
        client.secrets.add(password)
    current = None
    try:
        if plan.create:
            current = "create"
            client.put_user(_record(plan, login, password), create=True, what=f"Creating user '{login}'")
        else:
            # In the order the user's state allows them: a pending user is activated and a
            # disabled one enabled before a lock shows (and can be unlocked), unlocked before
            # its password is reset; disabled last.
            activate = "ActivateLogin" if plan.before.get("status") == PENDING_STATUS else "EnableLogin"
            for needed, action, parameters in (
                    (plan.enable is True, activate, None),
                    (plan.unlock, "UnlockLogin", None),
                    (plan.password == "reset", "ResetPasswordOK",
                     {"NewPassword": password, "ConfirmPassword": password})):
                if needed:
                    current = action
                    _act(client, action, login, parameters)
            if plan.fields or plan.rows:
                current = "update"
                client.put_user(_record(plan, login), create=False, what=f"Updating user '{login}'")
            if plan.enable is False:
                current = "DisableLogin"
                client.user_action("DisableLogin", login)
    except ae.UnexpectedAnswer as exc:
        raise _refined(exc, plan, login, client, current) from None
    actual = view(client.get_user(login))
    actual = _type_defaults(client, plan, login, actual)
    _verify(plan, actual, login, client.site)
    return actual


def _type_defaults(client, plan, login, actual):
    """The roles the site added on its own: inserting a user, or changing its user type, gives
    it the type's default roles. Exact mode removes them (one more update, said in the
    actions); additive mode keeps them (said too). The read-back after the removal is returned."""
    typed = plan.create or uf.BY_KEY["user_type"].contract in plan.fields
    if not typed or "roles" not in plan.keys or not actual.get("exists"):
        return actual
    wanted = {uf.fold(r) for r in plan.after["roles"]}
    added = uf.sort_names(r for r in actual.get("roles") or [] if uf.fold(r) not in wanted)
    if not added:
        return actual
    if plan.roles_mode != "exact":
        plan.after["roles"] = uf.sort_names(list(plan.after["roles"]) + added)
        plan.actions.append(f"roles_defaulted: {', '.join(added)}")
        return actual
    field = uf.BY_KEY["roles"]
    client.put_user({uf.BY_KEY["login"].contract: wrap(login),
                     field.contract: [{field.detail.key: wrap(n), "Selected": wrap(False)} for n in added]},
                    create=False, what=f"Removing the user type's default roles from '{login}'")
    plan.actions.append(f"roles_removed: {', '.join(added)} (the user type's defaults)")
    return view(client.get_user(login))


def _act(client, action, login, parameters):
    try:
        client.user_action(action, login, parameters)
    except ae.UnexpectedAnswer as exc:
        failure = getattr(exc, "failure", None)
        # Unlock User is disabled once the lock has expired (or was lifted by someone else):
        # nothing left to do.
        if not (action == "UnlockLogin" and failure and failure.code == ae.ACTION_DISABLED):
            raise


def _refined(exc, plan, login, client, step):
    """A write's failure as the typed error a person can act on."""
    failure = getattr(exc, "failure", None)
    code = failure.code if failure else None
    site = client.site
    if code == ae.ROLE:
        roles = [name for name, selected in plan.rows.get("Roles", []) if selected]
        user_type = plan.after.get("user_type") or plan.before.get("user_type")
        return role_error(roles, site, login, user_type, [], failure.text)
    if code == ae.LICENCE:
        types = [name for name, selected in plan.rows.get("LicenseTypes", []) if selected]
        return licence_error(types, site, login, _licence_rows(client), failure.text)
    if code == ae.PASSWORD_REJECTED:
        return ae.PasswordRejected(
            f"The password policy of MYOB Acumatica {site} rejected the new password for '{login}': "
            f"{failure.text}. Choose one that meets the site's Security Preferences (SM201060).")
    if failure and any(path.split("[")[0] == uf.BY_KEY["password_never_expires"].contract
                       for path, _message in failure.field_errors):
        return never_expires_error(site, login, f"it refused it: {failure.text}", ae.UnexpectedAnswer)
    if code == ae.ACTION_DISABLED:
        return ae.UnexpectedAnswer(
            f"{step} on '{login}' on MYOB Acumatica {site} was refused: {failure.text} The user's state "
            "changed since it was read (someone else is changing it?); run again.", reason=code)
    if code == ae.LOCKED and step == "ResetPasswordOK":
        return ae.AccountLocked(f"Resetting the password of '{login}' on MYOB Acumatica {site} was refused: "
                                f"{failure.text}. Unlock it on Users (SM201010) and run again.")
    return exc


def _licence_rows(client):
    """Every licence type with its free seats: any user's record lists them, the admin's too."""
    try:
        return uf.rows(client.get_user(client.user), "licence_types")
    except ToolkitError:
        return []


def _verify(plan, actual, login, site):
    wrong = mismatches(plan, actual)
    if not wrong:
        return
    if "roles" in wrong or "licence_types" in wrong:
        what = " and ".join(k.replace("_", " ") for k in ("roles", "licence_types") if k in wrong)
        raise ae.WriteNotDurable(
            f"MYOB Acumatica {site} accepted the {what} of '{login}', but reading the user back shows "
            f"roles {actual.get('roles')} and licence types {actual.get('licence_types')} instead of "
            f"{plan.after.get('roles')} / {plan.after.get('licence_types')}: the site did not keep the "
            "membership. Assign them by hand on Users (SM201010) and report the site's build.",
            not_kept=wrong)
    if wrong == ["password_never_expires"]:
        raise never_expires_error(site, login, "it answered the write with success, and reading the user back shows "
                                  "it unset", ae.WriteNotDurable)
    raise ae.WriteNotDurable(
        f"MYOB Acumatica {site} accepted the changes to '{login}', but reading it back shows different "
        f"values for {', '.join(wrong)}. Check the user on Users (SM201010).", not_kept=wrong)


def never_expires_error(site, login, said, cls):
    """'Password Never Expires' not set through the API: MYOB may ask a person to confirm it."""
    return cls(f"MYOB Acumatica {site} did not set 'Password Never Expires' on '{login}' ({said}): the site asks "
               "for a confirmation the API cannot give. Tick it for that user on Users (SM201010) by hand and run "
               "again; until then its password expires by the site's policy.", not_kept=["password_never_expires"])


def result(plan, endpoint_actions, final, pending, verified=False):
    return {
        "changed": bool(plan.updated or plan.password or endpoint_actions),
        "updated": bool(plan.updated or endpoint_actions),
        "password_updated": bool(plan.password),
        "password_change_pending": pending,
        "password_verified": verified,
        "actions": endpoint_actions + plan.actions,
        "user": final,
        "diff": plan.diff,
    }


class Prepared:
    """What ensure() reads and decides before any write: the user as read, the password step
    (its probe sign-in made), and the plan."""

    def __init__(self, client, params, check_mode):
        record, self.endpoint_actions = read(client, params, check_mode)
        self.desired = desired_of(params)
        self.before = view(record)
        step, locked, self.pending, self.verified = password_step(client, params, self.before, self.desired)
        self.plan = plan_present(record, self.desired, mode=params["roles_mode"], password_step=step,
                                 locked=locked, site=client.site, login=params["login"])


def ensure(client, params, check_mode, prepared=None):
    """(result, before): the user made to match `params` (state present), and the user as it
    was read (`prepared`, when the caller read it ahead). Check mode writes nothing and
    predicts the result."""
    login = params["login"]
    prepared = prepared or Prepared(client, params, check_mode)
    plan, desired, before = prepared.plan, prepared.desired, prepared.before
    endpoint_actions, pending, verified = prepared.endpoint_actions, prepared.pending, prepared.verified
    if plan.create:
        require_for_create(params, client.site)
        if not endpoint_actions or not check_mode:
            check_new_user_licences(client, desired)
    if check_mode or not (plan.updated or plan.password):
        final = {k: v for k, v in plan.after.items() if k != "password"}
    else:
        final = apply(client, plan, login, params["password"])
    return result(plan, endpoint_actions, final, pending, verified), before


def manage_user(client, params, check_mode):
    """erp_user's whole run: read once, plan, write what differs, read back."""
    if params["state"] == "absent":
        record, endpoint_actions = read(client, params, check_mode)
        plan = plan_absent(record)
        if plan.delete and not check_mode:
            client.delete_user(params["login"])
        return result(plan, endpoint_actions, dict(ABSENT), False)
    return ensure(client, params, check_mode)[0]
