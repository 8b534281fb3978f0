"""The run's private folder on the controller, shared by every worker of one ansible-playbook.

Ansible runs each task of each host in a worker process forked from ansible-playbook (the
controller). Workers of one run find the same folder by their parent's identity: its pid and
start time, so a later run that reuses the pid never takes an earlier run's folder. It is made
by the first worker that needs it (0700, checked to be this user's own), holds no secret (the
Ocerra listing of discovery.py: settings without passwords) and is removed by the run's report
at the end (site_report). Folders of runs that died (killed, a lost container) are removed at
the next run's start. Outside a worker (a module, a test) `path()` is None.
"""
import multiprocessing
import os
import re
import shutil
import stat
import tempfile

PREFIX = "ocerra-acumatica-run-"


def _start_time(pid):
    """The process's start time in clock ticks since boot (Linux), else ''."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _name(pid):
    return f"{PREFIX}{os.getuid()}-{pid}-{_start_time(pid)}"


def path():
    """The run's folder (created when missing), in a worker of ansible-playbook; else None, and
    None when a folder of that name exists but is not this user's private one."""
    if multiprocessing.parent_process() is None:
        return None
    folder = os.path.join(tempfile.gettempdir(), _name(os.getppid()))
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) != 0o700:
        return None
    return folder


def remove():
    """Remove this run's folder (the run's last task)."""
    if multiprocessing.parent_process() is not None:
        shutil.rmtree(os.path.join(tempfile.gettempdir(), _name(os.getppid())), ignore_errors=True)


def remove_stale():
    """Remove the folders of this user's runs whose controller is gone; the names removed."""
    removed = []
    pattern = re.compile(re.escape(f"{PREFIX}{os.getuid()}-") + r"(\d+)-(\d*)$")
    try:
        names = os.listdir(tempfile.gettempdir())
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and not _lives(int(match.group(1)), match.group(2)):
            shutil.rmtree(os.path.join(tempfile.gettempdir(), name), ignore_errors=True)
            removed.append(name)
    return removed


def _lives(pid, started):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _start_time(pid) == started
