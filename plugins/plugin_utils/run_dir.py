"""The run's private directory on the controller, shared by every worker of the run.

Created when the controller loads the collection's site action (before any worker forks, so
every worker of the run inherits the same path), private (mkdtemp, 0700) and removed when the
controller exits (a controller killed by a signal leaves it in the temporary folder; it holds
no secret). Workers keep there what the whole run shares, e.g. the list of Ocerra's entities
(discovery.py). In a process that did not inherit it, `path()` is None.
"""
import atexit
import multiprocessing
import shutil
import tempfile

_DIRECTORY = None


def start():
    """Create the run's directory; only in the controller (the main process)."""
    global _DIRECTORY
    if _DIRECTORY is None and multiprocessing.parent_process() is None:
        _DIRECTORY = tempfile.mkdtemp(prefix="ocerra-acumatica-run-")
        atexit.register(shutil.rmtree, _DIRECTORY, True)


def path():
    """The directory, in a worker forked from the controller that created it; else None."""
    return _DIRECTORY if _DIRECTORY is not None and multiprocessing.parent_process() is not None else None
