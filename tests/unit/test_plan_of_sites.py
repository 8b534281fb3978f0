"""The plan (plugin_utils/plan.py) without a run: counts, the Markdown's size for a large fleet,
a saved plan's checks, and ./run plan's exit status (tools/pipeline.py)."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import plan
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    ENTITIES_OFF, ERP, Drifted, Record)
from tools.pipeline import CHANGES_PENDING, NO_CHANGE, UNFINISHED, plan_status


def entry(status, kinds=(), changes=()):
    return {"status": status, "reason": "why %s" % status, "erp": {}, "entities": {},
            "plan": {"kinds": list(kinds), "changes": list(changes), "read": {}}}


def fleet(n=200):
    sites = {"site%04d" % i: entry("ok") for i in range(n)}
    change = [{"object": "API user OcerraAPI", "before": {"first_name": "Ocerra"}, "after": {"first_name": "New"}}]
    sites["site0001"] = entry("changed", ["change"], change)
    sites["site0002"] = entry("changed", ["rotate"], [{"object": "entity Live", "before": {"password": "(stored)"},
                                                       "after": {"password": "(changed)"}}])
    sites["site0003"] = entry("failed", ["blocked"])
    return sites


def test_the_section_counts_every_kind_and_takes_the_plans_out_of_the_entries():
    sites = fleet()
    section = plan.section(sites)
    assert section["counts"] == {"sites": 200, "create": 0, "change": 1, "rotate": 1, "publish": 0, "blocked": 1,
                                 "failed": 0, "unchanged": 197}
    assert not any("plan" in e for e in sites.values())
    # An entry without a plan (a site that stopped before its outcome) counts as failed.
    assert plan.section({"x": {"status": "failed", "reason": "r"}})["counts"]["failed"] == 1


def test_the_markdown_of_200_sites_with_3_changes_is_short_and_lists_only_them():
    sites = fleet()
    report = {"sites": sites, "check_mode": True, "playbook": "provision", "generated": "now"}
    report["plan"] = plan.section(sites)
    text = plan.markdown(report)
    assert len(text.splitlines()) < 100
    assert text.count("### ") == 3 and "site0100" not in text
    assert "| API user OcerraAPI | first_name | Ocerra | New |" in text
    assert "1 to change, 1 to rotate, 0 to publish, 1 blocked, 0 failed, 197 unchanged" in text


def test_a_pipe_or_newline_in_a_value_does_not_break_the_table():
    sites = {"a": entry("changed", ["change"], [{"object": "entity x|y", "before": {"branch": "a\nb"},
                                                   "after": {"branch": "c|d"}}])}
    report = {"sites": sites, "check_mode": True, "plan": plan.section(sites)}
    row = [line for line in plan.markdown(report).splitlines() if line.startswith("| entity")][0]
    assert row == "| entity x\\|y | branch | a b | c\\|d |"


class _Site:
    host = "acme"
    erp = {"url": "u", "tenant": "t", "user": "admin", "password": "Admin-secret-1"}
    ocerra = {"url": "o", "username": "svc", "password": "Svc-secret-1"}
    user = {"login": "OcerraAPI", "password": "Api-secret-1", "roles": ["A"]}
    entities = [{"client_id": "c1"}]
    store = None


def record_read(first_name="Ocerra", branch="MAIN"):
    record = Record("provision", False, _Site())
    record.erp.read = {"exists": True, "first_name": first_name, "last_login": "now"}
    run = record.add_entity({"client_id": "c1"})
    run.seen({"client_id": "c1", "branch": branch, "enabled": True, "status": {"code": "Connected"}})
    return record


def test_a_saved_plan_holds_a_run_to_what_it_read_and_intended():
    saved = {"kinds": ["change"], "read": plan.read_digests(record_read())}
    assert "secret" not in repr(saved)
    plan.hold(saved, record_read(), ERP)                                   # nothing drifted
    later = record_read()
    later.erp.read["last_login"] = "later"                                 # a sign-in is not a drift
    plan.hold(saved, later, ERP)
    with pytest.raises(Drifted, match=r"changed since the saved plan was made \(API user: first_name; "
                                       r"entity c1: branch\)"):
        plan.hold(saved, record_read("Other", "BRANCH2"), ERP)
    with pytest.raises(Drifted, match="would change the API user's password"):
        plan.hold(saved, record_read(), ENTITIES_OFF)
    with pytest.raises(Drifted, match="not in the saved plan"):
        plan.hold(None, record_read(), ERP)
    with pytest.raises(Drifted, match="could not plan this site"):
        plan.hold({"kinds": ["blocked"], "read": {}}, record_read(), ERP)


def test_the_exit_status_of_a_plan():
    finished = {"status": "finished", "plan": {"counts": {"sites": 3, "unchanged": 3}}}
    assert plan_status(0, finished) == NO_CHANGE
    assert plan_status(0, {"status": "finished", "plan": {"counts": {"sites": 3, "unchanged": 2}}}) == CHANGES_PENDING
    assert plan_status(2, finished) == 2 and plan_status(4, None) == 4
    assert plan_status(0, {"status": "running"}) == UNFINISHED and plan_status(0, None) == UNFINISHED
    assert CHANGES_PENDING not in (0, 1, 2, 4, 8, 99, 250, 255)       # none of ansible-playbook's own
