"""The API user's password step in a run of the user engine (user.py): set it (creation), reset
it (ResetPasswordOK), or nothing, decided from the user as read and, for
update_password=when_changed, one sign-in as the API user with the password (a probe).

The probe is made only when one more failed sign-in could not lock the user out: its failed
sign-in count plus one stays below the site's lock-out threshold; otherwise the password is
reset, which needs no sign-in (as for a locked user). A probe refused for anything but
invalid credentials means the password is right and something else stops the sign-in.
"""
from . import errors as ae
from . import user_fields as uf

DEFAULT_LOCKOUT_THRESHOLD = 3       # MYOB's and Acumatica's default (SM201060)
PENDING_STATUS = "Pending Activation"
LOCKED_STATUS = "Temporarily Locked"


def at_lockout_risk(user, threshold):
    """Whether one more failed sign-in could lock the user out: its failed sign-in count (an
    upper bound: the site restarts it only at the next failure after its window) plus one
    reaches the site's lock-out threshold."""
    return int(user.get("failed_attempts") or 0) + 1 >= int(threshold or DEFAULT_LOCKOUT_THRESHOLD)


def password_step(client, params, before, desired):
    """(step, locked, pending, verified): "set"/"reset"/None; a lock only the probe saw; a
    deferred change; whether a sign-in with the password succeeded.

    The probe of update_password=when_changed is one sign-in as the API user, made only when
    one more failure could not lock it out (lockout_threshold); otherwise the password is
    reset, which needs no sign-in, as for a locked user."""
    password, mode = params.get("password"), params.get("update_password", "when_changed")
    step, locked, verified = None, False, False
    if password is None:
        return None, False, False, False
    if not before["exists"]:
        return "set", False, False, False
    will_be_enabled = desired.get("enabled", before["enabled"])
    if mode == "always":
        step = "reset"
    elif mode == "when_changed":
        if not before["enabled"] or before["status"] == PENDING_STATUS:
            step = "reset" if will_be_enabled else None     # left disabled, even a lock is moot
        elif before["locked"]:
            step = "reset"  # cannot be verified, and a locked user is usually out of sync
        elif at_lockout_risk(before, params.get("lockout_threshold")):
            step = "reset"
            client.warn(f"'{params['login']}' on MYOB Acumatica {client.site} has {before['failed_attempts']} "
                        "failed sign-in(s): one more could lock it out, so its password is not checked by "
                        "signing in; it is reset instead.")
        else:
            step, locked = _probe(client, params, before, desired)
            verified = step is None and not locked
    if step == "reset" and params.get("defer_password_change"):
        return None, locked, True, verified
    return step, locked, False, verified


def _probe(client, params, before, desired):
    """(step, locked) from one sign-in as the API user.

    The site checks the password first (reference §8), so every refusal but "invalid
    credentials" means the password is right and something else stops the sign-in.
    """
    login = params["login"]
    outcome = client.probe_signin(login, params["password"])
    if outcome == ae.UNEXPLAINED:
        outcome = _explained(client, login, before)
    if outcome == ae.INVALID:
        # The password the ERP probably holds (the password store's current one, while a new
        # one is pending): a sign-in with it clears the failed attempt just counted, when one
        # more failure could not lock the user out.
        other = params.get("fallback_password")
        counted = {"failed_attempts": int(before["failed_attempts"] or 0) + 1}
        if other and not at_lockout_risk(counted, params.get("lockout_threshold")):
            client.probe_signin(login, other)
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


def _explained(client, login, before):
    """A refusal the site gave no reason for (its generic error page), told apart by a second
    read: the failed sign-in count went up (a wrong password: INVALID, or LOCKED once it
    reached the threshold) or did not (the password is right; the API Login Limit stopped it)."""
    record = client.get_user(login) or {}
    count, status = (uf.BY_KEY[k].read(uf.value(record, uf.BY_KEY[k].contract)) for k in ("failed_attempts", "status"))
    if status == LOCKED_STATUS:
        return ae.LOCKED
    if count is not None and count > int(before["failed_attempts"] or 0):
        return ae.INVALID
    return ae.LOGIN_LIMIT
