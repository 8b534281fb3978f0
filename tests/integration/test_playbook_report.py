"""playbooks/report.yml (the state read with the info modules, no write) and
playbooks/publish_endpoint.yml (the explicit, digest-checked erp_endpoint run)."""
import pytest

from tests.integration.helpers import ENTITIES, OCERRA_LOGIN, SETTINGS_PATH

pytestmark = pytest.mark.integration


def test_report_reads_without_writing_and_names_what_is_wrong(sandbox, site):
    assert site.provision().rc == 0
    before = site.writes()
    run = site.play("report.yml")
    assert run.rc == 0, run
    assert site.writes() == before
    assert run.report["playbook"] == "report"
    assert run.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"}
    assert run.report["sites"]["acme"]["reason"] == "API user OcerraAPI in place; 3 of 3 entities Connected."
    acme = run.report["sites"]["acme"]
    assert acme["erp"]["user"]["roles"] and acme["erp"]["user"]["password_never_expires"] is True
    assert {k: v["status"] for k, v in acme["entities"].items()} == dict.fromkeys(ENTITIES["acme"], "Connected")

    # Drift: a role removed by hand on acme, charlie's API user locked out.
    site.patch_api_user("acme", roles=["AP Clerk", "AR Clerk", "CA Clerk", "GL Clerk", "TX Viewer", "FA Clerk"])
    site.patch_api_user("charlie", locked=True)
    before = site.writes()
    run = site.play("report.yml", "--check")
    assert run.rc != 0, run                              # degraded sites fail the play
    assert site.writes() == before
    assert run.statuses() == {"acme": "degraded", "bravo": "ok", "charlie": "degraded"}
    assert run.report["sites"]["acme"]["reason"].startswith("Found: roles missing: dr viewer.")
    assert run.report["sites"]["charlie"]["reason"].startswith("Found: the API user is locked out.")
    assert "playbooks/restore_connection.yml" in run.report["sites"]["charlie"]["reason"]


def test_report_of_a_site_that_cannot_be_read_is_failed(sandbox, site):
    assert site.provision().rc == 0
    sandbox.ocerra.faults.add("status", path="/odata/OtherClients", count=None, status=403)
    sandbox.ocerra.faults.add("status", path="/api/Client", count=None, status=403)
    run = site.play("report.yml")
    assert run.rc != 0
    assert set(run.statuses().values()) == {"failed"}
    assert run.report["sites"]["bravo"]["reason"].startswith("Could not read the site's state:")
    # Every site failed at its own task, and the report was still finished and printed.
    assert run.report["status"] == "finished"
    assert "bravo is failed: Could not read the site's state:" in run.stdout
    assert "Report every site" in run.stdout
    assert all(run.recap(host)["failed"] == 1 for host in ("acme", "bravo", "charlie"))


def assert_only_reads(site):
    """No write request: neither in the counters nor in the ERP's request log."""
    assert site.erp_write_requests() == []
    assert site.writes() == (0, 0)


def test_publish_endpoint_publishes_once_and_check_mode_writes_nothing(site):
    plan = site.play("publish_endpoint.yml", "--check", "--diff")
    assert plan.rc == 0, plan
    assert_only_reads(site)
    assert plan.statuses() == {"acme": "changed", "bravo": "changed", "charlie": "changed"}
    assert "would be published" in plan.report["sites"]["acme"]["reason"]

    run = site.play("publish_endpoint.yml", "-l", "acme,bravo")
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "changed"}
    assert run.report["sites"]["acme"]["reason"].startswith("UserAdmin/1.0.0 published (digest ")
    endpoints = {i["name"]: i["tenants"][0]["endpoints"] for i in site.sandbox.erp.state()["instances"]}
    assert "UserAdmin/1.0.0" in endpoints["acme"] and "UserAdmin/1.0.0" not in endpoints["charlie"]

    site.sandbox.erp.log.clear_entries()
    again = site.play("publish_endpoint.yml", "-l", "acme,bravo")
    assert again.statuses() == {"acme": "ok", "bravo": "ok"} and site.erp_write_requests() == []
    assert "already published with this release's digest" in again.report["sites"]["acme"]["reason"]


def test_publish_endpoint_where_publishing_is_not_allowed_only_checks(site):
    site.append("charlie", "erp_publish_endpoint: false\n")
    run = site.play("publish_endpoint.yml", "-l", "charlie")
    assert run.rc != 0, run
    assert_only_reads(site)
    assert run.statuses() == {"charlie": "failed"}
    assert "erp_publish_endpoint is false: install it by hand" in run.report["sites"]["charlie"]["reason"]


def test_an_entity_switched_off_by_hand_is_reconnected_by_provision(sandbox, site):
    import requests
    assert site.provision().rc == 0
    client = ENTITIES["charlie"][1]
    answer = requests.put(f"{sandbox.ocerra_url}{SETTINGS_PATH}", params={"clientId": client},
                          json={"enableConnection": False}, auth=(OCERRA_LOGIN, "NMg7j#0oxJ48%rsrrhU1A9"),
                          timeout=10)
    assert answer.status_code == 200
    sandbox.ocerra.log.clear_entries()
    run = site.provision("--forks", "1")     # one site at a time on Ocerra
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "changed"}
    charlie = run.report["sites"]["charlie"]["entities"]
    assert charlie[client]["password_pushed"] and charlie[client]["status"] == "Connected"
    assert not charlie[ENTITIES["charlie"][0]]["changed"]
    puts = [e for e in sandbox.ocerra.log.snapshot() if e["method"] == "PUT"]
    assert {e["query"]["clientId"] for e in puts} == {client}
