"""Real ansible-playbook runs of the Ocerra modules against the in-process sandbox."""
import json
import re
import sys

import pytest
import yaml

from tests.integration.helpers import ansible_playbook
from tests.modules.erp_support import API_PW, NEW_PW, leaked_forms
from tests.modules.ocerra_support import LIVE, NEW, SECRETS, SHARED, SVC, SVC_PW, oc  # noqa: F401

pytestmark = pytest.mark.integration
WRONG_PW = "Cnry-Wrong-Pw-5Hq!zN81t"

PLAYBOOK = """
- hosts: acme
  gather_facts: false
  module_defaults:
    group/ocerra.acumatica.ocerra:
      ocerra_url: "{{ ocerra_url }}"
      ocerra_username: "{{ ocerra_username }}"
      ocerra_password: "{{ ocerra_password }}"
  tasks:
    - name: Find the entities that use the site's API user
      ocerra.acumatica.ocerra_connection_info:
        erp_url: "{{ erp_url }}"
        login: OcerraAPI
      register: found

    - name: Connect each of them with the API user's password
      ocerra.acumatica.ocerra_connection:
        client_id: "{{ item.client_id }}"
        erp_url: "{{ erp_url }}"
        tenant: Company
        login: OcerraAPI
        password: "{{ api_password }}"
        push_password: "{{ push_password }}"
        status_retry_delay: 0
      loop: "{{ found.connections | selectattr('client_id', 'in', targets) }}"
      loop_control:
        label: "{{ item.client_name }}"

    - name: Connect the new entity
      ocerra.acumatica.ocerra_connection:
        client_name: Acme New
        erp_url: "{{ erp_url }}"
        tenant: Company
        login: OcerraAPI
        password: "{{ api_password }}"
      when: connect_new
"""


def play(oc, tmp_path, *flags, api_password=API_PW, push=False, targets=SHARED, connect_new=True,
         inprocess=True):
    """Run the playbook; (rc, stdout + stderr + log file, PLAY RECAP counts of host acme)."""
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "toolkit_inprocess": inprocess, "ocerra_url": oc.sandbox.ocerra_url,
            "ocerra_username": SVC, "ocerra_password": SVC_PW,
            "erp_url": f"{oc.sandbox.acumatica_url}/acme", "api_password": api_password,
            "push_password": push, "targets": list(targets), "connect_new": connect_new}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"acme": host}}}))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    done, output = ansible_playbook(tmp_path, "play.yml", *flags)
    recap = re.search(r"acme\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", done.stdout)
    assert recap, output
    counts = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups())))
    return done.returncode, output, counts


def ocerra_writes(oc):
    return sum(c.get("writes", 0) for c in oc.sandbox.ocerra.counters().values())


def assert_no_leak(output, *secrets):
    for secret in (*SECRETS, *secrets):
        for form in leaked_forms(secret):
            assert form not in output, "a secret leaked into the playbook output"


def test_connects_then_changes_nothing_and_check_mode_writes_nothing(oc, tmp_path):
    rc, output, counts = play(oc, tmp_path, "--diff")
    assert rc == 0 and counts["changed"] == 1 and counts["failed"] == 0, output
    assert oc.settings(NEW)["status"]["code"] == "Connected"
    writes = ocerra_writes(oc)
    rc, output, counts = play(oc, tmp_path, "--check", "--diff", "-vvvv", push=True)
    assert rc == 0 and counts["changed"] == 1 and ocerra_writes(oc) == writes, output
    assert_no_leak(output)
    rc, output, counts = play(oc, tmp_path, "--diff")
    assert rc == 0 and counts["changed"] == 0 and ocerra_writes(oc) == writes, output


def test_rotation_pushes_to_three_entities_and_no_output_holds_a_secret(oc, tmp_path):
    oc.erp_user(password=NEW_PW)
    rc, output, counts = play(oc, tmp_path, "--diff", "-vvvv", api_password=NEW_PW, push=True,
                              connect_new=False)
    assert rc == 0 and counts["changed"] == 1 and counts["failed"] == 0, output
    assert output.count("password: (changed)") + output.count('"password": "(changed)"') >= 3
    assert all(oc.settings(c)["status"]["code"] == "Connected" for c in SHARED)
    assert oc.erp_counts()["failed_signins"] == 0
    assert_no_leak(output)


def test_wrong_password_fails_once_and_no_output_holds_it(oc, tmp_path):
    rc, output, counts = play(oc, tmp_path, "--diff", "-vvvv", api_password=WRONG_PW, push=True,
                              targets=[LIVE], connect_new=False)
    assert rc != 0 and counts["failed"] == 1, output
    assert "InvalidCredentials" in output and "restore_connection" in output
    assert oc.erp_counts()["failed_signins"] == 1
    assert_no_leak(output, WRONG_PW)


def test_classic_module_execution_behaves_the_same(oc, tmp_path):
    rc, output, counts = play(oc, tmp_path, "--check", "--diff", "-vvvv", inprocess=False)
    assert rc == 0 and counts["changed"] == 1 and ocerra_writes(oc) == 0, output
    assert "AnsiballZ" in output
    assert_no_leak(output)
    result = json.dumps(oc.sandbox.ocerra.state())
    assert API_PW not in result
