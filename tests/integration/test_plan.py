"""A plan a pipeline can act on (issue 29): the exit convention of ./run plan (0 no change, 20
changes pending, anything else failed), the report's plan section and its Markdown for create,
change, rotate, blocked and failed sites with no secret in any encoding, a saved plan applied
after a site drifted (that site stopped, the others applied), rotate.yml --check listing the
due rotations, and the progress lines."""
import json
import os
import re
import subprocess
import sys

import pytest

from tests.integration.helpers import ANSIBLE_BIN, ENTITIES, ROOT, SITES
from tests.integration.safe_change import Fakes, provisioned_seed
from tools.pipeline import CHANGES_PENDING, NO_CHANGE

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Plan-rotated-Password-77"


@pytest.fixture
def provisioned(sandbox, site):
    sandbox.reset(seed=provisioned_seed(site))
    return site


def pipeline(site, command, *args, env=None):
    """./run plan|apply on the site's inventory: (exit status, output, report, Markdown)."""
    report = site.tmp / "report.json"
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    PATH="%s%s%s" % (ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")), **(env or {}))
    done = subprocess.run([sys.executable, "-m", "tools.pipeline", command, *args, "--report", str(report),
                           "-i", str(site.inventory), "-e", "toolkit_state_dir=%s" % site.state_dir],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    markdown = report.with_suffix(".md")
    text = markdown.read_text() if markdown.exists() else ""
    leaked = [f for f in site.forbidden_strings() if f in out or f in text or f in report.read_text()]
    assert not leaked, "%d secret form(s) leaked into the output, the report or its Markdown" % len(leaked)
    return done.returncode, out, json.loads(report.read_text()), text


def drift(site, **changes):
    """Different inventory settings for some sites (host -> text appended to its host_vars)."""
    for host, text in changes.items():
        site.append(host, text)


def test_the_exit_status_tells_no_change_changes_pending_and_failure(provisioned, sandbox):
    site = provisioned
    rc, out, report, markdown = pipeline(site, "plan")
    assert rc == NO_CHANGE, out
    assert report["plan"]["counts"] == {"sites": 3, "create": 0, "change": 0, "rotate": 0, "publish": 0,
                                        "blocked": 0, "failed": 0, "unchanged": 3}
    assert "3 unchanged" in markdown and "###" not in markdown

    drift(site, acme="api_user_first_name: Planned\n")
    rc, out, report, _ = pipeline(site, "plan")
    assert rc == CHANGES_PENDING, out
    assert report["plan"]["counts"]["change"] == 1 and site.writes() == (0, 0)

    sandbox.ocerra.faults.add("status", path="/odata/OtherClients", count=None, status=403)
    sandbox.ocerra.faults.add("status", path="/api/Client", count=None, status=403)
    rc, out, report, _ = pipeline(site, "plan")
    assert rc not in (NO_CHANGE, CHANGES_PENDING) and rc == 2, out      # ansible-playbook's failed hosts
    assert report["plan"]["counts"]["failed"] == 3


def test_the_plan_names_each_sites_changes_in_json_and_markdown(provisioned):
    site = provisioned
    drift(site, acme="api_user_first_name: Planned\n")                 # change
    site.set_api_password("bravo", NEW_PASSWORD)                      # rotate: a new password
    site.set_secret("charlie", "erp_admin_password", "Not-the-admins-password-1")
    rc, out, report, markdown = pipeline(site, "plan")                # failed: the admin's sign-in refused
    assert rc == 2 and report["plan"]["sites"]["charlie"]["kinds"] == ["failed"], out
    assert report["plan"]["counts"]["failed"] == 1 and "### charlie: failed" in markdown
    rc, out, report, markdown = pipeline(site, "plan")                # blocked: not tried again so soon
    assert rc == 2, out
    plan = report["plan"]
    assert plan["counts"] == {"sites": 3, "create": 0, "change": 1, "rotate": 1, "publish": 0, "blocked": 1,
                              "failed": 0, "unchanged": 0}
    assert plan["sites"]["acme"]["kinds"] == ["change"]
    assert {"object": "API user OcerraAPI", "before": {"first_name": "Ocerra"}, "after": {"first_name": "Planned"}} \
        in plan["sites"]["acme"]["changes"]
    assert plan["sites"]["bravo"]["kinds"] == ["rotate"]
    pushed = [c for c in plan["sites"]["bravo"]["changes"] if c["object"].startswith("entity ")]
    assert pushed == [{"object": "entity Bravo Live", "before": {"password": "(stored)"},
                       "after": {"password": "(changed)"}}]
    assert plan["sites"]["charlie"]["kinds"] == ["blocked"]
    assert not [c for c in plan["sites"]["acme"]["changes"] if c["object"].startswith("acme")]
    # The Markdown: counts first, a section per site, a row per attribute; nothing written.
    assert markdown.splitlines()[2].startswith("**3 site(s): 0 to create, 1 to change, 1 to rotate")
    assert "### acme: change" in markdown and "| API user OcerraAPI | first_name | Ocerra | Planned |" in markdown
    assert "### bravo: rotate" in markdown and "### charlie: blocked" in markdown
    assert "Not signing in as 'admin'" in markdown.split("### charlie: blocked")[1]
    assert site.writes() == (0, 0)
    # The diffs printed name the site and the object.
    assert "--- before: acme: API user OcerraAPI" in out and re.search(r"\+\+\+ after: bravo: entity Bravo", out)


def test_a_first_run_plan_counts_creations_and_publications(sandbox, site):
    rc, out, report, markdown = pipeline(site, "plan")
    assert rc == CHANGES_PENDING, out
    counts = report["plan"]["counts"]
    assert (counts["create"], counts["publish"], counts["unchanged"]) == (3, 3, 0)
    assert "### acme: create, publish" in markdown and "| entity Acme Live | password | - | (changed) |" in markdown


def test_a_saved_plan_stops_the_site_that_drifted_and_applies_the_others(provisioned, sandbox):
    site, fakes = provisioned, Fakes(sandbox)
    drift(site, acme="api_user_first_name: Planned\n", bravo="api_user_first_name: Planned\n")
    saved = site.tmp / "plan.json"
    rc, out, _report, _ = pipeline(site, "plan", "--out", str(saved))
    assert rc == CHANGES_PENDING, out
    text = saved.read_text()
    assert not [f for f in site.forbidden_strings() if f in text]
    assert set(json.loads(text)["sites"]) == set(SITES)

    held = ENTITIES["acme"][1]
    fakes.entity(held).branch = "DRIFT"                               # someone changed an entity since
    rc, out, report, _ = pipeline(site, "apply", str(saved))
    assert rc == 2, out
    statuses = {h: e["status"] for h, e in report["sites"].items()}
    assert statuses == {"acme": "failed", "bravo": "changed", "charlie": "ok"}, out
    reason = report["sites"]["acme"]["reason"]
    assert "changed since the saved plan" in reason and "entity %s: branch" % held in reason
    assert fakes._user("acme").first_name == "Ocerra" and fakes._user("bravo").first_name == "Planned"

    # A password change the plan did not make is not applied either.
    site.set_api_password("charlie", NEW_PASSWORD)
    rc, out, report, _ = pipeline(site, "apply", str(saved))
    assert report["sites"]["charlie"]["status"] == "failed", out
    assert "password, which the saved plan did not" in report["sites"]["charlie"]["reason"]
    assert not fakes.erp_accepts("charlie", NEW_PASSWORD)


def test_rotate_check_lists_the_due_rotations(provisioned, sandbox):
    site = provisioned
    site.append("acme", "api_user_password_store: vault_file\napi_user_password_vault_id: sandbox\n"
                        "api_user_password_max_age_days: 90\n")
    sandbox.clock.advance(91 * 24 * 3600)
    rc, out, report, markdown = pipeline(site, "plan", "--playbook", "rotate", "-l", "acme")
    assert rc == CHANGES_PENDING, out
    entry = report["sites"]["acme"]
    assert entry["status"] == "changed" and "Rotation due: The password is 91 day(s) old" in entry["reason"], entry
    assert report["plan"]["sites"]["acme"]["kinds"] == ["rotate"]
    assert "password would be pushed to 3 entities" in entry["reason"]
    assert site.writes() == (0, 0) and not (site.inventory / ".api-user-passwords").exists()
    # The planned password was never tried: no sign-in the ERP would count against the API user.
    assert site.api_user("acme")["failed_attempts"] == 0


@pytest.mark.parametrize("interval, lines", [("0", 3), ("3600", 2)])       # the first and the last
def test_progress_lines_count_sites_at_a_bounded_rate(provisioned, interval, lines):
    run = provisioned.provision(env={"OCERRA_ACUMATICA_PROGRESS_INTERVAL": interval})
    progress = re.findall(r"^\[progress\] (\d+) of 3 site\(s\) done.*$", run.stdout, re.M)
    assert len(progress) == lines, run
    assert progress[-1] == "3"
    assert len(re.findall(r"^ok: \[(acme|bravo|charlie)\]$", run.stdout, re.M)) >= 3    # one line per site stays
