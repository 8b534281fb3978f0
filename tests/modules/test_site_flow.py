"""The site flow (plugins/plugin_utils/site_flow.py) against the in-process sandbox, without
Ansible: the steps it records, its request budget, its check mode, its sessions."""
import json

import pytest

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.flow_entities import FlowEntities
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_flow import SiteFlow
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_outcome import outcome
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_vars import Site
from tests.modules.erp_support import ADMIN_PW, API_PW, FULL, NEW_PW
from tests.modules.ocerra_support import SHARED, SVC, SVC_PW, assert_no_secret, oc  # noqa: F401


def site(oc, **over):
    variables = {"erp_url": f"{oc.sandbox.acumatica_url}/acme", "erp_tenant": "Company", "erp_admin_user": "admin",
                 "erp_admin_password": ADMIN_PW, "api_user_email": "ocerraapi@acme.example",
                 "api_user_roles": ["AP Clerk"], "api_user_licence_type": FULL, "api_user_password": API_PW,
                 "ocerra_url": oc.sandbox.ocerra_url, "ocerra_username": SVC, "ocerra_password": SVC_PW,
                 "ocerra_entities": [{"client_id": c} for c in SHARED], **over}
    return Site("acme", variables)


def run(oc, mode="provision", check=False, flow_options=None, **over):
    flow = SiteFlow(site(oc, **over), mode, check_mode=check, **(flow_options or {}))
    try:
        record = flow.run()
    finally:
        flow.close()
    entry = outcome(record)
    assert_no_secret(json.dumps(entry) + json.dumps(record.diffs) + json.dumps(record.warnings))
    return record, entry


def steps(record):
    return [(s.name, s.status) for s in record.steps]


def test_a_site_in_order_costs_five_erp_requests_and_the_listing_of_ocerras_entities(oc):
    """The entities are read in the listing of what the service user sees (made once per run
    and shared by every site; without a run around it, by the site itself): two requests for
    the list, one per entity it sees."""
    oc.clear_log()
    oc.sandbox.erp.log.clear()
    record, entry = run(oc)
    assert entry["status"] == "ok", entry
    assert steps(record) == [("read_entities", "done"), ("erp", "done")]
    visible = len(oc.sandbox.ocerra.state()["users"][0]["clients"])
    assert len(oc.sandbox.erp.log.snapshot()) == 5 and len(oc.log()) == 2 + visible
    assert oc.writes() == [] and oc.sandbox.erp.counters()["acme/Company"]["writes"] == 0


def test_a_password_change_is_planned_in_the_safe_order_and_check_mode_writes_nothing(oc):
    record, entry = run(oc, check=True, api_user_password=NEW_PW)
    assert steps(record) == [("read_entities", "done"), ("erp", "done"), ("entities_off", "done"),
                             ("erp_password", "done"), ("entities_on", "done")]
    assert oc.writes() == [] and oc.sandbox.erp.counters()["acme/Company"]["writes"] == 0
    assert entry["status"] == "changed" and entry["reason"].startswith("Plan (check mode, nothing written): Safe order")
    # One diff per entity switched off, then the ERP password and each entity's push.
    assert [d["after"].get("enabled") for d in record.diffs if "enabled" in d["after"]] == [False] * 3
    assert sum(1 for d in record.diffs if d["after"].get("password") == "(changed)") == 4


def test_an_entity_switched_off_by_hand_is_reconnected_alone_and_the_next_run_is_ok(oc):
    oc.sandbox.ocerra.put_settings(SVC, SHARED[1], {"enableConnection": False})
    oc.clear_log()
    record, entry = run(oc)
    assert steps(record) == [("read_entities", "done"), ("erp", "done"), ("entities_on", "done")]
    assert entry["status"] == "changed" and [k for k, e in entry["entities"].items() if e["password_pushed"]] == [
        SHARED[1]]
    assert {e[2] for e in oc.puts()} == {SHARED[1]}
    assert all(oc.settings(c)["status"]["code"] == "Connected" and oc.settings(c)["enableConnection"] for c in SHARED)
    assert run(oc)[1]["status"] == "ok"


def test_sessions_are_signed_out_when_a_step_breaks_unexpectedly(oc, monkeypatch):
    monkeypatch.setattr(FlowEntities, "needs_work", lambda self, run: 1 / 0)
    flow = SiteFlow(site(oc), "provision")
    with pytest.raises(ZeroDivisionError):
        flow.run()
    flow.close()
    oc.assert_erp_sessions_balanced()
    assert flow.record.step("erp").status == "done"


def test_an_unknown_flow_is_refused(oc):
    with pytest.raises(ValueError):
        SiteFlow(site(oc), "rotation")


def test_a_switch_off_applied_but_answered_5xx_is_read_back_and_switched_on_again(oc):
    """Every save of an entity goes through but answers 503 (a proxy after Ocerra): the switch-offs
    are retried, then read back (off), the change stops before the ERP, and the roll-back's
    switch-ons, also answered 503, are read back too: the report says what the entities hold."""
    oc.sandbox.ocerra.faults.add("status", path="/api/Acumatica/Settings", method="PUT", count=None, status=503,
                                 after=True)
    record, entry = run(oc, flow_options={"retry_timeout": 2}, api_user_password=NEW_PW)
    assert [s.name for s in record.steps][:3] == ["read_entities", "erp", "lock"]
    assert record.step("entities_off").status == "failed" and record.step("erp_password") is None
    assert all(oc.settings(c)["enableConnection"] for c in SHARED)            # switched back on, as read back
    assert entry["status"] == "failed", entry
    assert "HTTP 503" in entry["reason"] and "no entity is switched off" in entry["reason"]
    assert "The 3 entities switched off were switched back on" in entry["reason"]
    assert oc.sandbox.erp.counters()["acme/Company"]["writes"] == 0


def test_a_switch_off_whose_outcome_cannot_be_read_is_not_called_back_on(oc):
    """The saves go through but answer 503 and, from then on, Ocerra cannot be read either: the
    report does not claim the entities were switched back on; it says their state is not known."""
    ocerra = oc.sandbox.ocerra
    ocerra.faults.add("status", path="/api/Acumatica/Settings", method="PUT", count=None, status=503, after=True)
    put, get, saved = ocerra.put_settings, ocerra.get_settings, []

    def saving(*args, **kwargs):
        saved.append(1)
        return put(*args, **kwargs)

    def reading(*args, **kwargs):
        if saved:
            raise RuntimeError("Ocerra is down")
        return get(*args, **kwargs)

    ocerra.put_settings, ocerra.get_settings = saving, reading
    try:
        record, entry = run(oc, flow_options={"retry_timeout": 2}, api_user_password=NEW_PW)
    finally:
        ocerra.put_settings, ocerra.get_settings = put, get
    assert record.step("erp_password") is None and saved
    assert entry["status"] == "degraded", entry["reason"]
    assert "switched back on" not in entry["reason"] and "its state is not known" in entry["reason"]
