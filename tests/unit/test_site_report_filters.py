"""The rules behind the roles ocerra_entities and site_report (plugins/filter/site_report.py):
which entities need work, a site's status and reason from what its tasks registered, what a
restore finds, and the run's report."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.filter import site_report as sr

A, B = "ac3e0000-0000-4000-8000-000000000001", "ac3e0000-0000-4000-8000-000000000002"
SITE = {"url": "https://acme.example", "tenant": "Company", "login": "OcerraAPI"}
DECLARED = [{"client_id": A}, {"client_id": B}]


def conn(client, code="Connected", enabled=True, name=None):
    return {"client_id": client, "client_name": name, "enabled": enabled, "has_password": True,
            "status": {"code": code, "message": code, "checked": "2025-07-01T00:00:00Z"}}


def item(client, **result):
    return {"item": {"client_id": client}, "changed": False, **result}


def loop(*items, failed=False):
    out = {"results": list(items), "changed": any(i.get("changed") for i in items)}
    if failed:
        out.update(failed=True, msg="One or more items failed")
    return out


def erp(**kw):
    base = {"changed": False, "updated": False, "password_updated": False, "password_change_pending": False,
            "actions": [], "user": {"exists": True, "roles": ["AP Clerk"], "locked": False}}
    return {**base, **kw}


def outcome(**data):
    return sr.site_outcome({"mode": "provision", "site": SITE, "declared": DECLARED, **data})


def test_without_secrets_drops_only_the_password():
    assert sr.without_secrets([{"client_id": A, "password": "x", "branch": "HQ"}]) == [{"client_id": A, "branch": "HQ"}]
    assert sr.without_secrets(None) == []


def test_entities_to_connect_are_those_changed_disabled_or_not_connected():
    probe = [item(A, connection=conn(A)), item(B, changed=True, connection=conn(B)),
             item("c", connection=conn("c", code="InvalidCredentials")),
             item("d", connection=conn("d", code="Disabled", enabled=False)),
             {"item": {"client_id": "e"}, "skipped": True}]
    assert [e["client_id"] for e in sr.entities_to_connect(probe)] == [B, "c", "d"]


def test_a_no_change_run_is_ok():
    result = outcome(erp=erp(), probe=loop(item(A, connection=conn(A)), item(B, connection=conn(B))),
                     entities={"skipped": True, "results": []})
    assert result["status"] == "ok"
    assert result["reason"] == "API user OcerraAPI in sync; 2 of 2 entities Connected."
    assert result["entities"][A]["status"] == "Connected" and not result["entities"][A]["changed"]


def test_a_creation_is_changed_and_says_what_was_done():
    result = outcome(erp=erp(changed=True, password_updated=True, actions=["created", "password_set"]),
                     probe=loop(), entities=loop(item(A, changed=True, password_pushed=True, connection=conn(A)),
                                                 item(B, changed=True, password_pushed=True, connection=conn(B))))
    assert result["status"] == "changed"
    assert result["reason"] == ("ERP: created, password_set; Ocerra: password pushed to 2 entities; "
                                "2 of 2 entities Connected.")
    assert result["erp"]["password_updated"] is True


def test_check_mode_reasons_are_a_plan():
    result = outcome(check_mode=True, erp=erp(changed=True, password_updated=True, actions=["created"]),
                     entities=loop(item(A, changed=True, password_pushed=True, connection=conn(A, enabled=False))))
    assert result["status"] == "changed"
    assert result["reason"].startswith("Plan (check mode, nothing written): ERP: created; Ocerra: password would be")


def failure(result):
    return {"task": "x", "result": result}


def test_an_erp_failure_is_failed_with_nothing_half_done():
    bad = {"failed": True, "msg": "Licence type 'Full User (Full API)' has no free seat.", "error_kind": "licence_unavailable"}
    result = outcome(erp=bad, failure=failure(bad))
    assert result["status"] == "failed"
    assert result["reason"].startswith("The ERP step failed: Licence type 'Full User (Full API)' has no free seat. ")
    assert "Nothing was left half-done" in result["reason"]
    assert result["erp"]["error"].startswith("Licence type")


def test_a_failed_push_after_the_erp_reset_is_degraded_and_says_the_next_run_finishes_it():
    off = loop(item(A, changed=True, connection=conn(A, "Disabled", False)),
               item(B, changed=True, connection=conn(B, "Disabled", False)))
    on = loop(item(A, changed=True, password_pushed=True, connection=conn(A)),
              item(B, failed=True, changed=False, msg="Ocerra failed on PUT (HTTP 503)."), failed=True)
    data = dict(erp=erp(password_change_pending=True), erp_reset=erp(changed=True, password_updated=True,
                                                                    actions=["password_reset"]),
                entities=on, failure=failure(on))
    assert sr.rollback_items(dict(mode="provision", **data)) == []      # the password changed: no roll-back
    result = outcome(**data)
    assert result["status"] == "degraded"
    assert result["reason"] == ("The ERP password of OcerraAPI changed, but 1 entity could not be updated or "
                                "verified (%s); first error: Ocerra failed on PUT (HTTP 503). A later run finishes "
                                "it: it pushes the password to every entity that is not Connected." % B)
    assert result["entities"][A]["status"] == "Connected" and result["entities"][B]["error"]
    del off


@pytest.mark.parametrize("kind,rolled_back", [("password_rejected", True), ("unreachable", False),
                                              ("api_error", False)])
def test_a_failed_reset_rolls_back_only_when_the_password_is_known_unchanged(kind, rolled_back):
    off = loop(item(A, changed=True, connection=conn(A, "Disabled", False)), item(B, changed=False))
    reset = {"failed": True, "msg": "refused", "error_kind": kind}
    data = dict(mode="provision", erp=erp(password_change_pending=True), erp_reset=reset, entities=off,
                failure=failure(reset))
    assert sr.rollback_items(data) == ([{"client_id": A}] if rolled_back else [])
    if rolled_back:
        ok = outcome(**{**data, "rollback": loop(item(A, changed=True, connection=conn(A)))})
        assert ok["status"] == "failed" and "The 1 entity switched off were switched back on" in ok["reason"]
        stuck = outcome(**{**data, "rollback": loop(item(A, failed=True, msg="503"), failed=True)})
        assert stuck["status"] == "degraded" and "could not be switched back on (%s)" % A in stuck["reason"]
    else:
        result = outcome(**data)
        assert result["status"] == "degraded" and "stay off" in result["reason"]


def test_a_failure_while_switching_off_rolls_back_what_was_switched():
    off = loop(item(A, changed=True), item(B, failed=True, msg="HTTP 503"), failed=True)
    data = dict(mode="provision", erp=erp(password_change_pending=True), entities=off, failure=failure(off))
    assert sr.rollback_items(data) == [{"client_id": A}]
    result = outcome(**{**data, "rollback": loop(item(A, changed=True, connection=conn(A)))})
    assert result["status"] == "failed"
    assert result["reason"].startswith("Switching the entities off before the password change failed:")


def test_a_probe_failure_is_failed():
    probe = loop(item(A, failed=True, msg="No Ocerra client named 'Acme'."), failed=True)
    result = outcome(erp=erp(), probe=probe, failure=failure(probe))
    assert result["status"] == "failed"
    assert result["reason"].startswith("Reading the Ocerra entities failed: %s: No Ocerra client" % A)


def test_restore_findings_name_each_problem():
    user = {"exists": True, "locked": True, "force_password_change": True, "enabled": True,
            "password_never_expires": False}
    connections = [conn(A, "InvalidCredentials", name="Acme Live"), conn(B, "Disabled", False, "Acme Test"),
                   conn("ff", name="Legacy")]
    found = sr.restore_findings(user, connections, DECLARED)
    assert found == [
        "the API user is locked out",
        "the API user must change its password at next sign-in (as after the 2023.1.3 upgrade's reset)",
        "the API user's password expires",
        "Acme Live: status InvalidCredentials",
        "Acme Test: Enable Connection is off",
        "Legacy (ff) uses this site and login but is not in ocerra_entities: it is restored too; add it to "
        "the inventory",
    ]
    assert sr.restore_findings({"exists": False}, [], DECLARED)[:2] == [
        "the API user does not exist", "%s is not connected to this site and login in Ocerra" % A]
    assert sr.restore_entities(DECLARED, connections) == [{"client_id": A}, {"client_id": B}, {"client_id": "ff"}]


def test_a_restore_reports_what_was_found_and_done():
    result = sr.site_outcome({"mode": "restore", "site": SITE, "declared": DECLARED, "findings": ["x is wrong"],
                              "erp_reset": erp(changed=True, password_updated=True, actions=["unlocked", "password_reset"]),
                              "entities": loop(item(A, changed=True, password_pushed=True, connection=conn(A)),
                                               item(B, changed=True, password_pushed=True, connection=conn(B)))})
    assert result["status"] == "changed"
    assert result["reason"].startswith("Found: x is wrong. Done: Safe order: every entity switched off")
    assert "ERP: unlocked, password_reset" in result["reason"]


def test_observed_outcome_compares_with_the_inventory():
    data = {"site": SITE, "declared": DECLARED,
            "desired": {"roles": ["AP Clerk", "GL Clerk"], "roles_mode": "exact", "licence_type": "Full User (Full API)"},
            "read_erp": {"changed": False, "user": {"exists": True, "roles": ["AP Clerk", "Customizer"],
                                                    "licence_types": [], "enabled": True, "locked": False}},
            "read_entities": {"changed": False, "connections": [conn(A), conn(B)]}}
    result = sr.observed_outcome(data)
    assert result["status"] == "degraded"
    assert result["reason"].startswith("Found: roles missing: gl clerk; roles not in the inventory: customizer; "
                                       "licence type Full User (Full API) not assigned.")
    data["desired"] = {"roles": ["AP Clerk", "Customizer"], "licence_type": None}
    assert sr.observed_outcome(data)["status"] == "ok"
    data["read_erp"] = {"failed": True, "msg": "Signing in failed."}
    assert sr.observed_outcome(data)["status"] == "failed"


def test_endpoint_outcome():
    site = {"site": SITE}
    done = {"changed": True, "endpoint": "UserAdmin/1.0.0", "digest": "a" * 64, "published_digest": None}
    assert sr.endpoint_outcome({**site, "endpoint": done})["status"] == "changed"
    assert sr.endpoint_outcome({**site, "endpoint": done, "publish_allowed": False})["status"] == "failed"
    assert sr.endpoint_outcome({**site, "endpoint": {**done, "changed": False}})["status"] == "ok"
    bad = {"failed": True, "msg": "Customizer role missing."}
    assert sr.endpoint_outcome({**site, "endpoint": bad, "failure": failure(bad)})["reason"] == (
        "Publishing the User endpoint failed: Customizer role missing.")


def test_the_report_lists_every_host_and_a_host_without_outcome_is_failed():
    entry = {"status": "ok", "reason": "fine", "erp": {}, "entities": {}}
    report = sr.site_report({"a": {"toolkit_site": entry}, "b": {}}, ["a", "b"], "provision", False)
    assert report["sites"]["a"] == entry and report["sites"]["b"]["status"] == "failed"
    assert report["playbook"] == "provision" and report["check_mode"] is False
    assert report["generated"].endswith("Z")
    lines = sr.report_lines(report)
    assert lines[0].split() == ["a", "ok", "fine"] and lines[1].split()[:2] == ["b", "failed"]
    assert lines[2] == "2 site(s): 1 ok, 0 changed, 0 degraded, 1 failed"


def test_sites_site_ensure_finished_come_from_its_result_or_the_spool_not_a_stale_fact(monkeypatch):
    entry = {"status": "ok", "reason": "in sync", "erp": {}, "entities": {}}
    stale = {"status": "failed", "reason": "an earlier play", "erp": {}, "entities": {}}
    spooled = {"c": {**entry, "reason": "spooled"}}
    monkeypatch.setattr(sr.report_spool, "read", spooled.get)
    hostvars = {
        "a": {"toolkit_check": {"next": "done", "site": entry}, "toolkit_site": stale},
        "b": {"toolkit_check": {"next": "connect"}, "toolkit_site": entry},    # changed, then recorded
        "c": {"toolkit_check": {"next": "done", "status": "ok"}},               # entry in the spool
        "d": {"toolkit_check": {"next": "done", "status": "ok"}},               # nothing spooled: failed
    }
    report = sr.site_report(hostvars, ["a", "b", "c", "d"], registered="toolkit_check")
    assert {h: e["reason"] for h, e in report["sites"].items() if h != "d"} == {
        "a": "in sync", "b": "in sync", "c": "spooled"}
    assert report["sites"]["d"]["status"] == "failed"
    # Without `registered` (the other playbooks), only the fact counts.
    assert sr.site_report(hostvars, ["a"])["sites"]["a"] == stale
