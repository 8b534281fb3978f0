"""erp_endpoint in-process against the sandbox: publish once, then leave it alone."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint as ue
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from tests.modules.erp_support import ADMIN_PW, api_user

FAST = {"customization": {"publish_polls": 1}}


def customization_calls(erp):
    return [e["path"].rsplit("/", 1)[-1] for e in erp.requests() if "/CustomizationApi/" in e["path"]]


def test_publishes_once_then_is_unchanged_in_five_requests(erp):
    erp.seed(installed=False, switches=FAST)
    first = erp.run("erp_endpoint", poll_interval=1)
    assert first["changed"] and first["digest"] == ue.digest() and first["published_digest"] is None
    assert first["endpoint"] == "UserAdmin/1.0.0" and first["project"] == "OcerraUserAdmin"
    assert customization_calls(erp) == ["getPublished", "import", "publishBegin", "publishEnd"]
    assert "Website updated." in " ".join(first["publish_log"])
    erp.clear_log()
    second = erp.run("erp_endpoint")
    assert not second["changed"] and second["published_digest"] == ue.digest()
    assert customization_calls(erp) == ["getPublished", "getProject"]
    assert erp.counters()["requests"] == 5


def test_check_mode_never_publishes(erp):
    erp.seed(installed=False)
    result = erp.run("erp_endpoint", check=True)
    assert result["changed"] and result["diff"]["after"] == {"UserAdmin/1.0.0": ue.digest()}
    assert customization_calls(erp) == ["getPublished"]
    assert erp.sandbox.erp.state()["instances"][0]["tenants"][0]["published"] == []


def test_a_project_at_another_digest_is_republished(erp, sandbox):
    erp.seed(switches=FAST)
    client = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW, poll_interval=1)
    try:
        client.import_project(ue.CORE.project, "older release [sha256:" + "0" * 64 + "]", ue.project_zip())
        client.publish([ue.CORE.project])
    finally:
        client.close()
    erp.clear_log()
    result = erp.run("erp_endpoint")
    assert result["changed"] and result["published_digest"] == "0" * 64
    assert customization_calls(erp) == ["getPublished", "getProject", "import", "publishBegin", "publishEnd"]
    assert not erp.run("erp_endpoint")["changed"]


@pytest.mark.parametrize("outcome,text", [("failed", "Publishing failed"),
                                          ("inband_error", "finished with errors"),
                                          ("lock_conflict", "Another publication is in progress")])
def test_publish_failures_report_the_log(erp, outcome, text):
    erp.seed(installed=False, switches={"customization": {"publish_polls": 1, "publish_outcome": outcome}})
    result = erp.run("erp_endpoint")
    assert result["failed"] and result["error_kind"] == "customization_failed"
    assert text in result["msg"] and any(text in line for line in result["publish_log"])


def test_connections_dropped_by_the_restart_are_tolerated(erp):
    erp.seed(installed=False, switches={"customization": {"publish_polls": 2, "restart_drops": 2}})
    result = erp.run("erp_endpoint", poll_interval=1)
    assert result["changed"] and not result.get("failed")
    assert sum(e["status"] == "dropped" for e in erp.requests()) == 2


def test_admin_without_the_customizer_role_is_told_so(erp):
    erp.seed(installed=False)
    erp.sandbox.erp.upsert_user("acme", "Company", {"username": "admin", "roles": ["Administrator"]})
    result = erp.run("erp_endpoint")
    assert result["failed"] and result["error_kind"] == "insufficient_rights"
    assert "SM204505" in result["msg"] and "Customizer" in result["msg"]


def test_poll_interval_below_one_second_is_refused(erp):
    erp.seed()
    assert erp.run("erp_endpoint", poll_interval=0)["failed"] and erp.requests() == []


def test_publish_merges_with_the_sites_other_projects_in_the_current_tenant(erp):
    erp.seed(installed=False, switches=FAST)
    erp.run("erp_endpoint")
    begin = next(e["body"] for e in erp.requests() if e["path"].endswith("/publishBegin"))
    assert begin["isMergeWithExistingPackages"] is True and begin["tenantMode"] == "Current"
    assert begin["projectNames"] == ["OcerraUserAdmin"]
    imported = next(e["body"] for e in erp.requests() if e["path"].endswith("/import"))
    assert imported["isReplaceIfExists"] is True and ue.digest() in imported["projectDescription"]


# ---- the MYOB edition (licence types): a project of its own, after the core one ---------------

def published(erp):
    return sorted(erp.sandbox.erp.state()["instances"][0]["tenants"][0]["published"])


def partner_project(erp, sandbox):
    """A customization of the site's own (an endpoint named PartnerApi), published."""
    xml = ue.project_xml(ue.CORE).replace('name="UserAdmin"', 'name="PartnerApi"').replace(
        "Ocerra toolkit", "Partner")
    client = AcumaticaClient(f"{sandbox.acumatica_url}/acme", "Company", "admin", ADMIN_PW, poll_interval=1)
    try:
        client.import_project("PartnerProject", "the partner's", _zip(xml))
        client.publish(["PartnerProject"])
    finally:
        client.close()
    erp.clear_log()


def _zip(xml):
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.xml", xml)
    return buffer.getvalue()


def test_myob_publishes_the_core_then_the_myob_edition_each_once(erp):
    erp.seed(installed=False, switches=FAST)
    first = erp.run("erp_endpoint", myob=True, poll_interval=1)
    assert first["changed"] and first["endpoint"] == "UserAdmin/1.0.0"
    assert first["myob"]["changed"] and first["myob"]["endpoint"] == "UserAdminMyob/1.0.0"
    assert first["myob"]["digest"] == ue.digest(ue.MYOB)
    begins = [e["body"]["projectNames"] for e in erp.requests() if e["path"].endswith("/publishBegin")]
    assert begins == [["OcerraUserAdmin"], ["OcerraUserAdminMyob"]]     # two publications, core first
    assert published(erp) == ["OcerraUserAdmin", "OcerraUserAdminMyob"]
    erp.clear_log()
    again = erp.run("erp_endpoint", myob=True)
    assert not again["changed"] and not again["myob"]["changed"]
    assert customization_calls(erp) == ["getPublished", "getProject", "getProject"]     # one listing of each
    assert sum(e["path"] == "/acme/entity" for e in erp.requests()) == 1


def test_without_myob_the_licence_edition_is_never_published(erp):
    erp.seed(installed=False, switches=FAST)
    result = erp.run("erp_endpoint", poll_interval=1)
    assert "myob" not in result and published(erp) == ["OcerraUserAdmin"]


def test_on_plain_acumatica_the_myob_edition_fails_to_publish_and_the_core_stays(erp, sandbox):
    erp.seed(api_user(), installed=False, flavour="acumatica", switches=FAST)
    result = erp.run("erp_endpoint", myob=True, poll_interval=1)
    assert result["failed"] and result["error_kind"] == "customization_failed"
    assert "the core endpoint UserAdmin/1.0.0 is published and unchanged" in result["msg"]
    assert "remove api_user_licence_type" in result["msg"]
    assert any("cannot be found in the graph" in line for line in result["publish_log"])
    assert published(erp) == ["OcerraUserAdmin"]
    assert erp.run("erp_user_info")["user"]["login"] == "OcerraAPI"     # the core still answers


def test_a_myob_edition_that_breaks_the_api_is_unpublished_and_the_rest_republished(erp, sandbox):
    erp.seed(api_user(), installed=False, flavour="acumatica",
             switches={**FAST, "licence_view_on_acumatica": "breaks_api"})
    partner_project(erp, sandbox)
    result = erp.run("erp_endpoint", myob=True, poll_interval=1)
    assert result["failed"] and "was unpublished again" in result["msg"]
    assert "Object reference not set" in result["msg"]
    assert published(erp) == ["OcerraUserAdmin", "PartnerProject"]    # the partner's kept
    last = [e["body"] for e in erp.requests() if e["path"].endswith("/publishBegin")][-1]
    assert last["isMergeWithExistingPackages"] is False
    assert sorted(last["projectNames"]) == ["OcerraUserAdmin", "PartnerProject"]
    info = erp.run("erp_user_info")
    assert not info.get("failed") and info["user"]["licence_types"] is None
