"""requires_ansible is true: the lowest ansible-core meta/runtime.yml claims, installed into
its own virtual environment with only the collection's declared run-time requirements
(meta/requirements.txt, at the versions requirements.txt pins), builds the collection,
installs it into an empty project and runs its provision playbook (by its FQCN) over the
sandbox inventory: a fresh run, then a no-change run. The pinned ansible-core runs every
other test."""
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.integration.helpers import ROOT, SITES

pytestmark = pytest.mark.integration


def runtime_libraries():
    """What a consumer installs besides ansible-core: meta/requirements.txt's packages (and
    jinja2, which ansible-core brings), at the repository's pins."""
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "meta" / "requirements.txt").read_text().splitlines()]
    return {re.split(r"[<>=!~ ]", line, maxsplit=1)[0].lower() for line in lines if line} | {"jinja2"}


def lowest_claimed():
    claim = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    match = re.fullmatch(r">=\s*([0-9.]+)", claim.strip())
    assert match, f"requires_ansible {claim!r} is not a plain lower bound"
    return match.group(1)


def pins():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    wanted = runtime_libraries()
    return [line.strip() for line in lines if line.split("==")[0].strip().lower() in wanted]


def cores():
    """(ansible-core version, Python) pairs to test: the lowest claimed on this Python, and those
    OCERRA_MORE_CORES adds ("2.21.0=/path/to/python3.13,..."): PyPI serves the newest cores only to
    newer Pythons than CI has (README, Supported versions)."""
    more = [item.split("=", 1) for item in os.environ.get("OCERRA_MORE_CORES", "").split(",") if item.strip()]
    return [(lowest_claimed(), sys.executable)] + [(v.strip(), p.strip()) for v, p in more]


@pytest.fixture(scope="module", params=cores(), ids=lambda core: "ansible-core-%s" % core[0])
def lowest_ansible(request):
    """bin/ of a virtual environment with that ansible-core (kept between runs in
    .venv-ansible-<version>, which git ignores)."""
    version, python = request.param
    venv = ROOT / f".venv-ansible-{version}"
    stamp = venv / ".installed"
    wanted = "\n".join([f"ansible-core=={version}", *pins()])
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *wanted.splitlines()], check=True, timeout=600)
        stamp.write_text(wanted)
    done = subprocess.run([str(venv / "bin" / "ansible-playbook"), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert f"core {version}" in done.stdout, done.stdout
    return venv / "bin"


@pytest.fixture
def empty_project(tmp_path, lowest_ansible):
    """A consumer's empty project with only the collection as built installed into it (by the
    lowest claimed ansible-core's ansible-galaxy) and an ansible.cfg of its own: the sandbox's
    vault password and the advice the README gives (duplicate_dict_key = ignore)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "ansible.cfg").write_text(
        "[defaults]\ncollections_path = collections\nduplicate_dict_key = ignore\n"
        f"vault_identity_list = sandbox@{ROOT / 'inventories' / 'sandbox' / 'vault-password.txt'}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(project / "ansible.cfg"))
    subprocess.run([str(lowest_ansible / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                   cwd=project, env=env, check=True, capture_output=True, timeout=300)
    (tarball,) = tmp_path.glob("ocerra-acumatica-*.tar.gz")
    done = subprocess.run([str(lowest_ansible / "ansible-galaxy"), "collection", "install", str(tarball), "-p", "collections"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ocerra.acumatica" in done.stdout, done.stdout + done.stderr
    assert (project / "collections" / "ansible_collections" / "ocerra" / "acumatica" / "MANIFEST.json").is_file()
    return project


def test_the_built_collection_provisions_the_sandbox_from_an_empty_project_on_the_lowest_claimed_core(site, lowest_ansible,
                                                                                                    empty_project):
    first = site.play("ocerra.acumatica.provision", ansible_bin=lowest_ansible, project=empty_project)
    assert first.rc == 0, first
    assert "ocerra.acumatica.provision" in first.args[0]
    assert first.statuses() == dict.fromkeys(SITES, "changed")
    assert all(s["status"]["code"] == "Connected" for s in site.connections().values())
    before = site.writes()
    again = site.play("ocerra.acumatica.provision", ansible_bin=lowest_ansible, project=empty_project)
    assert again.rc == 0, again
    assert again.statuses() == dict.fromkeys(SITES, "ok") and site.writes() == before


def test_the_pinned_ansible_core_is_within_the_claim():
    pinned = next(line.split("==")[1] for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("ansible-core=="))
    assert tuple(map(int, pinned.split("."))) >= tuple(map(int, lowest_claimed().split(".")))
