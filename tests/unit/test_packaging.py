"""What a consumer of the built collection gets: its run-time Python requirements declared
(apart from the repository's pins, and in step with them), every third-party import covered,
a missing library said with Ansible's missing_required_lib, and a build that ships the licence
and the execution-environment metadata but none of the repository's own tooling."""
import ast
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# import name -> the distribution that provides it
PROVIDERS = {"requests": "requests", "urllib3": "requests", "jsonschema": "jsonschema", "yaml": "pyyaml",
             "hvac": "hvac", "boto3": "boto3", "botocore": "boto3"}
BUILT_IN = {"ansible", "ansible_collections", "jinja2", "cryptography"}    # both come with ansible-core


def requirements(path):
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return {Requirement(line).name.lower(): Requirement(line) for line in lines if line}


def test_runtime_requirements_are_pinned_in_step_in_the_repository():
    runtime, pinned = requirements(ROOT / "meta" / "requirements.txt"), requirements(ROOT / "requirements.txt")
    assert set(runtime) == {"requests", "jsonschema", "pyyaml", "hvac", "boto3"}
    for name, wanted in runtime.items():
        pin = next(iter(pinned[name].specifier))
        assert pin.operator == "==" and wanted.specifier.contains(pin.version), (name, pin, wanted)
    assert not {"pytest", "flask", "trustme"} & set(runtime)       # no test tools for consumers


def test_every_third_party_import_of_the_plugins_is_declared():
    declared = set(requirements(ROOT / "meta" / "requirements.txt"))
    found = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    third_party = found - set(sys.stdlib_module_names) - BUILT_IN - {"__future__"}
    assert third_party and third_party <= set(PROVIDERS), third_party - set(PROVIDERS)
    assert {PROVIDERS[name] for name in third_party} <= declared


def test_the_execution_environment_metadata_names_the_runtime_files():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 1
    for key in ("python", "system"):
        assert (ROOT / meta["dependencies"][key]).is_file()


def test_a_module_without_requests_fails_with_ansible_s_missing_library_message():
    script = """
import io, json, sys, contextlib
sys.modules["requests"] = None
sys.modules["urllib3"] = None
sys.path.insert(0, %r)
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ocerra.acumatica.plugins.modules import erp_user_info
out = io.StringIO()
with patch_module_args({"url": "https://acme.example", "tenant": "Company", "admin_user": "admin",
                        "admin_password": "Secret-Password-123x"}), contextlib.redirect_stdout(out):
    try:
        erp_user_info.main()
    except SystemExit:
        pass
print(out.getvalue())
""" % str(ROOT / "collections")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] and "Failed to import the required Python library (requests)" in result["msg"]
    assert "Secret-Password-123x" not in done.stdout + done.stderr


def test_the_built_collection_ships_the_licence_and_metadata_and_no_repository_tooling(tmp_path):
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "build", "--output-path",
                           str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (tarball,) = tmp_path.glob("ocerra-acumatica-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert {"LICENSE", "meta/execution-environment.yml", "meta/requirements.txt", "meta/bindep.txt",
            "meta/runtime.yml", "customization/UserAdmin/project.xml",
            "customization/UserAdminMyob/project.xml"} <= names
    assert {"CHANGELOG.md", "changelogs/changelog.yaml", "tests/sanity/ignore-2.19.txt"} <= names
    for repository_only in ("ansible.cfg", "run", "pytest.ini", "requirements.txt", ".gitignore", "pyproject.toml",
                            ".ansible-lint", "execution-environment.yml", "changelogs/.plugin-cache.yaml"):
        assert repository_only not in names
    assert not any(n.split("/")[0] in {"sandbox", "bench", "tools", "inventories", "out", "dist"} for n in names)
    assert not any(n.startswith(".") for n in names)     # no virtualenv, cache or lint scratch
    # Of the tests, only ansible-test's settings and ignore files ship, one per supported core
    # (consumers run sanity on what they got).
    assert {n for n in names if n.startswith("tests/") and "." in n.rsplit("/", 1)[-1]} == {
        "tests/config.yml", *("tests/sanity/ignore-2.%d.txt" % minor for minor in range(16, 22))}
