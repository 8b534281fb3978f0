"""execution-environment.yml (ansible-builder 3) builds an EE with the collection as built and
its run-time dependencies: `ansible-builder create` renders the context (no container runtime
needed), and the introspection script that context runs at build time finds the collection's
declared Python requirements and nothing else."""
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.unit.test_packaging import requirements

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """(work dir, rendered context): the EE file beside dist/ holding the collection as built."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(ROOT / "execution-environment.yml", work)
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", work / "dist", ROOT],
                   check=True, capture_output=True, timeout=300)
    done = subprocess.run([BIN / "ansible-builder", "create", "-f", work / "execution-environment.yml",
                           "-c", work / "context", "--output-filename", "Containerfile"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr
    return work, work / "context"


def test_the_ee_installs_the_collection_as_built_at_the_galaxy_version(context):
    work, ctx = context
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    (tarball,) = (work / "dist").glob("*.tar.gz")
    assert tarball.name == f"ocerra-acumatica-{version}.tar.gz"
    shipped = ctx / "_build" / "src" / tarball.name
    assert shipped.read_bytes() == tarball.read_bytes()
    galaxy = yaml.safe_load((ctx / "_build" / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"src/{tarball.name}", "type": "file"}]
    containerfile = (ctx / "Containerfile").read_text()
    assert "COPY _build /build" in containerfile and "ansible-galaxy collection install" in containerfile


def test_the_ee_pins_the_ansible_core_the_repository_tests(context):
    _, ctx = context
    pinned = requirements(ROOT / "requirements.txt")["ansible-core"]
    assert f'ANSIBLE_INSTALL_REFS="ansible-core{pinned.specifier} ansible-runner==' in (ctx / "Containerfile").read_text()


def test_introspection_finds_the_declared_runtime_requirements_and_no_test_tools(context, tmp_path):
    work, ctx = context
    (tarball,) = (work / "dist").glob("*.tar.gz")
    installed = tmp_path / "ansible_collections" / "ocerra" / "acumatica"
    installed.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(installed, filter="data")
    done = subprocess.run([sys.executable, ctx / "_build" / "scripts" / "introspect.py", "introspect", tmp_path],
                          capture_output=True, text=True, timeout=120, check=True)
    found = yaml.safe_load(done.stdout)
    python = {line.split("#")[0].strip() for line in found["python"]}
    declared = {str(r) for name, r in requirements(ROOT / "meta" / "requirements.txt").items()
                if name != "pyyaml"}     # ansible-core brings PyYAML; introspection leaves it out
    assert python == declared and found["system"] == []
