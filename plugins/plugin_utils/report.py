"""The run's report: each site's entry kept as the site finishes, then the JSON report.

A registered result stays in the controller's memory, per host, until the play ends; one
report entry (about 10 KB of Python objects) per site would make a run's peak memory grow
with the number of sites beyond Ansible's own. So the site action writes its site's entry to
a file in a directory the controller creates when it loads the collection's site action
(before any worker forks, so every worker of the run inherits the same directory), and the
summary reads them back. The directory is private (mkdtemp, 0700) and removed when the
controller exits (a controller killed by a signal leaves it in the temporary folder; it holds
no secret). In a process that did not inherit it (an action loaded only in a worker),
`available()` is false and the entry stays in the site task's result.
"""
import atexit
import json
import multiprocessing
import os
import shutil
import tempfile
from datetime import datetime, timezone
from urllib.parse import quote

_DIRECTORY = None
STOPPED = {"status": "failed", "reason": "The run stopped for this site before its outcome was recorded; "
                     "see the task that failed above.", "erp": {}, "entities": {}}


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


def keep(host, entry):
    """Keep a finished site's entry for the summary."""
    temporary = _path(host) + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(entry, handle)
    os.replace(temporary, _path(host))


def kept(host):
    """The host's entry, or None when this run kept none."""
    if _DIRECTORY is None:
        return None
    try:
        with open(_path(host), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def build(entries, playbook, check_mode):
    """The report: {"sites": {host: entry}, "generated", "playbook", "check_mode"}; a host
    without an entry (it stopped before its outcome) is failed."""
    sites = {str(host): entry if isinstance(entry, dict) and entry.get("status") else dict(STOPPED)
             for host, entry in entries.items()}
    return {"sites": sites, "generated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "playbook": playbook, "check_mode": bool(check_mode)}


def write(path, report):
    """Write the report atomically (temporary file, fsync, rename); True when it changed."""
    text = json.dumps(report, indent=2) + "\n"
    try:
        with open(path, encoding="utf-8") as current:
            if current.read() == text:
                return False
    except OSError:
        pass
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".report-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return True
