"""Every Ocerra entity a service user can see, with its MYOB Acumatica settings: listed once
per run and shared by every site that signs in with that service user.

A password change must reach every entity that uses the site's ERP URL, tenant and API user
login, listed in the inventory or not, and a no-change run decides from the entities' settings
and statuses. The first site that needs them lists them all (two requests for the list, one
per entity) under a file lock in the run's directory (run_dir.py); the others read that copy,
indexed so that a site reads only its own entities: one small file per entity, one per
(ERP URL, tenant, login), and one of names. The copy holds settings without passwords
(Ocerra never returns one). Outside a run (no run directory) the index is kept in memory.
"""
import fcntl
import hashlib
import json
import os

from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import find_connections, site_key
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import run_dir
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_json


def _digest(text):
    return hashlib.sha256(str(text).encode()).hexdigest()[:24]


class Listing:
    """The entities one service user sees, by client id, by name and by (URL, tenant, login)."""

    def __init__(self, files):
        self._files = files         # a folder, or a dict standing in for one

    @classmethod
    def build(cls, connections, files, selection="auto"):
        """Index `connections` into `files` (a folder or a dict); the Listing over them, with
        how Ocerra turned out to select a client (`selection`, as the listing found it)."""
        _put(files, "selection", selection)
        groups, names = {}, {}
        for c in connections:
            _put(files, f"client-{_digest(str(c['client_id']).lower())}", c)
            groups.setdefault(_digest(site_key(c)), []).append(c["client_id"])
            names.setdefault(str(c.get("client_name") or "").strip().casefold(), c["client_id"])
        for key, ids in groups.items():
            _put(files, f"site-{key}", ids)
        _put(files, "names", names)
        return cls(files)

    @property
    def selection(self):
        return _get(self._files, "selection") or "auto"

    def client(self, client_id):
        return _get(self._files, f"client-{_digest(str(client_id).lower())}")

    def named(self, name):
        client_id = (_get(self._files, "names") or {}).get(str(name).strip().casefold())
        return self.client(client_id) if client_id else None

    def using(self, url, tenant, login):
        """The entities whose settings use this ERP URL, tenant and login (as the ERP compares)."""
        key = site_key({"erp_url": url, "tenant": tenant, "login": login})
        return [self.client(i) for i in _get(self._files, f"site-{_digest(key)}") or []]


def _put(files, name, data):
    if isinstance(files, dict):
        files[name] = data
        return
    write_json(os.path.join(files, name + ".json"), data)


def _get(files, name):
    if isinstance(files, dict):
        return files.get(name)
    try:
        with open(os.path.join(files, name + ".json"), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def _folder(client):
    folder = run_dir.path()
    return folder and os.path.join(folder, "ocerra-" + _digest(f"{client.http.base_url}|{client.username}"))


def made(client):
    """Whether this run's Listing for `client`'s service user is already there to read."""
    folder = _folder(client)
    return bool(folder) and os.path.exists(os.path.join(folder, "names.json"))


def listing(client, warn=None):
    """The Listing of what `client`'s service user sees, made once per run."""
    folder = _folder(client)
    if folder is None:
        return Listing.build(find_connections(client, {}, warn)[0], {}, client.selection)
    os.makedirs(folder, exist_ok=True)
    fd = os.open(folder + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)     # one site lists, the others wait for its copy
        if not os.path.exists(os.path.join(folder, "names.json")):
            Listing.build(find_connections(client, {}, warn)[0], folder, client.selection)
    finally:
        os.close(fd)
    return Listing(folder)
