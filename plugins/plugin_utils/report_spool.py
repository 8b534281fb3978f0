"""Where a run keeps the report entries of the sites that site_ensure finished, until the
run's report is written.

A registered result stays in the controller's memory, per host, until the play ends: one
report entry (about 10 KB of Python objects) per site made a no-change run's peak memory
grow with the number of sites beyond Ansible's own. Instead, site_ensure writes the entry
of a site with nothing left to do to a file in a directory the controller creates when it
loads the collection's action plugins (before any worker forks, so every worker of the run
inherits the same directory), and the report reads it back. The directory is private
(mkdtemp, 0700) and removed when the controller exits (a controller killed by a signal
leaves it in the temporary folder; it holds no secret). In a process that did not inherit it
(an action loaded only in a worker), `available()` is false and the entry stays in the
registered result.
"""
import atexit
import json
import multiprocessing
import os
import shutil
import tempfile
from urllib.parse import quote

_DIRECTORY = None


def start():
    """Create the run's directory; only in the controller (the main process)."""
    global _DIRECTORY
    if _DIRECTORY is None and multiprocessing.parent_process() is None:
        _DIRECTORY = tempfile.mkdtemp(prefix="ocerra-acumatica-report-")
        atexit.register(shutil.rmtree, _DIRECTORY, True)


def available():
    """True in a worker forked from the controller that created the directory."""
    return _DIRECTORY is not None and multiprocessing.parent_process() is not None


def _path(host):
    return os.path.join(_DIRECTORY, quote(str(host), safe="") + ".json")


def write(host, entry):
    temporary = _path(host) + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(entry, handle)
    os.replace(temporary, _path(host))


def read(host):
    """The host's entry, or None when this run wrote none."""
    if _DIRECTORY is None:
        return None
    try:
        with open(_path(host), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
