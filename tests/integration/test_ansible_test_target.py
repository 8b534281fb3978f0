"""The sandbox scenario as an ansible-test integration target (tests/integration/targets/
sandbox_scenario): run the standard way, `ansible-test integration sandbox_scenario --local`, from
a copy of the repository's files laid out as ansible-test wants (ansible_collections/ocerra/
acumatica). The target starts the sandbox itself on free loopback ports, provisions twice (the
second run changes nothing), plans (nothing pending) and reports."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.helpers import ROOT

pytestmark = pytest.mark.integration


def checkout(into):
    """The repository's files (tracked, and new ones git does not ignore) under `into`."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if os.path.lexists(source):
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name, follow_symlinks=False)
    return into


def test_the_sandbox_scenario_runs_under_ansible_test_integration(tmp_path):
    tree = checkout(tmp_path / "ansible_collections" / "ocerra" / "acumatica")
    bin_dir = Path(sys.executable).parent
    done = subprocess.run([str(bin_dir / "ansible-test"), "integration", "sandbox_scenario", "--local", "--color", "no"],
                          cwd=tree, env=dict(os.environ, PATH="%s%s%s" % (bin_dir, os.pathsep, os.environ["PATH"])),
                          capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    for step in ("first provision, every site changed", "second provision, every site ok",
                 "the plan changes nothing", "report, every site ok"):
        assert "ok: " + step in out, out[-4000:]
