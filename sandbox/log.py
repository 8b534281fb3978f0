"""Request log and counters shared by both fake servers. Nothing secret is ever stored."""
import threading
from collections import defaultdict

REDACTED = "***"
# Keys whose values are never logged, in any body, query or header (compared case-insensitively).
SECRET_KEYS = {"password", "newpassword", "confirmpassword", "authorization", "cookie",
               "set-cookie", "projectcontentbase64", "client_secret", "access_token",
               "refresh_token"}


def redact(value, secret_keys=SECRET_KEYS):
    """A copy of a JSON-like value with every secret key's value replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in secret_keys else redact(v, secret_keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret_keys) for v in value]
    return value


class RequestLog:
    """Append-only list of redacted requests plus per-key counters (site or client)."""

    def __init__(self, secret_keys=SECRET_KEYS):
        self._lock = threading.Lock()
        self._secret_keys = secret_keys
        self.clear()

    def clear(self):
        with self._lock:
            self.entries = []
            self._counters = defaultdict(lambda: defaultdict(int))
            self.in_flight = self.peak_in_flight = 0

    def enter(self):
        """A request started: the most answered at once is `peak_in_flight` (a client that
        overlaps its requests shows here, whatever the latency)."""
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self):
        with self._lock:
            self.in_flight = max(self.in_flight - 1, 0)

    def clear_entries(self):
        """Forget the logged requests but keep counting."""
        with self._lock:
            self.entries = []

    def add(self, entry: dict) -> None:
        with self._lock:
            self.entries.append(redact(entry, self._secret_keys))

    def count(self, key: str, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[key][name] += n

    def counters(self, key=None):
        with self._lock:
            if key is not None:
                return dict(self._counters.get(key, {}))
            return {k: dict(v) for k, v in self._counters.items()}

    def snapshot(self):
        with self._lock:
            return list(self.entries)
