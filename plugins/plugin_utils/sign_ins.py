"""Failed sign-ins remembered across runs, per account, so that no run locks an account out.

Every account the toolkit signs in as with a password that may be wrong locks after a few
failures: the ERP's admin (MYOB Acumatica: 3 failures within 10 minutes lock it for 15; the
site's `api_user_lockout_threshold` is the ERP's setting) and the Ocerra service user (ASP.NET
Identity: 5 failures, counted until a sign-in works). One run knows nothing of the failures of
earlier runs, plans included, so each failure is kept in the state folder
(`sign-ins/<account>.json`: the account's name, when each failure happened and a salted
PBKDF2 fingerprint of the password that failed, never the password). Before signing in, a run
refuses when

  * the same password already failed within the window: it would fail again, and count; or
  * the failures within the window are threshold - 1: one more could lock the account (a
    person keeps the last attempt).

A sign-in that works forgets the account's failures, as the services reset their counters.
The API user is not guarded here: the ERP exposes its count (FailedPasswordAttemptCount),
which flow_user reads before every probe.

Workers of one run: the first sign-in of an account is made under the account's file lock, so
a password that fails fails once, not once per site; once it has worked in this run (a marker
in the run's folder), the other sites sign in without waiting.

Several machines: where the site keeps its passwords in a shared store (Vault, AWS), the
admin's record is kept there instead (the store's `sign-ins` record, written compare-and-set),
so a failure on one controller stops the others too. The Ocerra service user's record stays in
the state folder: it is one account for the whole fleet, and a shared store is per site.
"""
import fcntl
import hashlib
import json
import os
import re
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from ansible_collections.ocerra.acumatica.plugins.module_utils.sign_in_guard import Attempt
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import run_dir
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_json
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import fingerprint
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import LockoutRisk
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import SIGN_INS, Conflict, StoreError

ERP_WINDOW = timedelta(minutes=15)      # the counter's 10-minute reset and the 15-minute lock-out
OCERRA_THRESHOLD = 5                    # ASP.NET Identity's default
KEEP = 20                               # failures kept per account
CAS_TRIES = 5                           # writes of a shared record that another machine moved


def _now():
    return datetime.now(timezone.utc)


def _stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text):
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


class Account:
    """One account on one service: `name` (for messages, e.g. "'admin' on MYOB Acumatica
    https://erp (tenant 'T')"), its lock-out `threshold`, the `window` its failures count in
    (None: until a sign-in works), the option to correct (`option`)."""

    def __init__(self, state_dir, key, name, *, threshold, window, option, shared=None):
        digest = hashlib.sha256("|".join(key).casefold().encode()).hexdigest()[:16]
        slug = re.sub(r"[^a-z0-9]+", "-", key[-1].casefold()).strip("-")[:40]
        self.path = os.path.join(state_dir, "sign-ins", f"{slug}-{digest}.json")
        self.record = _SharedRecord(shared, digest) if shared is not None else _FileRecord(self.path)
        self.marker = f"sign-in-{digest}"
        self.name, self.threshold, self.window, self.option = name, max(int(threshold), 1), window, option
        self._now = _now            # a test's clock may stand in

    @contextmanager
    def attempt(self, password):
        """Yield an Attempt to report the answer to; LockoutRisk instead when signing in could
        lock the account. Under the account's lock unless it already worked in this run."""
        if self._worked_in_this_run():
            yield _Recorder(self, password, None)
            return
        with self.locked():
            data = self.load()
            self._refuse_if_risky(data, password)
            yield _Recorder(self, password, data)

    @contextmanager
    def locked(self):
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ---- the record ------------------------------------------------------------------------
    def load(self):
        return self._valid(self.record.load())

    def _valid(self, data):
        if not isinstance(data, dict) or not isinstance(data.get("failures"), list) or not data.get("salt"):
            data = {"account": self.name, "salt": secrets.token_hex(16), "failures": []}
        data["failures"] = [f for f in data["failures"] if isinstance(f, dict) and _parse(f.get("at"))]
        return data

    def update(self, change):
        """Apply `change(data)` to the record as stored now, and store it."""
        self.record.update(lambda data: _kept(change(self._valid(data))))

    def counted(self, data):
        """The failures that still count toward a lock-out."""
        if self.window is None:
            return data["failures"]
        since = self._now() - self.window
        return [f for f in data["failures"] if _parse(f["at"]) > since]

    def _refuse_if_risky(self, data, password):
        counted = self.counted(data)
        if not counted:
            return
        mark = fingerprint(password, data["salt"])
        same = [f for f in counted if f.get("fingerprint") == mark]
        at = ", ".join(f["at"] for f in counted)
        when = self._safe_after(same or counted)
        forget = "" if same else \
            f"If a person has since signed in as that user, {self.record.to_forget} to forget these failures."
        if same:
            raise LockoutRisk(
                f"Not signing in as {self.name}: this password was refused {len(same)} time(s) "
                f"({at}), so it would be refused again and count toward locking the account out (lock-out after "
                f"{self.threshold}). Correct {self.option}; the same password is tried again {when}.",
                account=self.name, failures=len(counted))
        if len(counted) >= self.threshold - 1:
            raise LockoutRisk(
                f"Not signing in as {self.name}: {len(counted)} failed sign-in(s) recorded ({at}); one more could "
                f"lock the account out (lock-out after {self.threshold}), so the last attempt is left to a person. "
                f"Safe {when}. {forget}".strip(), account=self.name, failures=len(counted))

    def _safe_after(self, failures):
        if self.window is None:
            return "once a sign-in as that user has worked (the service counts failures until then)"
        return "after " + _stamp(min(_parse(f["at"]) for f in failures) + self.window)

    def failed(self, password, locked):
        at = _stamp(self._now())

        def add(data):
            data["failures"].append({"at": at, "fingerprint": fingerprint(password, data["salt"]),
                                     **({"locked": True} if locked else {})})
            return data
        self.update(add)

    def forget(self):
        self.update(lambda data: {**data, "failures": []})

    # ---- this run -----------------------------------------------------------------------------
    def _worked_in_this_run(self):
        folder = run_dir.path()
        return bool(folder) and os.path.exists(os.path.join(folder, self.marker))

    def worked_in_this_run(self):
        folder = run_dir.path()
        if folder:
            with open(os.path.join(folder, self.marker), "w", encoding="ascii"):
                pass

    def forget_run(self):
        folder = run_dir.path()
        if folder:
            try:
                os.unlink(os.path.join(folder, self.marker))
            except FileNotFoundError:
                pass


class _Recorder(Attempt):
    """What the answer changes in the account's record (`data`: as read under the account's
    lock; None in a run where the account already worked, read again under the lock on a
    refusal)."""

    def __init__(self, account, password, data):
        self.account, self.password, self.data = account, password, data

    def worked(self):
        if self.data is not None:
            if self.data["failures"]:
                self.account.forget()
            self.account.worked_in_this_run()

    def refused(self, locked=False):
        account = self.account
        account.forget_run()
        if self.data is not None:
            account.failed(self.password, locked)
            return
        with account.locked():
            account.failed(self.password, locked)


def _kept(data):
    data["failures"] = data["failures"][-KEEP:]
    return data


class _FileRecord:
    """An account's record in the controller's state folder (under the account's file lock)."""

    def __init__(self, path):
        self.path = path
        self.to_forget = f"remove {path}"

    def load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def update(self, change):
        write_json(self.path, change(self.load()), indent=1)


class _SharedRecord:
    """An account's record in the site's shared store: one `sign-ins` document per site holding
    each account's record by its digest, every write a compare-and-set (re-read and re-applied
    when another machine moved it)."""

    def __init__(self, store, digest):
        self.store, self.digest, self.where = store, digest, store.where
        self.to_forget = f"delete the '{SIGN_INS}' record beside the site's passwords in {store.where}"

    def _read(self):
        try:
            document, version = self.store.read_record(SIGN_INS)
        except StoreError as exc:
            raise StoreError(f"The failed sign-ins of the site's admin cannot be read from {self.where}, so it was "
                             f"not signed in: {exc.message}") from None
        return (document if isinstance(document, dict) else {}), version

    def load(self):
        return self._read()[0].get(self.digest)

    def update(self, change):
        for _attempt in range(CAS_TRIES):
            document, version = self._read()
            document[self.digest] = change(document.get(self.digest))
            try:
                self.store.write_record(SIGN_INS, document, version)
                return
            except Conflict:
                continue
        raise StoreError(f"The failed sign-ins of the site's admin could not be written to {self.where}: it kept "
                         "changing (other machines signing in at once)")


def erp_admin(state_dir, url, tenant, user, threshold, store=None):
    """The ERP admin's account; its record in `store` when that is a shared store."""
    site = f"{url} (tenant '{tenant}')"
    return Account(state_dir, ("erp", str(url).rstrip("/"), str(tenant), str(user)),
                   f"'{user}' on MYOB Acumatica {site}", threshold=threshold, window=ERP_WINDOW,
                   option="erp_admin_password", shared=store if store is not None and store.shared else None)


def ocerra_user(state_dir, url, username):
    return Account(state_dir, ("ocerra", str(url).rstrip("/"), str(username)), f"'{username}' on Ocerra {url}",
                   threshold=OCERRA_THRESHOLD, window=None, option="ocerra_password")
