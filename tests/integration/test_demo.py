"""The README's first quick-start command, `./run demo`, as a user runs it: both provision runs,
the no-change check and the sessions check must pass (it binds the sandbox's fixed ports
8601/8602, which the sandbox inventory names)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_the_demo_passes():
    done = subprocess.run([sys.executable, "-m", "tools.demo"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the second run sent 0." in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
