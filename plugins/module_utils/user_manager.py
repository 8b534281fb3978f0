"""erp_user's work: read the API user once, decide the password step, plan, write, read back.

A no-change run costs the admin sign-in, one GET of the user (which also proves the
endpoint is published), at most one probe sign-in + sign-out, and the sign-out.
"""
from . import acumatica_errors as ae
from . import erp_user_state as us
from .acumatica_client import wrap
from .endpoint_install import ensure_published
from .errors import ToolkitError

MANAGED = ("email", "first_name", "last_name", "user_type", "password_never_expires", "allowed_sessions",
           "enabled", "roles", "licence_types")


def manage_user(client, params, check_mode):
    login = params["login"]
    record, endpoint_actions = _read(client, params, check_mode)
    if params["state"] == "absent":
        plan = us.plan_absent(record)
        if plan.delete and not check_mode:
            client.delete_user(login)
        return _result(plan, endpoint_actions, dict(us.ABSENT), False)
    desired = {k: params[k] for k in MANAGED if params.get(k) is not None}
    desired["login"] = login
    before = us.view(record)
    step, locked, pending = _password_step(client, params, before, desired)
    plan = us.plan_present(record, desired, mode=params["roles_mode"], password_step=step, locked=locked,
                           site=client.site, login=login)
    if plan.create:
        _require_for_create(params, client.site)
    if check_mode or not (plan.updated or plan.password):
        final = {k: v for k, v in plan.after.items() if k != "password"}
    else:
        final = _apply(client, plan, params)
    return _result(plan, endpoint_actions, final, pending)


def _read(client, params, check_mode):
    """The user's record (None = absent) and, when it had to be published, the endpoint action."""
    try:
        return client.get_user(params["login"]), []
    except ae.EndpointNotPublished:
        if not params["publish_endpoint"]:
            raise
    ensure_published(client, check_mode, missing=True)
    if check_mode:
        client.warn("The User endpoint is not published yet, so check mode cannot read the user and "
                    "predicts its creation.")
        return None, ["endpoint_published"]
    return client.get_user(params["login"]), ["endpoint_published"]


def _password_step(client, params, before, desired):
    """(step, locked, pending): "set"/"reset"/None, a lock only the probe saw, deferred change."""
    password, mode = params["password"], params["update_password"]
    step, locked = None, False
    if password is None:
        return None, False, False
    if not before["exists"]:
        return "set", False, False
    will_be_enabled = desired.get("enabled", before["enabled"])
    if mode == "always":
        step = "reset"
    elif mode == "when_changed":
        if before["locked"]:
            step = "reset"  # cannot be verified, and a locked user is usually out of sync
        elif not before["enabled"] or before["status"] == us.PENDING_STATUS:
            step = "reset" if will_be_enabled else None
        else:
            step, locked = _probe(client, params, before, desired)
    if step == "reset" and params["defer_password_change"]:
        return None, locked, True
    return step, locked, False


def _probe(client, params, before, desired):
    """(step, locked) from one sign-in as the API user.

    The site checks the password first (reference §8), so every refusal but "invalid
    credentials" means the password is right and something else stops the sign-in.
    """
    login = params["login"]
    outcome = client.probe_signin(login, params["password"])
    if outcome == ae.INVALID:
        return "reset", False
    if outcome == ae.CHANGE_REQUIRED:
        # The forced-change flag (the plan clears it) or an expiry that password_never_expires
        # is about to lift explains it; otherwise the password expired and needs a reset.
        lifted = desired.get("password_never_expires") and not before["password_never_expires"]
        return (None if before["force_password_change"] or lifted else "reset"), False
    if outcome == ae.LOGIN_LIMIT:
        raise ae.LoginLimitReached(
            f"Could not verify the password of '{login}' on MYOB Acumatica {client.site}: API Login Limit "
            "for that user (it is signed in elsewhere, e.g. by Ocerra; MYOB allows one concurrent login "
            "by default). Run again later, raise allowed_sessions, or use update_password: always.")
    return None, outcome == ae.LOCKED


def _require_for_create(params, site):
    missing = [name for name in ("email", "password") if params.get(name) is None]
    if missing:
        raise ToolkitError(f"User '{params['login']}' does not exist on MYOB Acumatica {site}; creating it "
                           f"needs {' and '.join(missing)}.", error_kind="missing_option")


def _record(plan, login, password=None):
    record = {"Username": wrap(login)}
    record.update({field: wrap(value) for field, value in plan.fields.items()})
    if password is not None:
        record["GeneratePassword"] = wrap(False)  # before Password: with true the site ignores it
        record["Password"] = wrap(password)
    for option, (collection, key) in us.DETAILS.items():
        if collection in plan.rows:
            record[collection] = [{key: wrap(name), "Selected": wrap(selected)}
                                  for name, selected in plan.rows[collection]]
    return record


def _apply(client, plan, params):
    """Send the plan's writes in order, then read the user back and check they stuck."""
    login, password = params["login"], params["password"]
    if password is not None:
        client.remember_secret(password)
    current = None
    try:
        if plan.create:
            current = "create"
            client.put_user(_record(plan, login, password), create=True, what=f"Creating user '{login}'")
        else:
            for needed, action, parameters in (
                    (plan.unlock, "UnlockLogin", None),
                    (plan.enable is True, "EnableLogin", None),
                    (plan.password == "reset", "ResetPasswordOK",
                     {"NewPassword": password, "ConfirmPassword": password})):
                if needed:
                    current = action
                    client.user_action(action, login, parameters)
            if plan.fields or plan.rows:
                current = "update"
                client.put_user(_record(plan, login), create=False, what=f"Updating user '{login}'")
            if plan.enable is False:
                current = "DisableLogin"
                client.user_action("DisableLogin", login)
    except ae.UnexpectedAnswer as exc:
        raise _refined(exc, plan, params, client, current) from None
    actual = us.view(client.get_user(login))
    _verify(plan, actual, login, client.site)
    return actual


def _refined(exc, plan, params, client, step):
    """A write's failure as the typed error a person can act on."""
    failure = getattr(exc, "failure", None)
    code = failure.code if failure else None
    login, site = params["login"], client.site
    if code == ae.ROLE:
        roles = [name for name, selected in plan.rows.get("Roles", []) if selected]
        return us.role_error(roles, site, login, params.get("user_type") or plan.before.get("user_type"),
                             [], failure.text)
    if code == ae.LICENCE:
        types = [name for name, selected in plan.rows.get("LicenseTypes", []) if selected]
        return us.licence_error(types, site, login, _licence_rows(client), failure.text)
    if code == ae.PASSWORD_REJECTED:
        return ae.PasswordRejected(
            f"The password policy of MYOB Acumatica {site} rejected the new password for '{login}': "
            f"{failure.text}. Choose one that meets the site's Security Preferences (SM201060).")
    if code == ae.LOCKED and step == "ResetPasswordOK":
        return ae.AccountLocked(f"Resetting the password of '{login}' on MYOB Acumatica {site} was refused: "
                                f"{failure.text}. Unlock it on Users (SM201010) and run again.")
    return exc


def _licence_rows(client):
    """Every licence type with its free seats: any user's record lists them, the admin's too."""
    try:
        return us.rows(client.get_user(client.user), "licence_types")
    except ToolkitError:
        return []


def _verify(plan, actual, login, site):
    wrong = us.mismatches(plan, actual)
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
    raise ae.WriteNotDurable(
        f"MYOB Acumatica {site} accepted the changes to '{login}', but reading it back shows different "
        f"values for {', '.join(wrong)}. Check the user on Users (SM201010).", not_kept=wrong)


def _result(plan, endpoint_actions, final, pending):
    return {
        "changed": bool(plan.updated or plan.password or endpoint_actions),
        "updated": bool(plan.updated or endpoint_actions),
        "password_updated": bool(plan.password),
        "password_change_pending": pending,
        "actions": endpoint_actions + plan.actions,
        "user": final,
        "diff": plan.diff,
    }
