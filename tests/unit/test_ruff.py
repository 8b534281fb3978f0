"""The repository's own Python is clean under ruff as pyproject.toml configures it (the same
check `./run lint` runs)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_repository_is_clean_under_ruff():
    done = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
