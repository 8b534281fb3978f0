"""execution-environment.yml (ansible-builder 3) builds an EE with the collection as built and
its run-time dependencies: `ansible-builder create` renders the context (no container runtime
needed; ./run ee does it, tools/ee.py), and the introspection script that context runs at build time finds the collection's
declared Python requirements and nothing else."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.unit.test_packaging import requirements
from tools import ee

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """(work dir, rendered context): the EE file beside dist/ holding the collection as built,
    rendered the way ./run ee does (tools/ee.py)."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(ROOT / "execution-environment.yml", work)
    ee.build_collection(work / "dist")
    return work, ee.render(work / "execution-environment.yml", work / "context")


def test_the_ee_installs_the_collection_as_built_at_the_galaxy_version(context):
    work, ctx = context
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert ee.version() == version
    built = work / "dist" / f"ocerra-acumatica-{version}.tar.gz"
    shipped = ctx / "_build" / "src" / ee.TARBALL
    assert shipped.read_bytes() == built.read_bytes()
    with tarfile.open(shipped) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["version"] == version
    galaxy = yaml.safe_load((ctx / "_build" / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"src/{ee.TARBALL}", "type": "file"}]
    containerfile = (ctx / "Containerfile").read_text()
    assert "COPY _build /build" in containerfile and "ansible-galaxy collection install" in containerfile
    # The EE file names no version: galaxy.yml is the one place that does.
    assert version not in (ROOT / "execution-environment.yml").read_text().replace("2.19.14", "")


def test_a_context_without_the_collection_fails(tmp_path):
    shutil.copy(ROOT / "execution-environment.yml", tmp_path)
    with pytest.raises(SystemExit, match="has no ocerra-acumatica.tar.gz"):
        ee.render(tmp_path / "execution-environment.yml", tmp_path / "context")


def test_without_a_container_runtime_the_context_is_rendered_and_the_command_says_so(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "tools.ee", "--workdir", str(tmp_path / "work")], cwd=ROOT,
                          env=dict(os.environ, PATH=str(empty)), capture_output=True, text=True, timeout=300)
    assert done.returncode == ee.NO_RUNTIME, done.stdout + done.stderr
    assert "no container runtime answers here" in done.stderr and "docker build -f" in done.stderr
    assert (tmp_path / "work" / "context" / "_build" / "src" / ee.TARBALL).is_file()


def test_the_ee_pins_the_ansible_core_the_repository_tests(context):
    _, ctx = context
    pinned = requirements(ROOT / "requirements.txt")["ansible-core"]
    assert f'ANSIBLE_INSTALL_REFS="ansible-core{pinned.specifier} ansible-runner==' in (ctx / "Containerfile").read_text()


def test_introspection_finds_the_declared_runtime_requirements_and_no_test_tools(context, tmp_path):
    work, ctx = context
    tarball = work / "dist" / ee.TARBALL
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
