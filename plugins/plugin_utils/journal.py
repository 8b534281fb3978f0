"""A site's journal and lock on the controller.

The state directory (the run knob `toolkit_state_dir`; by default
$XDG_STATE_HOME/ocerra-acumatica, else ~/.local/state/ocerra-acumatica) holds one folder per
site, named after its ERP URL, tenant and API user login, with two files:

  journal.json  the runs of this machine on the site (started, finished, how) and the last
                password change: each of its steps is written, and flushed to disk, before the
                step is taken, so a run that was killed leaves the step it was in;
  lock          held (flock) by the run changing the site's password: one change at a time
                per site from this machine; the kernel releases it when the process dies.

Nothing secret is written. A password appears only as a fingerprint (PBKDF2-HMAC-SHA256,
200,000 rounds, with the journal's own random salt), which tells a later run whether an
unfinished change was for the password it holds now. The services stay the truth: the
journal only says what was in flight, and a run without it (a fresh machine) converges from
what it reads.
"""
import fcntl
import hashlib
import json
import os
import re
import secrets
import socket
import time
from datetime import datetime, timezone

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_json

ROUNDS = 200_000
KEEP_RUNS = 20


def default_state_dir():
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "ocerra-acumatica")


def site_folder(state_dir, url, tenant, login):
    """The site's folder: readable, and unique for (URL, tenant, login) compared as the ERP does."""
    key = "|".join(str(v or "").strip().rstrip("/").casefold() for v in (url, tenant, login))
    host = re.sub(r"^[a-z]+://", "", key.split("|", maxsplit=1)[0])
    slug = re.sub(r"[^a-z0-9]+", "-", f"{host}-{tenant}-{login}".casefold()).strip("-")[:80]
    return os.path.join(state_dir, "sites", f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}")


def fingerprint(password, salt):
    """A password's salted PBKDF2 fingerprint (`salt`: hex): tells whether a later password is the
    same one without keeping it."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), ROUNDS).hex()


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Journal:
    """journal.json of one site; each change is written atomically (and synced when asked)."""

    def __init__(self, folder, site, *, flow):
        self.folder, self.path = folder, os.path.join(folder, "journal.json")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.data = self._load() or {"site": site, "salt": secrets.token_hex(16), "runs": [], "change": None}
        self.run = {"run": secrets.token_hex(6), "flow": flow, "controller": socket.gethostname(),
                    "pid": os.getpid(), "started": now(), "finished": None, "status": None}
        # What earlier runs left: read before this run writes anything. A run that has not
        # finished is either still going (its process lives, on this machine) or was killed.
        unfinished = [r for r in self.data["runs"] if not r.get("finished")]
        self.live_runs = [r for r in unfinished if _alive(r)]
        self.unfinished_runs = [r for r in unfinished if r not in self.live_runs]
        change = self.data.get("change")
        self.unfinished_change = change if change and not change.get("finished") else None

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("salt") else None

    def _save(self, durable=False):
        write_json(self.path, self.data, indent=1, durable=durable)

    def fingerprint(self, password):
        return fingerprint(password, self.data["salt"])

    # ---- runs ----------------------------------------------------------------------------------
    def run_started(self):
        self.data["runs"] = (self.data["runs"] + [self.run])[-KEEP_RUNS:]
        self._save()

    def run_finished(self, status):
        self.run.update(finished=now(), status=status)
        self._save()

    # ---- the password change -------------------------------------------------------------------
    def change_started(self, password, password_changed):
        self.data["change"] = {"run": self.run["run"], "started": now(), "fingerprint": self.fingerprint(password),
                               "password_changed_before": password_changed, "password_changed_after": None,
                               "steps": [], "finished": None, "status": None}
        self._save(durable=True)

    def step(self, name, event, **detail):
        """Record a writing step of this run (`event`: started, done, failed, interrupted): when
        the run was last at the services (an ERP session it leaves open is freed some minutes
        after), and, in the current change, where the change is."""
        at = now()
        self.run.update(last_step=f"{name} {event}", last_step_at=at)
        change = self.data.get("change")
        if change and change.get("run") == self.run["run"]:
            change["steps"].append({"step": name, "event": event, "at": at, **detail})
        self._save(durable=event == "started")

    def change_note(self, **fields):
        change = self.data.get("change")
        if change and change.get("run") == self.run["run"]:
            change.update(fields)
            self._save(durable=True)

    def change_finished(self, status):
        """Close the last change (this run's, or one an earlier run left that this one finished)."""
        change = self.data.get("change")
        if change and not change.get("finished"):
            change.update(finished=now(), status=status, finished_by=self.run["run"])
            self._save(durable=True)


class LockBusy(Exception):
    def __init__(self, holder, waited):
        super().__init__(holder)
        self.holder, self.waited = holder, waited


class SiteLock:
    """The site's lock file, held while this run changes the site's password."""

    def __init__(self, folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.path = os.path.join(folder, "lock")
        self.fd = None

    def busy(self):
        """Whether another process holds the lock now (it is changing the site)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)            # releases the probe's own flock, if it took one
        return False

    def acquire(self, wait, run, sleep=time.sleep):
        """Seconds waited; LockBusy (with the holder's run) when still held after `wait`."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited >= wait:
                    holder = os.pread(fd, 4096, 0).decode(errors="replace")
                    os.close(fd)
                    raise LockBusy(_parsed(holder), waited) from None
                sleep(0.25)
                waited += 0.25
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({**run, "locked": now()}).encode(), 0)
        self.fd = fd
        return waited

    def release(self):
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.close(self.fd)      # closing the descriptor releases the flock
            self.fd = None


def _alive(run):
    """Whether the run's process still lives (only known for runs of this machine)."""
    if run.get("controller") != socket.gethostname() or not run.get("pid"):
        return False
    try:
        os.kill(int(run["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:                    # a killed process nobody has reaped yet is a zombie, not a run
        with open(f"/proc/{int(run['pid'])}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _parsed(text):
    try:
        return json.loads(text)
    except ValueError:
        return {}
