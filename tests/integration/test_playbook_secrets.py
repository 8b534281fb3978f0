"""No password in any output at the highest verbosity with --diff: stdout, stderr, Ansible's
log file and the JSON report. Every password of the inventory is looked for in its raw,
JSON-escaped, URL-encoded and base64 forms, and as the Basic value of every login
(helpers.Site.forbidden_strings). Each story that handles a password runs here at -vvvv."""
import pytest

from tests.integration.helpers import SETTINGS_PATH

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Vv4-Secret-Rotation#58kQ"


def checked(site, run, log):
    text = log.read_text() if log.exists() else ""
    assert text, "ANSIBLE_LOG_PATH wrote nothing"
    report = site.report_path.read_text() if site.report_path.exists() else ""
    leaked = [f for f in site.forbidden_strings() if f in text or f in report]
    assert not leaked, "%d secret form(s) leaked into the log file or the report" % len(leaked)
    # The canary check is real: the inventory's passwords were found to look for.
    assert len(site.secrets()) >= 7
    return run


def test_no_password_in_any_output_at_vvvv(site, tmp_path, monkeypatch):
    log = tmp_path / "ansible.log"
    env = {"ANSIBLE_LOG_PATH": str(log)}
    # Fresh sites: the user created with its password, pushed to six entities.
    run = checked(site, site.provision("-vvvv", "--diff", env=env), log)
    assert run.rc == 0, run
    assert '"password": "(changed)"' in run.stdout          # the diff shows the change, not the value
    # A password change in check mode, then for real (safe order), at -vvvv.
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    assert checked(site, site.provision("-vvvv", "--diff", "--check", env=env), log).rc == 0
    assert checked(site, site.provision("-vvvv", "--diff", env=env), log).rc == 0
    # A failing site (Ocerra refuses every save) and its rescue, at -vvvv.
    site.patch_api_user("acme", locked=True)
    site.sandbox.ocerra.faults.add("status", path=SETTINGS_PATH, method="PUT", count=None, status=503)
    failing = checked(site, site.play("restore_connection.yml", "-vvvv", "--diff", env=env), log)
    assert failing.rc != 0
    site.sandbox.ocerra.faults.clear()
    # The repair and the read-only report.
    assert checked(site, site.play("restore_connection.yml", "-vvvv", "--diff", env=env), log).rc == 0
    assert checked(site, site.play("report.yml", "-vvvv", env=env), log).rc == 0


@pytest.mark.parametrize("expression", ["api_user_password", "api_user_password | b64encode",
                                        "api_user_password | urlencode", "api_user_password | to_json",
                                        "(api_user_login ~ ':' ~ api_user_password) | b64encode"])
def test_the_leak_check_catches_a_leaked_form(site, tmp_path, expression):
    """The checker above is not vacuous: a playbook that prints one form of a password is caught."""
    path = tmp_path / "leak.yml"
    path.write_text("- hosts: acme\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug:\n        msg: \"{{ %s }}\"\n" % expression)
    run = site.play(path, check_secrets=False)
    assert run.rc == 0, run
    with pytest.raises(AssertionError, match="secret form"):
        site.assert_no_secret(run)
