"""erp_endpoint / erp_user / erp_user_info through real ansible-playbook runs against the sandbox."""
import json
import sys

import pytest
import yaml

from tests.integration.helpers import ansible_playbook
from tests.modules.erp_support import ADMIN_PW, API_PW, FULL, SITE, erp_seed, leaked_forms

pytestmark = pytest.mark.integration

PLAY = """
- hosts: acme
  gather_facts: false
  module_defaults:
    group/ocerra.acumatica.acumatica:
      url: "{{ erp_url }}"
      tenant: Company
      admin_user: admin
      admin_password: "{{ erp_admin_password }}"
  tasks:
    - name: Publish the User endpoint
      ocerra.acumatica.erp_endpoint:
    - name: The API user
      ocerra.acumatica.erp_user:
        login: OcerraAPI
        email: ocerraapi@acme.example
        user_type: API User
        roles: [AP Clerk]
        licence_types: [Full User (Full API)]
        password: "{{ api_user_password }}"
        update_password: "{{ update_password | default('when_changed') }}"
        password_never_expires: true
        publish_endpoint: true    # check mode cannot rely on the task above
      register: api_user
    - name: Read it back (in check mode the endpoint may not be there yet)
      ocerra.acumatica.erp_user_info:
      register: info
      when: not ansible_check_mode
    - name: Show what a pipeline would see
      ansible.builtin.debug:
        var: api_user
    - ansible.builtin.assert:
        that: [info.user.exists, not info.user.locked, "info.user.roles == ['AP Clerk']"]
      when: not ansible_check_mode
"""


@pytest.fixture
def project(tmp_path, sandbox):
    sandbox.reset(seed=erp_seed(installed=False, switches={"customization": {"publish_polls": 1}}))
    inventory = {"all": {"hosts": {"acme": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "erp_url": f"{sandbox.acumatica_url}/acme", "erp_admin_password": ADMIN_PW,
        "api_user_password": API_PW}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "site.yml").write_text(PLAY)
    yield tmp_path
    counts = sandbox.erp.counters()[SITE]
    # The publish recycles the site, which ends the session it was made in (counted as expired).
    assert counts["signins"] == counts["signouts"] + counts["sessions_expired"], counts
    assert counts["sessions_open"] == 0, counts


def playbook(project, *args, **env):
    done, output = ansible_playbook(project, "site.yml", *args, env=env)
    for secret in (API_PW, ADMIN_PW):
        leaks = [form for form in leaked_forms(secret) if form in output]
        assert not leaks, f"password leaked in {leaks}"
    return done.returncode, done.stdout + done.stderr


def writes(sandbox):
    return [e for e in sandbox.erp.log.snapshot()
            if e["method"] in ("PUT", "POST", "DELETE") and not e["path"].endswith(("/auth/login", "/auth/logout"))
            and not e["path"].endswith(("/getPublished", "/getProject"))]


def test_check_then_provision_then_unchanged(project, sandbox):
    rc, out = playbook(project, "--check", "--diff")
    assert rc == 0, out
    assert writes(sandbox) == [] and "changed=2" in out and '"password": "(changed)"' in out.replace("+", "")
    rc, out = playbook(project, "--diff")
    assert rc == 0 and "changed=2" in out, out
    user = next(u for u in sandbox.erp.state()["instances"][0]["tenants"][0]["users"] if u["username"] == "OcerraAPI")
    assert user["roles"] == ["AP Clerk"] and user["licence_types"] == [FULL] and user["password_never_expires"]
    sandbox.erp.log.clear()
    rc, out = playbook(project)
    assert rc == 0 and "changed=0" in out and "failed=0" in out, out
    assert writes(sandbox) == []


def test_no_password_in_any_output_at_the_highest_verbosity(project, sandbox):
    rc, out = playbook(project, "-vvvv", "--diff")
    assert rc == 0 and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in out, out
    # The same through AnsiballZ (a module process), resetting the password this time.
    rc, out = playbook(project, "-vvvv", "--diff", "-e", '{"toolkit_inprocess": false}',
                       "-e", "update_password=always")
    assert rc == 0 and "AnsiballZ_erp_user.py" in out and '"password_reset"' in out, out
    rc, out = playbook(project, "-vvvv", "--diff", "--check")
    assert rc == 0, out
    # Whole results as JSON: the minimal callback on stdout, the tree callback into files.
    tree = project / "tree"
    rc, out = playbook(project, ANSIBLE_STDOUT_CALLBACK="minimal", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
                       ANSIBLE_CALLBACK_TREE_DIR=str(tree))
    assert rc == 0 and '"password_updated": false' in out, out
    saved = (tree / "acme").read_text()
    assert not [form for secret in (API_PW, ADMIN_PW) for form in leaked_forms(secret) if form in saved]
    assert json.loads(saved)["changed"] is False


def test_wrong_admin_password_fails_once_with_an_actionable_message(project, sandbox):
    inventory = yaml.safe_load((project / "inventory.yml").read_text())
    inventory["all"]["hosts"]["acme"]["erp_admin_password"] = "Not-The-Admin-Pass-1"
    (project / "inventory.yml").write_text(yaml.safe_dump(inventory))
    rc, out = playbook(project, "-vvv")
    assert rc != 0 and "invalid credentials" in out and "Not retried" in out
    assert "Not-The-Admin-Pass-1" not in out
    assert sandbox.erp.counters()[SITE]["users"]["admin"]["failed_signins"] == 1
