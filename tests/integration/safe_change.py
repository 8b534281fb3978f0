"""Helpers of the safe-change tests: a sandbox already provisioned with a known password, what
the fakes hold (read from their models, so checking costs no sign-in), and a hook that kills
a run's whole process tree (ansible-playbook and its workers, which call setsid) at a chosen
request."""
from __future__ import annotations

import copy
import os
import signal
import threading
import time
from pathlib import Path

from sandbox.acumatica import security
from sandbox.faults import DropConnection
from tests.integration.conftest import default_seed_dict
from tests.integration.helpers import API_LOGIN, ENTITIES, INSTANCE_TENANT

ROLES = ["AP Clerk", "AR Clerk", "CA Clerk", "GL Clerk", "TX Viewer", "FA Clerk", "DR Viewer"]
FULL_API = "Full User (Full API)"


def provisioned_seed(site, max_api_users=3, admin_sessions=None):
    """The default seed as after a good first run: the endpoint published, OcerraAPI with the
    inventory's password on every site, and every entity connected with it. `admin_sessions`:
    the admin's maximum concurrent logins (MYOB's default is 1, Acumatica's 3)."""
    seed = copy.deepcopy(default_seed_dict())
    for instance in seed["acumatica"]["instances"]:
        instance["licence"]["max_api_users"] = max_api_users
        host = instance["name"]
        for tenant in instance["tenants"]:
            tenant["user_endpoint_installed"] = True
            if admin_sessions:
                tenant["users"][0]["allowed_sessions"] = admin_sessions
            tenant["users"].append({
                "username": API_LOGIN, "password": site.variables(host)["api_user_password"],
                "email": f"ocerraapi+{host}@partner.example.com", "first_name": "Ocerra", "last_name": "API",
                "user_type": "API User", "roles": list(ROLES), "licence_types": [FULL_API],
                "password_never_expires": True})
    by_client = {c: h for h, clients in ENTITIES.items() for c in clients}
    for client in seed["ocerra"]["clients"]:
        host = by_client[client["id"]]
        client["settings"].update(login=API_LOGIN, password=site.variables(host)["api_user_password"],
                                  enableConnection=True)
    return seed


class Fakes:
    """What the fake ERP and the fake Ocerra hold for a site, from their models."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def _user(self, host):
        instance, tenant = INSTANCE_TENANT[host].split("/")
        return self.sandbox.erp._tenant(instance, tenant).users[API_LOGIN.casefold()]

    def erp_accepts(self, host, password):
        return security.verify_password(password, self._user(host).password_hash)

    def locked(self, host):
        instance, tenant = INSTANCE_TENANT[host].split("/")
        sec = self.sandbox.erp._tenant(instance, tenant).security
        return security.is_locked(self._user(host), sec, self.sandbox.clock.now())

    def entity(self, client):
        return self.sandbox.ocerra._clients[client].settings

    def in_order(self, host, password):
        """The ERP and every entity of the site on `password`, all enabled and Connected."""
        return self.erp_accepts(host, password) and not self.locked(host) and all(
            self.entity(c).password == password and self.entity(c).enableConnection
            and self.entity(c).status["code"] == "Connected" for c in ENTITIES[host])

    def enabled_with_other_password(self, host):
        """Entities switched on with a password the ERP does not accept."""
        return [c for c in ENTITIES[host] if self.entity(c).enableConnection
                and not self.erp_accepts(host, self.entity(c).password)]


def descendants(pid):
    """Every process whose parent chain leads to `pid` (Ansible's workers call setsid, so
    neither the process group nor the session finds them)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid):
    """SIGKILL `pid` and all its descendants, and wait until none is left."""
    for target in [pid] + descendants(pid):
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and
                                               "Z" not in _state(p) for p in [pid] + descendants(pid)):
        time.sleep(0.05)


def _state(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


class Killer:
    """Kills the armed run's process tree when the `nth` call of a model method matching
    `match` arrives: `before` the fake acts on it (the request is dropped) or `after` (the
    change is made, its answer never read)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.started = None
        self.fired = threading.Event()

    def arm(self, owner, method, match, when, nth=1):
        original = getattr(owner, method)
        seen = []
        lock = threading.Lock()

        def hooked(*args, **kwargs):
            with lock:
                hit = not self.fired.is_set() and match(*args, **kwargs)
                if hit:
                    seen.append(1)
                fire = hit and len(seen) == nth
                if fire:
                    self.fired.set()
            if fire and when == "before":
                kill_tree(self.started.proc.pid)
                raise DropConnection()
            result = original(*args, **kwargs)
            if fire:
                kill_tree(self.started.proc.pid)
            return result

        self.monkeypatch.setattr(owner, method, hooked)
