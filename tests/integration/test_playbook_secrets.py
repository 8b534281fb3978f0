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


@pytest.fixture
def verbose(site, tmp_path):
    """Runs at -vvvv with ANSIBLE_LOG_PATH, the log file and the report checked too."""
    log = tmp_path / "ansible.log"

    def play(playbook, *args):
        return checked(site, site.play(playbook, "-vvvv", *args, env={"ANSIBLE_LOG_PATH": str(log)}), log)
    return play


def test_no_password_at_vvvv_when_creating_and_reporting(site, verbose):
    # Fresh sites: the users created with their password, pushed to six entities.
    run = verbose("provision.yml", "--diff")
    assert run.rc == 0, run
    assert '"password": "(changed)"' in run.stdout          # the diff shows the change, not the value
    assert verbose("report.yml").rc == 0


def test_no_password_at_vvvv_when_changing_one(site, verbose):
    assert site.provision().rc == 0
    site.set_api_password("acme", NEW_PASSWORD)
    site.extra_secrets.add(NEW_PASSWORD)
    assert verbose("provision.yml", "--diff", "--check").rc == 0
    assert verbose("provision.yml", "--diff").rc == 0


def test_no_password_at_vvvv_when_a_restore_fails_and_succeeds(site, verbose):
    assert site.provision().rc == 0
    # A failing site (Ocerra refuses every save) and its rescue, then the repair.
    site.patch_api_user("acme", locked=True)
    site.sandbox.ocerra.faults.add("status", path=SETTINGS_PATH, method="PUT", count=None, status=503)
    assert verbose("restore_connection.yml", "--diff", "-l", "acme").rc != 0
    site.sandbox.ocerra.faults.clear()
    assert verbose("restore_connection.yml", "--diff", "-l", "acme").rc == 0


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


ECHOED = "Ec+ho&<Pw>'-Q7x\"zé9"   # every character a .NET, HTML or URL encoder rewrites


@pytest.mark.parametrize("encoding", ["raw", "json", "dotnet_json", "html", "url", "base64", "base64url"])
def test_an_ocerra_error_that_echoes_the_password_is_scrubbed_everywhere(site, encoding):
    """Ocerra refuses the save with a 400 that quotes the submitted password (as ASP.NET's
    model validation does): neither stdout nor the report show it, in any encoding."""
    import base64
    import html
    import json
    from urllib.parse import quote

    assert site.provision().rc == 0
    site.set_api_password("acme", ECHOED)
    site.extra_secrets.add(ECHOED)
    echoed = {"raw": ECHOED, "json": json.dumps(ECHOED)[1:-1], "html": html.escape(ECHOED),
              "dotnet_json": "".join("\\u%04X" % ord(c) if c in "<>&'\"+" or not c.isascii() else c for c in ECHOED),
              "url": quote(ECHOED, safe=""), "base64": base64.b64encode(ECHOED.encode()).decode(),
              "base64url": base64.urlsafe_b64encode(ECHOED.encode()).decode()}[encoding]
    site.sandbox.ocerra.faults.add("status", path=SETTINGS_PATH, method="PUT", count=None, status=400,
                                   body={"errorMessage": "The value '%s' is not valid for Password." % echoed})
    run = site.provision("-l", "acme")     # finish() checks stdout and stderr for every form
    assert run.rc != 0 and run.status("acme") in ("failed", "degraded"), run
    report = site.report_path.read_text()
    assert "is not valid for Password" in report       # the message is kept, the value is not
    assert not [f for f in site.forbidden_strings() if f in report]
