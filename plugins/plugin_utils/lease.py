"""The lease on a site's password change, kept in a shared store (one every controller reads).

Before a change a run takes the lease (a compare-and-set write naming the run and when the lease
expires), renews it at each writing step with the change as its journal has it (the step
reached, when, the fingerprint of its password: nothing secret), and releases it at the end,
keeping an unfinished change in it. So one change at a time holds across machines, and a run
on any machine knows what a crashed run on another left half-done: the pending password is in
the store beside it, and the services are read again as always.

A lease whose holder stopped renewing (killed, its node gone) expires after `seconds`; the
controllers' clocks are compared, so they must be in time (NTP), as every lease needs.
"""
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import LEASE, Conflict, StoreError


class LeaseBusy(Exception):
    def __init__(self, holder, expires, waited):
        super().__init__(holder)
        self.holder, self.expires, self.waited = holder, expires, waited


class LeaseLost(StoreError):
    kind = "concurrent_change"


def _now():
    return datetime.now(timezone.utc)


def _text(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _live(document, now):
    holder = (document or {}).get("holder")
    if not holder:
        return False
    try:
        expires = datetime.strptime(document.get("expires") or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    return expires > now


class Lease:
    def __init__(self, store, holder, seconds):
        self.store, self.holder, self.seconds = store, holder, seconds
        self.version = None             # set while this run holds the lease
        self.change = None              # the unfinished change the lease keeps
        self.left = None, None          # what another run left in it (see take)

    def peek(self):
        """Read what another run left in the lease (`left`) without taking it."""
        self.left = self._left(self.store.read_record(LEASE)[0])

    def take(self, change, wait=0, sleep=time.sleep):
        """Hold the lease, waiting up to `wait` seconds for a live one of another run
        (LeaseBusy after). `change`: the change to keep in it (None keeps the one there). The
        holder this run waited for, or None; `left` says what another run left in the lease."""
        deadline = time.monotonic() + wait
        waited_for = None
        for _attempt in range(int(wait / 2) + 5):     # bounded: a read and a write per attempt
            document, version = self.store.read_record(LEASE)
            if not _live(document, _now()) or document["holder"].get("run") == self.holder["run"]:
                self.change = change if change is not None else (document or {}).get("change")
                self.left = self._left(document)
                try:
                    self.version = self.store.write_record(LEASE, self._document(), version)
                    return waited_for
                except Conflict:
                    continue                # another run took it first: read it again
            waited_for = document["holder"]
            if time.monotonic() >= deadline:
                break
            sleep(min(2.0, max(deadline - time.monotonic(), 0.1)))
        holder = (document or {}).get("holder") or {}
        raise LeaseBusy(holder, (document or {}).get("expires"), wait)

    def renew(self, change):
        """Extend the lease; `change` (None: the one it keeps) is the change in flight."""
        if self.version is None:
            return
        self.change = change if change is not None else self.change
        try:
            self.version = self.store.write_record(LEASE, self._document(), self.version)
        except Conflict:
            self.version = None
            raise LeaseLost(f"This run lost the site's lease in {self.store.where} (it expired and another run "
                            "took it): it stops before its next write, so two runs never change the password "
                            "at once. Run again once the other has finished.") from None

    def release(self, change):
        """Let go; the change in flight (`change`, else the one the lease kept) stays in it for the
        next run on any machine (which ignores it once finished)."""
        if self.version is None:
            return
        try:
            self.store.write_record(LEASE, {"holder": None, "expires": None, "released": _text(_now()),
                                    "change": change if change is not None else self.change}, self.version)
        finally:
            self.version = None

    def _left(self, document):
        """(the unfinished change another run left, that run's holder entry when it is gone:
        expired without release)."""
        document = document or {}
        change = document.get("change")
        if change and (change.get("finished") or change.get("run") == self.holder["run"]):
            change = None
        gone = document.get("holder") if document.get("holder") and not _live(document, _now()) else None
        return change, gone

    def _document(self):
        return {"holder": self.holder, "expires": _text(_now() + timedelta(seconds=self.seconds)),
                "change": self.change}
