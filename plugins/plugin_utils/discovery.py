"""Every Ocerra entity a service user can see, with its MYOB Acumatica settings: listed once
per run and shared by every site that signs in with that service user.

A password change must reach every entity that uses the site's ERP URL, tenant and API user
login, listed in the inventory or not. Finding them costs a pass over all the service user's
entities (two requests for the list, one per entity), so the first site that needs it lists
them under a file lock in the run's directory (run_dir.py) and the others read that copy.
The copy holds settings without passwords (Ocerra never returns one).
"""
import fcntl
import hashlib
import json
import os

from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import find_connections
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import run_dir


def listing(client, warn=None):
    """(connections, unreadable) of every entity `client`'s service user can see, once per run."""
    folder = run_dir.path()
    if folder is None:
        return find_connections(client, {}, warn)
    key = hashlib.sha256(f"{client.http.base_url}|{client.username}".encode()).hexdigest()[:16]
    path = os.path.join(folder, f"ocerra-{key}.json")
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)     # one site lists, the others wait for its copy
        try:
            with open(path, encoding="utf-8") as handle:
                found = json.load(handle)
        except (OSError, ValueError):
            connections, unreadable = find_connections(client, {}, warn)
            found = {"connections": connections, "unreadable": unreadable}
            temporary = path + ".tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(found, handle)
            os.replace(temporary, path)
    finally:
        os.close(fd)
    return found["connections"], found["unreadable"]
