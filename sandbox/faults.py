"""Fault injection shared by both fake servers.

A fault matches requests by method and path regex and fires `count` times (None = until
cleared). Kinds: `latency` (sleep `seconds` then answer normally), `status` (answer
`status` with `body`), `throttle` (429, optional `Retry-After`), `drop` (close the
connection without an answer). With `after: true` a `status` or `drop` fault fires once the
request has been handled: the change is made, its answer lost or replaced (what a proxy or a
dropped connection does to a save that went through).
"""
import re
import threading
import time

KINDS = {"latency", "status", "throttle", "drop"}


class DropConnection(Exception):
    """Raised by a route wrapper to make the server close the socket without answering."""


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, kind, path=".*", method=None, count=1, **params):
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        with self._lock:
            self._faults.append({"kind": kind, "path": re.compile(path), "method": method,
                                 "count": count, **params})

    def clear(self):
        with self._lock:
            self._faults = []

    def take(self, method, path):
        """The first armed fault matching this request, consumed once; or None."""
        with self._lock:
            for fault in self._faults:
                if fault["method"] and fault["method"].upper() != method.upper():
                    continue
                if not fault["path"].search(path):
                    continue
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None

    @staticmethod
    def sleep_if_latency(fault):
        if fault and fault["kind"] == "latency":
            time.sleep(float(fault.get("seconds", 1)))
            return None
        return fault

    def describe(self):
        with self._lock:
            return [{**f, "path": f["path"].pattern} for f in self._faults]
