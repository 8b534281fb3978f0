"""The Customization Web API (§10) installing UserAdmin/1.0.0, and its swagger."""
import base64
import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
import requests

from sandbox.acumatica import state
from tests.sandbox.acumatica_helpers import (API_PW, USER_FIELDS, Client, admin, project_b64,
                                             project_xml, site_seed, wrap)

USERS = "entity/UserAdmin/1.0.0/User"


# These tests follow a publish that recycles the application (its sessions end): the switch's
# other value, where they survive, is the default and test_sessions_survive_a_publish_by_default's.
RECYCLES = {"publish_ends_sessions": True}


@pytest.fixture
def seed():
    return site_seed(tenants=("Company", "Second"), switches=RECYCLES)


def errors(answer):
    assert answer.status_code == 200, answer.text
    return [e["message"] for e in answer.json()["log"] if e["logType"] == "error"]


def do_import(client, name="UserAdmin", xml=None, **extra):
    body = {"projectName": name, "projectDescription": "digest [sha256:123]",
            "projectLevel": 0, "isReplaceIfExists": True,
            "projectContentBase64": project_b64(xml), **extra}
    return client.customization("import", body)


def publish(client, *names, polls=3, **extra):
    begin = client.customization("publishBegin", {
        "isMergeWithExistingPackages": True, "isOnlyValidation": False,
        "projectNames": list(names or ["UserAdmin"]), "tenantMode": "Current", **extra})
    assert errors(begin) == []
    results = [client.customization("publishEnd").json() for _ in range(polls)]
    assert [r["isCompleted"] for r in results] == [False] * (polls - 1) + [True]
    if not results[-1]["isFailed"] and not errors_in(results[-1]):
        signed_in_again(client)
    return results[-1]


def errors_in(result):
    return [e for e in result["log"] if e["logType"] == "error"]


def signed_in_again(client):
    """A publish recycles the application: the session is gone; sign in again, as a client must."""
    assert client.users().status_code == 401
    assert client.login().status_code == 204


def endpoints(client):
    return {(e["name"], e["version"]) for e in client.get("entity").json()["endpoints"]}


def test_endpoint_unknown_until_imported_and_published(sandbox):
    client = admin(sandbox)
    assert client.users().status_code == 404
    assert client.get("entity/UserAdmin/1.0.0/swagger.json").status_code == 404
    assert ("UserAdmin", "1.0.0") not in endpoints(client)
    imported = do_import(client)
    assert errors(imported) == []
    assert any("UserAdmin" in e["message"] for e in imported.json()["log"])
    assert client.users().status_code == 404               # imported is not published
    result = publish(client)
    assert result["isFailed"] is False and result["log"][0]["logType"] == "information"
    assert ("UserAdmin", "1.0.0") in endpoints(client)
    assert client.users(params={"$top": "1"}).status_code == 200
    published = client.customization("getPublished").json()
    assert published["projects"] == [{"name": "UserAdmin"}]
    assert {"key": "UserAdmin/1.0.0", "screenId": None, "type": "EntityEndpoint"} in \
        published["items"]


def test_method_names_are_case_insensitive(sandbox):
    client = admin(sandbox)
    assert errors(do_import(client)) == []
    assert errors(client.customization("PublishBegin", {"projectNames": ["UserAdmin"]})) == []
    assert [client.customization(m).json()["isCompleted"]
            for m in ("PUBLISHEND", "publishend", "PublishEnd")] == [False, False, True]
    signed_in_again(client)
    assert client.customization("nonsense").status_code == 404


def test_needs_a_session_and_the_customizer_role(sandbox):
    assert Client(sandbox).customization("getPublished").status_code == 401
    client = Client(sandbox)
    assert client.login("OcerraAPI", API_PW).status_code == 204
    answer = client.customization("getPublished")
    assert answer.status_code == 403
    assert "Customization Projects (SM204505)" in answer.json()["exceptionMessage"]


@pytest.mark.parametrize("name", ["User-Admin", "User_Admin", ""])
def test_project_names_must_be_alphanumeric(sandbox, name):
    answer = do_import(admin(sandbox), name)
    assert answer.status_code == 500
    assert answer.json()["exceptionMessage"] == "Invalid project name"


def test_wrong_namespace_is_unknown_root_node_in_band(sandbox):
    client = admin(sandbox)
    answer = do_import(client, xml=project_xml(namespace="http://www.acumatica.com/entity/x"))
    assert errors(answer) == ["Unknown root node"]
    assert errors(client.customization("getProject", {"projectName": "UserAdmin"})) == \
        ["The project is not found: UserAdmin"]


@pytest.mark.parametrize("xml,fragment", [
    (project_xml(fields=USER_FIELDS + [("Nickname", "StringValue")]), "Nickname"),
    (project_xml(fields=[("Username", "IntValue")]), "Username"),
    (b"not xml", "not well-formed")])
def test_projects_the_screen_cannot_serve_are_refused(sandbox, xml, fragment):
    assert any(fragment in e for e in errors(do_import(admin(sandbox), xml=xml)))


def test_bad_package_content_is_an_in_band_error(sandbox):
    client = admin(sandbox)
    assert errors(do_import(client, projectContentBase64="%%%"))
    not_zip = base64.b64encode(b"plain").decode()
    assert errors(do_import(client, projectContentBase64=not_zip))


def test_get_published_without_projects_has_no_projects_key(sandbox):
    assert "projects" not in admin(sandbox).customization("getPublished").json()


def test_only_the_changing_methods_count_as_writes(sandbox):
    client = admin(sandbox)
    client.customization("getPublished")
    client.customization("getProject", {"projectName": "UserAdmin"})
    assert sandbox.erp.counters()["acme/Company"].get("writes", 0) == 0
    do_import(client)
    assert sandbox.erp.counters()["acme/Company"]["writes"] == 1


def test_get_project_returns_the_package_with_the_stored_description(sandbox):
    client = admin(sandbox)
    do_import(client)
    answer = client.customization("getProject", {"projectName": "UserAdmin",
                                                  "IsAutoResolveConflicts": False})
    assert errors(answer) == [] and answer.json()["hasConflicts"] is False
    package = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer.json()["projectContentBase64"])))
    root = ET.fromstring(package.read("project.xml"))
    assert root.get("description") == "digest [sha256:123]"


def test_replace_only_when_asked_and_import_without_content_removes(sandbox):
    client = admin(sandbox)
    do_import(client)
    assert errors(do_import(client, isReplaceIfExists=False)) == \
        ["The project UserAdmin already exists."]
    assert errors(client.customization("import", {"projectName": "UserAdmin"})) == []
    assert errors(client.customization("getProject", {"projectName": "UserAdmin"}))


@pytest.mark.parametrize("outcome,is_failed", [("failed", True), ("inband_error", False)])
def test_publish_outcomes_that_install_nothing(sandbox, outcome, is_failed):
    sandbox.erp.set_switches({"customization": {"publish_outcome": outcome}})
    client = admin(sandbox)
    do_import(client)
    result = publish(client)
    assert result["isFailed"] is is_failed
    assert [e for e in result["log"] if e["logType"] == "error"]
    assert client.users().status_code == 404


def test_lock_conflict_switch_and_a_real_concurrent_publication(sandbox):
    client = admin(sandbox)
    do_import(client)
    sandbox.erp.set_switches({"customization": {"publish_outcome": "lock_conflict"}})
    assert errors(client.customization("publishBegin", {"projectNames": ["UserAdmin"]}))
    sandbox.erp.set_switches({"customization": {"publish_outcome": "ok"}})
    assert errors(client.customization("publishBegin", {"projectNames": ["UserAdmin"]})) == []
    other = admin(sandbox, tenant="Second")
    do_import(other)
    assert errors(other.customization("publishBegin", {"projectNames": ["UserAdmin"]})) == \
        ["Another publication is in progress. Try again when it has finished."]


def test_publish_end_with_nothing_started(sandbox):
    answer = admin(sandbox).customization("publishEnd").json()
    assert answer["isCompleted"] and answer["isFailed"]


def test_restart_drops_connections_while_polling(sandbox):
    sandbox.erp.set_switches({"customization": {"restart_drops": 2, "publish_polls": 1}})
    client = admin(sandbox)
    do_import(client)
    client.customization("publishBegin", {"projectNames": ["UserAdmin"]})
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            client.customization("publishEnd")
    assert client.customization("publishEnd").json()["isCompleted"] is True
    signed_in_again(client)
    assert client.users().status_code == 200
    assert [e["status"] for e in sandbox.erp.log.snapshot()
            if e["path"].endswith("publishEnd")] == ["dropped", "dropped", 200]


def test_publication_is_per_tenant_unless_all(sandbox):
    client = admin(sandbox)
    do_import(client)
    publish(client)
    assert admin(sandbox, tenant="Second").users().status_code == 404
    assert errors(client.customization("unpublishAll", {"tenantMode": "Current"})) == []
    assert client.users().status_code == 404
    publish(client, tenantMode="All")
    second = admin(sandbox, tenant="Second")            # the recycle ended its earlier session
    assert second.users().status_code == 200
    # The project itself stays stored in the tenant that imported it.
    assert errors(second.customization("getProject", {"projectName": "UserAdmin"}))


def test_merge_false_unpublishes_the_other_projects(sandbox):
    client = admin(sandbox)
    do_import(client)
    do_import(client, "Other", xml=project_xml(endpoint="Other", version="2.0"))
    publish(client, "UserAdmin", "Other")
    assert {"UserAdmin", "Other"} == {n for n, _ in endpoints(client)} - {"Default"}
    publish(client, "Other", isMergeWithExistingPackages=False)
    assert client.users().status_code == 404
    assert [p["name"] for p in client.customization("getPublished").json()["projects"]] == ["Other"]


def test_delete_only_unpublished_projects(sandbox):
    client = admin(sandbox)
    do_import(client)
    publish(client)
    assert errors(client.customization("delete", {"projectName": "UserAdmin"})) == \
        ["The project UserAdmin is published and cannot be deleted."]
    client.customization("unpublishAll", {"tenantMode": "All"})
    assert errors(client.customization("delete", {"projectName": "UserAdmin"})) == []
    assert errors(client.customization("delete", {"projectName": "UserAdmin"})) == \
        ["The project is not found: UserAdmin"]


def test_only_mapped_fields_exist(sandbox):
    client = admin(sandbox)
    fields = [f for f in USER_FIELDS if f[0] != "FirstName"]
    do_import(client, xml=project_xml(fields=fields))
    publish(client)
    assert client.users(params={"$select": "FirstName"}).status_code == 500
    assert client.put_user(wrap(Username="OcerraAPI", FirstName="X")).status_code == 500
    assert "FirstName" not in client.users("/OcerraAPI").json()


def test_swagger_of_the_published_endpoint_is_openapi_3_on_24_200(sandbox):
    client = admin(sandbox)
    do_import(client)
    publish(client)
    doc = client.get("entity/UserAdmin/1.0.0/swagger.json").json()
    assert doc["openapi"] == "3.0.1" and doc["info"]["version"] == "4"
    assert doc["servers"] == [{"url": f"{sandbox.acumatica_url}/acme/entity/UserAdmin/1.0.0"}]
    assert {"/User", "/User/{id}", "/User/{ids}", "/User/$adHocSchema", "/User/{ids}/files/{filename}",
            "/User/ResetPasswordOK", "/User/UnlockLogin"} <= set(doc["paths"])
    assert set(doc["paths"]["/User"]) == {"get", "put"}
    get_list = doc["paths"]["/User"]["get"]
    assert get_list["operationId"] == "User_GetList"
    assert {"$ref": "#/components/parameters/filter"} in get_list["parameters"]
    assert doc["components"]["parameters"]["filter"] == {
        "name": "$filter", "in": "query", "required": False, "schema": {"type": "string"}}
    action = doc["paths"]["/User/ResetPasswordOK"]["post"]
    assert action["operationId"] == "User_InvokeAction_ResetPasswordOK"
    assert action["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ResetPasswordOK"}
    schemas = doc["components"]["schemas"]
    user_props = schemas["User"]["allOf"][1]["properties"]
    assert user_props["Roles"] == {"type": "array", "items": {"$ref": "#/components/schemas/UserRole"}}
    assert {"_links", "files"} <= set(schemas["Entity"]["properties"])
    refs = _refs(doc)
    assert refs and refs <= {f"#/components/schemas/{d}" for d in schemas} | {
        f"#/components/parameters/{p}" for p in doc["components"]["parameters"]}
    default = client.get("entity/Default/24.200.001/swagger.json").json()
    assert "/Vendor" in default["paths"] and "/User" not in default["paths"]
    auth = client.get("entity/swagger.json").json()
    assert auth["openapi"] == "3.0.1" and {"/auth/login", "/auth/logout", "/"} <= set(auth["paths"])


@pytest.mark.parametrize("build,flavour,v3", [("23.200.0100", "acumatica", False), ("23.200.0100", "myob", True),
                                              ("22.200.0050", "myob", False), ("25.100.0001", "acumatica", True)])
def test_the_swagger_format_follows_the_instance_s_build(sandbox, build, flavour, v3):
    seed = site_seed(installed=True, flavour=flavour)
    seed["acumatica"]["instances"][0]["build"] = build
    sandbox.reset(seed=seed)
    client = admin(sandbox)
    assert client.get("entity").json()["version"]["acumaticaBuildVersion"] == build
    doc = client.get("entity/UserAdmin/1.0.0/swagger.json").json()
    if v3:
        assert doc["openapi"] == "3.0.1" and "definitions" not in doc
        return
    assert doc["swagger"] == "2.0" and doc["basePath"] == "/acme/entity/UserAdmin/1.0.0"
    assert doc["paths"]["/User/{id}"]["get"]["operationId"] == "User_GetById"
    body = doc["paths"]["/User"]["put"]["parameters"][-1]
    assert body["in"] == "body" and body["schema"] == {"$ref": "#/definitions/User"}
    refs = _refs(doc)
    assert refs <= {f"#/definitions/{d}" for d in doc["definitions"]} | {
        f"#/parameters/{p}" for p in doc["parameters"]}


def _refs(node):
    if isinstance(node, dict):
        own = {node["$ref"]} if "$ref" in node else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


@pytest.mark.parametrize("flavour,projects", [
    ("myob", {"OcerraUserAdmin": "UserAdmin", "OcerraUserAdminMyob": "UserAdminMyob"}),
    ("acumatica", {"OcerraUserAdmin": "UserAdmin"})])
def test_seeded_installation_is_the_toolkit_s_projects_for_the_flavour(sandbox, flavour, projects):
    sandbox.reset(seed=site_seed(installed=True, flavour=flavour))
    client = admin(sandbox)
    published = client.customization("getPublished").json()
    assert published["projects"] == [{"name": n} for n in projects]
    for name, folder in projects.items():
        assert client.get(f"entity/{folder}/1.0.0/User/OcerraAPI").status_code == 200
        content = client.customization("getProject", {"projectName": name})
        package = zipfile.ZipFile(io.BytesIO(base64.b64decode(content.json()["projectContentBase64"])))
        source = state.REPO / "customization" / folder / "project.xml"
        assert ET.fromstring(package.read("project.xml")).get("description") == \
            ET.fromstring(source.read_bytes()).get("description")


def test_plain_acumatica_fails_to_publish_an_endpoint_mapping_licence_types(sandbox):
    sandbox.reset(seed=site_seed(flavour="acumatica"))
    client = admin(sandbox)
    assert errors(do_import(client)) == []            # the tests' project maps LicenseTypes
    result = publish(client)
    assert result["isFailed"] is True
    assert [e["message"] for e in errors_in(result)] == [
        "The view LicenseTypes of the screen SM201010 cannot be found in the graph PX.SM.AccessUsers."]
    assert ("UserAdmin", "1.0.0") not in endpoints(client)
    assert client.get("entity/Default/24.200.001/Vendor").status_code == 200    # nothing broken


def test_plain_acumatica_with_breaks_api_publishes_it_and_every_contract_call_fails(sandbox):
    sandbox.reset(seed=site_seed(flavour="acumatica", installed=True,
                                 switches={"licence_view_on_acumatica": "breaks_api", **RECYCLES}))
    client = admin(sandbox)
    assert client.users("/OcerraAPI").status_code == 200        # the core edition: fine
    assert errors(do_import(client, name="WithLicences", xml=project_xml(endpoint="Licences"))) == []
    assert publish(client, "WithLicences")["isFailed"] is False
    for path in ("entity/UserAdmin/1.0.0/User/OcerraAPI", "entity/Default/24.200.001/Vendor"):
        broken = client.get(path)
        assert broken.status_code == 500
        assert broken.json()["exceptionType"] == "System.NullReferenceException"
    assert ("Licences", "1.0.0") in endpoints(client)             # GET /entity still lists
    # Taken back (the other projects republished on their own): the tenant answers again.
    kept = publish(client, "OcerraUserAdmin", isMergeWithExistingPackages=False)
    assert kept["isFailed"] is False
    assert client.users("/OcerraAPI").status_code == 200


def test_a_publish_recycles_the_application_and_ends_every_session_of_the_instance(sandbox):
    client, other = admin(sandbox), admin(sandbox, tenant="Second")
    do_import(client)
    begin = client.customization("publishBegin", {"projectNames": ["UserAdmin"]})
    assert errors(begin) == []
    assert [client.customization("publishEnd").json()["isCompleted"] for _ in range(3)][-1] is True
    for ended in (client, other):
        assert ended.users().status_code == 401
    counters = sandbox.erp.counters()
    assert counters["acme/Company"]["sessions_expired"] == 1 and counters["acme/Second"]["sessions_expired"] == 1
    # GET /entity answers without a session too, listing the system endpoints only.
    listed = client.get("entity")
    assert listed.status_code == 200
    assert {(e["name"], e["version"]) for e in listed.json()["endpoints"]} == {("Default", "24.200.001")}
    assert client.login().status_code == 204 and ("UserAdmin", "1.0.0") in endpoints(client)


def test_sessions_survive_a_publish_by_default(sandbox):
    sandbox.erp.set_switches({"publish_ends_sessions": False})
    client = admin(sandbox)
    do_import(client)
    client.customization("publishBegin", {"projectNames": ["UserAdmin"]})
    assert [client.customization("publishEnd").json()["isCompleted"] for _ in range(3)][-1] is True
    assert client.users(params={"$top": "1"}).status_code == 200
