"""The in-process runner behaves like Ansible's normal module execution."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAY = """
- hosts: site
  gather_facts: false
  tasks:
    - ocerra.acumatica.erp_user_info:
        url: "{url}/acme"
        tenant: Company
        admin_user: admin
        admin_password: "{password}"
        login: OcerraAPI
        validate_certs: false
      register: info
    - ansible.builtin.copy:
        content: "{{{{ info | to_json }}}}"
        dest: "{out}"
"""


@pytest.fixture
def seed(default_seed):
    data = yaml.safe_load(default_seed.read_text())
    for instance in data["acumatica"]["instances"]:
        for tenant in instance["tenants"]:
            tenant["user_endpoint_installed"] = True
    return data


def _seeded_admin_password(instance):
    seed = yaml.safe_load((ROOT / "sandbox" / "seeds" / "default.yml").read_text())
    site = next(i for i in seed["acumatica"]["instances"] if i["name"] == instance)
    return next(u["password"] for u in site["tenants"][0]["users"] if u["username"] == "admin")


def _run(tmp_path, sandbox, inprocess):
    admin_password = _seeded_admin_password("acme")
    out = tmp_path / f"result-{inprocess}.json"
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(url=sandbox.acumatica_url, password=admin_password, out=out))
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    site:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: " + sys.executable + "\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
         str(play), "-vvv", "-e", f"toolkit_inprocess={inprocess}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout + done.stderr, admin_password


def test_same_result_in_process_and_as_a_module_process(tmp_path, sandbox):
    inproc, inproc_out, secret = _run(tmp_path, sandbox, "true")
    classic, classic_out, _ = _run(tmp_path, sandbox, "false")
    assert "AnsiballZ_erp_user_info" not in inproc_out  # no module process was packed
    assert "AnsiballZ_erp_user_info" in classic_out
    for result in (inproc, classic):
        assert result["user"]["exists"] is False
        assert any("verification is off" in w for w in result["warnings"])
    assert {k: v for k, v in inproc.items() if k != "invocation"} == \
        {k: v for k, v in classic.items() if k != "invocation"}
    assert secret not in inproc_out and secret not in classic_out
    counters = sandbox.erp.counters()["acme/Company"]
    assert counters["signins"] == counters["signouts"] == 2
