"""The report is written outside the collection: `out/report.json` in the directory the run
starts from (an installed collection may be read-only), and the run's summary is published
with set_stats, so AWX keeps it as a job artifact."""
import json
import os
import subprocess

import pytest

from tests.integration.helpers import ANSIBLE_BIN, ROOT

pytestmark = pytest.mark.integration


def test_default_report_lands_in_the_current_directory_and_the_summary_in_the_stats(site, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_NOCOLOR="1",   # ansible.cfg names the sandbox's vault file from the root
               ANSIBLE_VAULT_IDENTITY_LIST="sandbox@%s" % (ROOT / "inventories" / "sandbox" / "vault-password.txt"))
    before = (ROOT / "out" / "report.json").stat().st_mtime if (ROOT / "out" / "report.json").exists() else None
    done = subprocess.run([str(ANSIBLE_BIN / "ansible-playbook"), str(ROOT / "playbooks" / "provision.yml"),
                           "-i", str(site.inventory), "-e", "toolkit_state_dir=%s" % site.state_dir],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((work / "out" / "report.json").read_text())
    assert set(report["sites"]) == {"acme", "bravo", "charlie"}
    after = (ROOT / "out" / "report.json").stat().st_mtime if (ROOT / "out" / "report.json").exists() else None
    assert after == before                                   # nothing written into the collection
    stats = done.stdout.split("CUSTOM STATS:", 1)[1]
    assert "ocerra_acumatica_report" in stats and '"changed": 3' in stats
    for secret in site.forbidden_strings():
        assert secret not in done.stdout


def test_a_controller_without_requests_gets_ansible_s_missing_library_message_not_a_crash(site, tmp_path):
    """The toolkit's own actions talk HTTP from the controller's Python: without `requests` there
    (meta/requirements.txt not installed), each site fails with Ansible's missing-library
    message and the report says so, instead of "Unexpected Exception" (exit 250); nothing is sent."""
    shadow = tmp_path / "no-requests" / "requests"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named requests (hidden by the test)')\n")
    run = site.provision(env={"PYTHONPATH": str(shadow.parent)})
    assert run.rc == 2 and "Unexpected Exception" not in run.out
    assert "Failed to import the required Python library (requests)" in run.out
    assert run.statuses() == dict.fromkeys(["acme", "bravo", "charlie"], "failed")
    assert site.writes() == (0, 0)


def test_a_controller_without_jsonschema_gets_ansible_s_missing_library_message_before_anything_is_sent(site, tmp_path):
    shadow = tmp_path / "no-jsonschema" / "jsonschema"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named jsonschema (hidden by the test)')\n")
    run = site.provision(env={"PYTHONPATH": str(shadow.parent)})
    assert run.rc == 2 and "Unexpected Exception" not in run.out and "Traceback" not in run.out
    assert "Failed to import the required Python library (jsonschema)" in run.out
    assert site.writes() == (0, 0)
