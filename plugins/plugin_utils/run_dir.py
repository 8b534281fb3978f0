"""The run's private directory on the controller, shared by every worker of the run.

Created when the controller loads one of the collection's actions (before any worker forks, so
every worker of the run inherits the same path), private (mkdtemp, 0700) and removed when the
controller exits (a controller killed by a signal leaves it in the temporary folder; it holds
no secret in the clear). Workers keep there what the whole run shares, e.g. the list of
Ocerra's entities (discovery.py) and the vaulted values validation decrypted, sealed with the
run's key (decrypted.py). In a process that did not inherit it, `path()` is None.

The run's key: 32 random bytes made with the directory, only ever in the memory of the
controller and the workers it forks.
"""
import atexit
import multiprocessing
import os
import shutil
import tempfile

_DIRECTORY = None
_KEY = None


def start():
    """Create the run's directory and key; only in the controller (the main process)."""
    global _DIRECTORY, _KEY
    if _DIRECTORY is None and multiprocessing.parent_process() is None:
        _DIRECTORY = tempfile.mkdtemp(prefix="ocerra-acumatica-run-")
        _KEY = os.urandom(32)
        atexit.register(shutil.rmtree, _DIRECTORY, True)


def key():
    """The run's key (with path(): in a worker of the run)."""
    return _KEY


def path():
    """The directory, in a worker forked from the controller that created it; else None."""
    return _DIRECTORY if _DIRECTORY is not None and multiprocessing.parent_process() is not None else None
