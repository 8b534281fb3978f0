"""The sandbox clock: real time plus an offset that tests can advance."""
import threading
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self):
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> None:
        with self._lock:
            self._offset = when - datetime.now(timezone.utc)

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()
