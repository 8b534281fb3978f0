"""An unmodified third-party Acumatica client that builds itself from the swagger document
(easy-acumatica: models and services from /entity/{endpoint}/{version}/swagger.json) signs in
to the fake, reads every entity of an endpoint and signs out."""
import pytest
from easy_acumatica import AcumaticaClient

from tests.sandbox.acumatica_helpers import ADMIN_PW, site_seed


@pytest.fixture
def seed():
    return site_seed(installed=True)


@pytest.mark.parametrize("endpoint,version,entities", [
    ("UserAdmin", "1.0.0", {"user"}),
    ("UserAdminMyob", "1.0.0", {"user"}),
    ("Default", "24.200.001", {"vendor", "customer"})])
def test_easy_acumatica_signs_in_reads_every_entity_and_signs_out(sandbox, tmp_path, endpoint, version,
                                                                  entities):
    client = AcumaticaClient(base_url=f"{sandbox.acumatica_url}/acme", username="admin", password=ADMIN_PW,
                             tenant="Company", endpoint_name=endpoint, endpoint_version=version,
                             auto_load_env=False, cache_methods=False, cache_dir=tmp_path, timeout=10)
    try:
        read = {}
        for name in entities:
            read[name] = getattr(client, name).get_list()
        if endpoint.startswith("UserAdmin"):
            users = {r["Username"]["value"] for r in read["user"]}
            assert users == {"admin", "OcerraAPI"}
            one = client.user.get_by_keys(Username="OcerraAPI")
            assert one["Username"]["value"] == "OcerraAPI" and one["_links"]["self"].endswith(one["id"])
        else:
            assert read == {"vendor": [], "customer": []}
    finally:
        assert client.logout() == 204
    counters = sandbox.erp.counters()["acme/Company"]
    assert counters["signins"] == counters["signouts"] == 1 and counters["sessions_open"] == 0
