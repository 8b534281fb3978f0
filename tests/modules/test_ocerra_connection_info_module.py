"""ocerra_connection_info run in-process against the sandbox."""
import pytest

from tests.modules.ocerra_support import BETA, NEW, SHARED, oc  # noqa: F401


@pytest.mark.parametrize("selection", ["query_param", "switch_call"])
def test_lists_every_readable_entity_without_passwords(oc, selection):
    oc.switch(client_selection=selection)
    result = oc.run("ocerra_connection_info", **oc.args())
    names = [c["client_name"] for c in result["connections"]]
    assert names == ["Acme Live", "Acme New", "Acme Test", "Acme Two"]
    live = result["connections"][0]
    assert live["erp_url"] == f"{oc.sandbox.acumatica_url}/acme" and live["login"] == "OcerraAPI"
    assert live["has_password"] and live["enabled"] and live["status"]["code"] == "Connected"
    assert all("password" not in c for c in result["connections"])
    assert [u["client_id"] for u in result["unreadable"]] == [BETA]
    assert "could not be read (no accountant role): Beta" in str(result["warnings"])
    assert not result["changed"] and oc.puts() == [] and oc.tests() == []


def test_filters_find_every_entity_of_a_site_and_login(oc):
    found = oc.run("ocerra_connection_info", **oc.args(
        erp_url=f"{oc.sandbox.acumatica_url.upper()}/acme/", tenant="company", login="ocerraapi"))
    assert sorted(c["client_id"] for c in found["connections"]) == sorted(SHARED)
    none = oc.run("ocerra_connection_info", **oc.args(login="SomeoneElse"))
    assert none["connections"] == []


def test_check_mode_reads_only_and_costs_two_plus_one_per_client(oc):
    result = oc.run("ocerra_connection_info", check=True, **oc.args())
    assert len(result["connections"]) == 4 and oc.writes() == []
    assert len(oc.log()) == 2 + 5
    assert NEW in {c["client_id"] for c in result["connections"]}
