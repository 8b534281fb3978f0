"""One Ocerra entity's MYOB Acumatica connection: desired state -> writes, diff and verdict.

Speaks to Ocerra only through the adapter (ocerra_client), in the toolkit's field names.
The order is the one a person follows in Ocerra's UI (ocerra.md §4): save the changed fields,
switch Enable Connection back on when the save dropped it, then read the status.
"""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import urlsplit

from ..errors import ToolkitError
from ..module_kit import PASSWORD_PLACEHOLDER, diff_of
from .client import CONNECTED, IDLE, LISTING_WORKERS, RETRYABLE, STATUS_ADVICE
from .errors import OcerraForbidden

MANAGED = ("erp_url", "tenant", "branch", "login")
STORED_PLACEHOLDER = "(stored)"


class ConnectionFailed(ToolkitError):
    """The connection is not Connected after the run; the status says why."""

    kind = "connection_status"


def _norm(key, value):
    """Values as the ERP compares them: URLs without a trailing slash and with a lower-case
    scheme and host; tenants, branches and logins case-insensitively (a case-only change of
    the login would otherwise drop the connection for nothing)."""
    value = str(value or "").strip()
    return base_url(value) if key == "erp_url" else value.casefold()


def base_url(url):
    """An ERP URL as the ERP compares it: lower-case scheme and host, no trailing slash."""
    parts = urlsplit(str(url).strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def site_key(connection):
    """The connection's ERP URL, tenant and login, normalised as the ERP compares them."""
    return "|".join(_norm(k, connection.get(k)) for k in ("erp_url", "tenant", "login"))


def same_values(connection, wanted):
    """Whether the connection has every value in `wanted`, compared as the ERP compares them."""
    return all(_norm(k, v) == _norm(k, connection.get(k)) for k, v in wanted.items())


def plan(current, desired, password=None, push_password=False):
    """The toolkit fields to write: the managed ones that differ, the password when the caller
    says it changed or Ocerra has none, and Enable Connection with any credential change."""
    changes = {k: desired[k] for k in MANAGED
               if desired.get(k) is not None and not same_values(current, {k: desired[k]})}
    if password is not None and (push_password or not current["has_password"]):
        changes["password"] = password
    enabled = desired["enabled"]
    # Sent along with a credential change: a server that honours it in the same save spares
    # the second one.
    if enabled != current["enabled"] or (enabled and ("login" in changes or "password" in changes)):
        changes["enabled"] = enabled
    return changes


def predict(current, changes):
    """The connection check mode reports: the current one with the changes applied."""
    after = dict(current, **{k: v for k, v in changes.items() if k != "password"})
    if "password" in changes:
        after["has_password"] = True
    return after


def diff_view(connection, password=None):
    """The diffed keys; `password` is a placeholder (never the password) or None."""
    view = {k: connection.get(k) for k in MANAGED + ("enabled",)}
    if password:
        view["password"] = password
    return view


def password_diff(before, after, pushed):
    """Ansible's diff; a pushed password shows as "(stored)" (or null if Ocerra had none)
    before and "(changed)" after."""
    if not pushed:
        return diff_of(diff_view(before), diff_view(after))
    return diff_of(diff_view(before, STORED_PLACEHOLDER if before["has_password"] else None),
                   diff_view(after, PASSWORD_PLACEHOLDER))


def public(connection):
    """The connection as modules return it (without the adapter's bookkeeping field)."""
    return {k: v for k, v in connection.items() if k != "updated"}


def status_is_stale(before, after):
    """True when the status read after a save may predate it (the server did not test on
    save). Ocerra's dates have whole seconds, so an unchanged (code, date) counts as stale:
    at worst that costs one more test, never a stale status taken for the save's result."""
    status = after["status"]
    if status["code"] in IDLE or not status["checked"]:
        return True
    if after.get("updated") and _when(status["checked"]) < _when(after["updated"]):
        return True
    return (status["code"], status["checked"]) == (before["status"]["code"], before["status"]["checked"])


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ensure_connection(client, client_id, desired, *, password=None, push_password=False,
                      verify=True, status_retry=2, status_retry_delay=15, check_mode=False,
                      warn=None, sleep=time.sleep):
    """Bring one entity to `desired` ({erp_url, tenant, branch, login: value or None,
    enabled: bool}); the module's result. Raises ToolkitError with `changed` and
    `password_pushed` in its details, so a failure still tells what was written."""
    before = client.get_settings(client_id)
    name = before["client_name"] or client_id
    if desired["enabled"] and password is None and not before["has_password"]:
        raise ConnectionFailed(f"Ocerra has no ERP password stored for client '{name}': give "
                               "password to connect it.", changed=False, password_pushed=False)
    changes = plan(before, desired, password, push_password)
    pushed = "password" in changes
    # Set before sending: a save that times out may still have been applied.
    state = {"changed": bool(changes), "password_pushed": pushed}
    if check_mode:
        after = predict(before, changes)
        if warn and not changes and desired["enabled"] and verify and after["status"]["code"] != CONNECTED:
            warn(f"The connection of Ocerra client '{name}' is {after['status']['code']}; check "
                 "mode does not test it, a real run would test it once.")
    else:
        try:
            after = _save(client, client_id, changes, desired["enabled"]) if changes else before
            if desired["enabled"] and verify:
                after = _verified(client, client_id, before, after, bool(changes),
                                  status_retry, status_retry_delay, sleep)
        except ToolkitError as exc:
            exc.details.update(state)
            if changes and "connection" not in exc.details:
                exc.details["connection"] = _read_back(client, client_id)
            raise
    return {**state, "connection": public(after),
            "diff": password_diff(before, after, pushed)}


def _read_back(client, client_id):
    """The entity's settings after a write whose answer was lost or refused (it may have been
    applied all the same), or None when Ocerra cannot be read either."""
    try:
        return public(client.get_settings(client_id))
    except ToolkitError:
        return None


def _save(client, client_id, changes, enabled):
    after = client.put_settings(client_id, changes)
    if enabled and not after["enabled"]:
        after = client.ensure_enabled(client_id)   # the save dropped Enable Connection
    if after["enabled"] != enabled:
        raise ConnectionFailed(
            f"Ocerra did not keep Enable Connection {'on' if enabled else 'off'} for client "
            f"'{after['client_name'] or client_id}' (status {after['status']['code']}): check the "
            "client's MYOB Acumatica settings in Ocerra.", connection=public(after))
    return after


def _verified(client, client_id, before, after, saved, retries, delay, sleep):
    """The connection once its status reads Connected, else ConnectionFailed.

    One sign-in test at most, unless the status is Unreachable or LicenseLimit, which may
    clear: those get `retries` more tests, `delay` seconds apart. InvalidCredentials and
    AccountLocked are never tested again: each test is one more failed ERP sign-in."""
    needs_test = status_is_stale(before, after) if saved else after["status"]["code"] != CONNECTED
    status = client.test_connection(client_id) if needs_test else after["status"]
    for _attempt in range(retries):
        if status["code"] not in RETRYABLE:
            break
        sleep(delay)
        status = client.test_connection(client_id)
    after = dict(after, status=status)
    if status["code"] != CONNECTED:
        advice = STATUS_ADVICE.get(status["code"], "check the connection in Ocerra's MYOB Acumatica settings.")
        raise ConnectionFailed(
            f"The MYOB Acumatica connection of Ocerra client '{after['client_name'] or client_id}' "
            f"is {status['code']}: {client.scrub(status['message'] or 'no message')} Next: {advice}",
            connection=public(after), connection_status=status["code"])
    return after


def _read_settings(client, entry):
    try:
        return client.get_settings(entry["client_id"])
    except OcerraForbidden as exc:
        return {**entry, "error": exc.message}


def find_connections(client, wanted, warn=None):
    """(connections, unreadable): every entity the service user can read whose settings have
    the values in `wanted` ({erp_url, tenant, login}, compared as the ERP compares them), and
    those it may not read (no accountant role), with the reason. Sorted by name.

    The first two entities are read alone: the service user's current client, then another,
    which settles whether Ocerra selects a client by the request (the client's selection
    becomes query_param) or by a switch. The others are
    read on LISTING_WORKERS threads when each request names its client, one at a time when a
    client must be switched to first (that switch is the service user's state on the server)."""
    entries = client.list_clients()
    read = [_read_settings(client, e) for e in entries[:2]]
    if client.selection == "auto" and len(entries) >= 2 and "error" not in read[1]:
        client.selection = "query_param"    # another client than the current one answered for itself
    if client.selection == "switch_call":
        read += [_read_settings(client, e) for e in entries[2:]]
    elif entries[2:]:
        with ThreadPoolExecutor(max_workers=min(LISTING_WORKERS, len(entries) - 2)) as pool:
            read += list(pool.map(lambda e: _read_settings(client, e), entries[2:]))
    connections = [public(c) for c in read if "error" not in c and same_values(c, wanted)]
    unreadable = [c for c in read if "error" in c]
    if unreadable and warn:
        warn(f"{len(unreadable)} Ocerra client(s) could not be read (no accountant role): "
             f"{', '.join(str(e['client_name']) for e in unreadable)}.")
    connections.sort(key=lambda c: (str(c["client_name"]).casefold(), c["client_id"]))
    return connections, unreadable
