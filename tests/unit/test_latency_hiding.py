"""What hides the services' latency (issue 16), seen by the fakes as requests in flight at once
rather than timed: the listing of every Ocerra entity reads settings on LISTING_WORKERS
threads (one at a time when a client must be switched to); a probe's sign-out overlaps the
admin's; the site flow reads the ERP while the run's listing is made."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import PROBE_OK, AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import LISTING_WORKERS, OcerraClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import find_connections
from bench import gen
from tests.modules.erp_support import ADMIN_PW, API_PW, SITE, api_user, erp_seed

SITES = gen.make_sites(24, 2)
OCERRA_PW = "Listing-Canary-Pw-5Xq!"


def listing_seed(selection):
    seed = gen.make_seed(SITES, OCERRA_PW)
    seed["ocerra"]["switches"] = {"client_selection": selection}
    return seed


@pytest.mark.parametrize("selection, concurrent", [("query_param", True), ("switch_call", False)])
def test_the_listing_reads_settings_at_once_only_when_each_request_names_its_client(sandbox, selection,
                                                                                     concurrent):
    sandbox.reset(seed=listing_seed(selection))
    sandbox.ocerra.faults.add("latency", path="/api/Acumatica/Settings", count=None, seconds=0.05)
    client = OcerraClient(sandbox.ocerra_url, gen.OCERRA_LOGIN, OCERRA_PW)
    try:
        connections, unreadable = find_connections(client, {})
    finally:
        client.close()
    assert len(connections) == 48 and unreadable == []
    peak = sandbox.ocerra.log.peak_in_flight
    assert (peak >= min(LISTING_WORKERS, 8)) if concurrent else peak == 1, peak
    assert client.selection == selection     # found by the listing: the next steps rely on it


def test_a_probes_sign_out_overlaps_the_admins_and_ends_before_close_returns(sandbox):
    sandbox.reset(seed=erp_seed(api_user()))
    sandbox.erp.faults.add("latency", path="/auth/logout$", count=None, seconds=0.3)
    c = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW)
    c.ensure_signed_in()
    assert c.probe_signin("OcerraAPI", API_PW) == PROBE_OK
    c.close()
    counts = sandbox.erp.counters()[SITE]
    assert sandbox.erp.log.peak_in_flight == 2       # the two sign-outs, answered together
    assert counts["signins"] == counts["signouts"] == 2 and counts["sessions_open"] == 0


def test_a_second_probe_waits_for_the_first_ones_sign_out(sandbox):
    """MYOB allows one session per user by default: the next sign-in as the API user (a probe,
    or Ocerra's test after settle()) comes after the previous probe's sign-out."""
    sandbox.reset(seed=erp_seed(api_user(allowed_sessions=1)))
    sandbox.erp.faults.add("latency", path="/auth/logout$", count=1, seconds=0.3)
    c = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW)
    assert c.probe_signin("OcerraAPI", API_PW) == PROBE_OK
    assert c.probe_signin("OcerraAPI", API_PW) == PROBE_OK    # not refused for the login limit
    c.close()
    assert sandbox.erp.counters()[SITE]["users"]["OcerraAPI"]["signouts"] == 2
    logins = [e["status"] for e in sandbox.erp.log.snapshot() if e["path"].endswith("/auth/login")]
    assert logins == [204, 204]     # the second never met the first's session (no login limit)
