"""The rules of a site's report entry (plugins/plugin_utils/site_outcome.py), from Records as
the site flow keeps them: which step stopped the site, what was read and what was done."""
import json

import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report, site_outcome as so
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import Record, Step
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import Site

A, B = "ac3e0000-0000-4000-8000-000000000001", "ac3e0000-0000-4000-8000-000000000002"
SITE = Site("acme", {"erp_url": "https://acme.example", "erp_tenant": "Company", "api_user_roles": ["AP Clerk"],
                     "api_user_licence_type": "Full User (Full API)",
                     "ocerra_entities": [{"client_id": A}, {"client_id": B}]})


def conn(client, code="Connected", enabled=True, name=None):
    return {"client_id": client, "client_name": name, "enabled": enabled, "has_password": True,
            "status": {"code": code, "message": code, "checked": "2025-07-01T00:00:00Z"}}


def record(mode="provision", check=False, steps=(), erp=None, connections=()):
    """A Record: `steps` as (name, error or None); `erp` the ErpRun's fields; `connections` what
    the run's listing found using the site and login (None: Ocerra was not read)."""
    rec = Record(mode, check, SITE)
    for name, error in steps:
        step = Step(name)
        step.status, step.error = ("failed", ToolkitError(error[1], error_kind=error[0])) if error else ("done", None)
        if error:
            step.error.kind = error[0]
        rec.steps.append(step)
    for key, value in (erp or {}).items():
        setattr(rec.erp, key, value)
    rec.erp.user = rec.erp.user or {"exists": True, "roles": ["AP Clerk"], "locked": False}
    for entity in SITE.entities:
        rec.add_entity(entity)
    rec.connections = None if connections is None else list(connections)
    return rec


def entity(rec, client, connection=None, **state):
    run = rec.entities[client]
    run.seen(connection)
    for key, value in state.items():
        setattr(run, key, value)
    return run


def test_a_no_change_run_is_ok():
    rec = record(steps=[("erp", None), ("read_entities", None)])
    entity(rec, A, conn(A))
    entity(rec, B, conn(B))
    result = so.outcome(rec)
    assert result["status"] == "ok"
    assert result["reason"] == "API user OcerraAPI in sync; 2 of 2 entities Connected."
    assert result["entities"][A]["status"] == "Connected" and not result["entities"][A]["changed"]


def test_a_creation_is_changed_and_says_what_was_done():
    rec = record(steps=[("erp", None), ("connect", None)],
                 erp={"changed": True, "password_updated": True, "actions": ["created", "password_set"]})
    for client in (A, B):
        entity(rec, client, conn(client), changed=True, password_pushed=True)
    result = so.outcome(rec)
    assert result["status"] == "changed"
    assert result["reason"] == ("ERP: created, password_set; Ocerra: password pushed to 2 entities; "
                                "2 of 2 entities Connected.")
    assert result["erp"]["password_updated"] is True


def test_check_mode_reasons_are_a_plan():
    rec = record(check=True, steps=[("erp", None), ("connect", None)],
                 erp={"changed": True, "password_updated": True, "actions": ["created"]})
    entity(rec, A, conn(A, enabled=False), changed=True, password_pushed=True)
    result = so.outcome(rec)
    assert result["status"] == "changed"
    assert result["reason"].startswith("Plan (check mode, nothing written): ERP: created; Ocerra: password would be")


def test_an_erp_failure_is_failed_with_nothing_half_done_only_when_the_entities_read_say_so():
    rec = record(steps=[("read_entities", None),
                        ("erp", ("licence_unavailable", "Licence type 'Full User (Full API)' has no free seat."))])
    entity(rec, A, conn(A))
    entity(rec, B, conn(B))
    result = so.outcome(rec)
    assert result["status"] == "failed"
    assert result["reason"].startswith("The ERP step failed: Licence type 'Full User (Full API)' has no free seat. ")
    assert ("Nothing was left half-done: the ERP password was not changed by this run and no entity is switched "
            "off.") in result["reason"]
    assert result["erp"]["error"].startswith("Licence type")
    # An entity read switched off, or one not read: never "nothing half-done"; degraded when this
    # run or an earlier one of this machine (the journal) left it so.
    entity(rec, B, conn(B, "Disabled", False))
    result = so.outcome(rec)
    assert result["status"] == "failed" and "half-done" not in result["reason"]
    assert "1 entity is switched off (%s)" % B in result["reason"]
    rec.previous = {"started": "2026-12-03T10:00:00Z", "steps": [{"step": "erp_password", "event": "started",
                                                                  "at": "2026-12-03T10:00:05Z"}]}
    result = so.outcome(rec)
    assert result["status"] == "degraded"
    assert result["reason"].startswith("An earlier run on this machine left a password change unfinished (started "
                                       "2026-12-03T10:00:00Z, stopped at step 'erp_password' (started at "
                                       "2026-12-03T10:00:05Z); the ERP may already hold its new password). ")
    rec = record(steps=[("read_entities", ("ocerra_server_error", "Ocerra failed (HTTP 503)."))], connections=None)
    result = so.outcome(rec)
    assert result["status"] == "failed" and "half-done" not in result["reason"]
    assert "the entities were not read, so whether one is switched off is not known" in result["reason"]


def test_a_failed_push_after_the_erp_reset_is_degraded_and_says_the_next_run_finishes_it():
    rec = record(steps=[("erp", None), ("entities_off", None), ("erp_password", None),
                        ("entities_on", ("api_error", "x"))],
                 erp={"password_change_pending": True, "changed": True, "password_updated": True,
                      "actions": ["password_reset"]})
    entity(rec, A, conn(A), changed=True, password_pushed=True, switched_off=True)
    entity(rec, B, conn(B, "Disabled", False), switched_off=True, changed=True,
           error="Ocerra failed on PUT (HTTP 503).")
    result = so.outcome(rec)
    assert result["status"] == "degraded"
    assert result["reason"] == ("The ERP password of OcerraAPI changed, but 1 entity could not be updated or "
                                "verified (%s); first error: Ocerra failed on PUT (HTTP 503). A later run finishes "
                                "it: it pushes the password to every entity that is not Connected." % B)
    assert result["entities"][A]["status"] == "Connected" and result["entities"][B]["error"]


@pytest.mark.parametrize("unchanged,still_off,status,words", [
    (True, [], "failed", "The 1 entity switched off was switched back on"),
    (True, [(A, "holds a password older than the ERP's")], "degraded",
     "1 entity is not back on (%s: switched off, holds a password older than the ERP's)" % A),
    (None, [], "degraded", "stay off"),
])
def test_a_failed_reset_says_whether_the_password_changed(unchanged, still_off, status, words):
    rec = record(steps=[("erp", None), ("entities_off", None), ("erp_password", ("x", "refused"))],
                 erp={"password_change_pending": True, "password_unchanged": unchanged})
    entity(rec, A, conn(A), changed=True, switched_off=True)
    entity(rec, B, conn(B))
    rec.still_off = still_off
    result = so.outcome(rec)
    assert result["status"] == status and words in result["reason"], result["reason"]


def test_a_failure_while_switching_off_is_failed_when_the_rest_is_back_on():
    rec = record(steps=[("erp", None), ("entities_off", ("api_error", "%s: HTTP 503" % B)), ("rollback", None)],
                 erp={"password_change_pending": True, "password_unchanged": True})
    entity(rec, A, conn(A), changed=True, switched_off=True)
    entity(rec, B, conn(B))                 # read back after its failed switch-off: still enabled
    result = so.outcome(rec)
    assert result["status"] == "failed"
    assert result["reason"].startswith("Switching the entities off before the password change failed: %s: HTTP 503"
                                       % B)
    assert "Nothing was left half-done: the ERP password was not changed by this run and no entity is switched " \
           "off." in result["reason"]


def test_an_entity_read_failure_names_the_entity_and_does_not_claim_its_state():
    rec = record(steps=[("erp", None), ("read_entities", ("x", "%s: No Ocerra client named 'Acme'." % A))])
    entity(rec, B, conn(B))
    result = so.outcome(rec)
    assert result["status"] == "failed"
    assert result["reason"].startswith("Reading the Ocerra entities failed: %s: No Ocerra client" % A)
    assert "the state of %s is not known" % A in result["reason"] and "half-done" not in result["reason"]


def test_restore_findings_name_each_problem():
    rec = record(mode="restore", connections=[conn(A, "InvalidCredentials", name="Acme Live"),
                                              conn(B, "Disabled", False, "Acme Test"), conn("ff", name="Legacy")])
    rec.erp.read = {"exists": True, "locked": True, "force_password_change": True, "enabled": True,
                    "password_never_expires": False}
    for c in rec.connections[:2]:
        entity(rec, c["client_id"], c)
    rec.add_entity({"client_id": "ff"}, declared=False).seen(rec.connections[2])
    assert so.findings(rec) == [
        "the API user is locked out",
        "the API user must change its password at next sign-in (as after the 2023.1.3 upgrade's reset)",
        "the API user's password expires",
        "Acme Live: status InvalidCredentials",
        "Acme Test: Enable Connection is off",
        "Legacy (ff) uses this site and login but is not in ocerra_entities: it is restored too; add it to "
        "the inventory",
    ]
    empty = record(mode="restore", connections=[])
    empty.erp.read = {"exists": False}
    assert so.findings(empty)[:2] == ["the API user does not exist",
                                      "%s is not connected to this site and login in Ocerra" % A]


def test_a_restore_reports_what_was_found_and_done():
    rec = record(mode="restore", connections=[conn(A), conn(B)],
                 steps=[("read_user", None), ("find_entities", None), ("entities_off", None),
                        ("erp_password", None), ("entities_on", None)],
                 erp={"changed": True, "password_updated": True, "actions": ["unlocked", "password_reset"]})
    rec.erp.read = {"exists": True, "locked": True}
    for client in (A, B):
        entity(rec, client, conn(client), changed=True, password_pushed=True)
    result = so.outcome(rec)
    assert result["status"] == "changed"
    assert result["reason"].startswith("Found: the API user is locked out. Done: Safe order: every entity switched off")
    assert "ERP: unlocked, password_reset" in result["reason"]


def test_observed_outcome_compares_with_the_inventory():
    rec = record(mode="report", connections=[conn(A), conn(B)], steps=[("read_user", None), ("find_entities", None)])
    for client in (A, B):
        entity(rec, client, conn(client))
    rec.erp.read = {"exists": True, "roles": ["AP Clerk", "Customizer"], "licence_types": [], "enabled": True,
                    "locked": False}
    result = so.outcome(rec)
    assert result["status"] == "degraded"
    assert result["reason"].startswith("Found: roles not in the inventory: customizer; licence type Full User "
                                       "(Full API) not assigned.")
    rec.erp.read = {"exists": True, "roles": ["AP Clerk"], "licence_types": ["Full User (Full API)"],
                    "enabled": True, "locked": False}
    assert so.outcome(rec)["reason"] == "API user OcerraAPI in place; 2 of 2 entities Connected."
    failed = record(mode="report", steps=[("read_user", ("x", "Signing in failed."))])
    assert so.outcome(failed)["reason"] == "Could not read the site's state: Signing in failed."


def test_endpoint_outcome():
    done = {"changed": True, "endpoint": "UserAdmin/1.0.0", "digest": "a" * 64, "published_digest": None}
    rec = record(mode="publish", steps=[("publish", None)])
    rec.endpoint = done
    assert so.outcome(rec)["status"] == "changed"
    rec.endpoint = dict(done, changed=False)
    assert so.outcome(rec)["status"] == "ok"
    bad = record(mode="publish", steps=[("publish", ("x", "Customizer role missing."))])
    assert so.outcome(bad)["reason"] == "Publishing the User endpoint failed: Customizer role missing."
    locked = Site("x", {"erp_url": "https://x.example", "erp_tenant": "T", "erp_publish_endpoint": False})
    rec = Record("publish", False, locked)
    rec.endpoint = done
    assert so.outcome(rec)["status"] == "failed"


def test_the_report_says_running_then_lists_every_host_and_a_host_without_outcome_is_failed(tmp_path):
    path = str(tmp_path / "out" / "report.json")
    ok = {"status": "ok", "reason": "fine", "erp": {}, "entities": {}}
    report.start(path, ["a", "b"], "provision", False)
    running = json.loads((tmp_path / "out" / "report.json").read_text())
    assert running["status"] == "running" and running["sites"]["a"]["status"] == "running"
    report.keep(path, "a", ok)
    assert report.kept(path, "a") == ok and report.kept(path, "b") is None
    run_report = report.finish(path, ["a", "b"], "provision", False)
    assert run_report["status"] == "finished" and json.loads((tmp_path / "out" / "report.json").read_text()) == run_report
    assert run_report["sites"]["a"] == ok and run_report["sites"]["b"]["status"] == "failed"
    assert run_report["playbook"] == "provision" and run_report["check_mode"] is False
    assert run_report["generated"].endswith("Z") and not (tmp_path / "out" / "report.json.d").exists()
    lines = so.summary_lines(run_report)
    assert lines[0].split() == ["a", "ok", "fine"] and lines[1].split()[:2] == ["b", "failed"]
    assert lines[2] == "2 site(s): 1 ok, 0 changed, 0 degraded, 1 failed"


@pytest.mark.parametrize("steps,status", [([("erp", None)], "failed"), ([("erp", None), ("entities_off", None)], "degraded")])
def test_a_signal_between_steps_is_reported_as_a_stop_not_a_success(steps, status):
    rec = record(steps=steps, erp={"password_change_pending": True})
    entity(rec, B, conn(B))
    if status == "degraded":
        entity(rec, A, conn(A, "Disabled", False), switched_off=True, changed=True)
    else:
        entity(rec, A, conn(A))
    rec.interrupted = 15
    result = so.outcome(rec)
    assert result["status"] == status
    assert result["reason"].startswith("Stopped by signal 15 during step '%s'" % steps[-1][0])
