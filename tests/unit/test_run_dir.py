"""The run's private folder (plugins/plugin_utils/run_dir.py): found by every worker of one
ansible-playbook through its parent's identity, private to this user, removed at the end of the
run, and left-overs of dead runs removed at the next run's start."""
import os
import subprocess
import sys

import pytest

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import run_dir


@pytest.fixture
def worker(tmp_path, monkeypatch):
    """This process as a worker of a controller whose pid is this process's parent."""
    monkeypatch.setattr(run_dir.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(run_dir.multiprocessing, "parent_process", lambda: object())
    return tmp_path


def test_every_worker_of_a_run_finds_the_same_private_folder(worker):
    folder = run_dir.path()
    assert folder and os.path.isdir(folder) and os.path.dirname(folder) == str(worker)
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert run_dir.path() == folder
    assert str(os.getppid()) in os.path.basename(folder)


def test_a_folder_someone_else_prepared_is_not_used(worker):
    folder = run_dir.path()
    os.chmod(folder, 0o755)
    assert run_dir.path() is None


def test_outside_a_worker_there_is_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(run_dir.tempfile, "gettempdir", lambda: str(tmp_path))
    assert run_dir.path() is None and list(tmp_path.iterdir()) == []


def test_the_run_removes_its_folder_and_the_next_removes_those_of_dead_runs(worker):
    mine = run_dir.path()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = worker / f"{run_dir.PREFIX}{os.getuid()}-{dead}-12345"
    reused = worker / f"{run_dir.PREFIX}{os.getuid()}-{os.getpid()}-1"      # a live pid, another start time
    other = worker / "unrelated"
    for folder in (stale, reused, other):
        folder.mkdir()
    removed = run_dir.remove_stale()
    assert sorted(removed) == sorted([stale.name, reused.name])
    assert os.path.isdir(mine) and other.is_dir() and not stale.exists() and not reused.exists()
    run_dir.remove()
    assert not os.path.exists(mine)
