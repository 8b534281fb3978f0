"""The User endpoint's customization projects, core and MYOB: rendered from the field table,
faithful to §10."""
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint as ue
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user_fields import EDITIONS

NS = "{http://www.acumatica.com/entity/maintenance/5.31}"
CUSTOMIZATION = Path(__file__).resolve().parents[2] / "customization"
CORE_FIELDS = ["Username", "FirstName", "LastName", "Email", "LoginTypeID", "IsApproved",
               "GeneratePassword", "Password", "PasswordNeverExpires", "PasswordChangeOnNextLogin",
               "AllowedSessions", "State", "LockedOutDate", "FailedPasswordAttemptCount", "LastLoginDate",
               "LastPasswordChangedDate", "Roles"]


def parsed(edition=ue.CORE):
    return ET.fromstring(ue.project_xml(edition).encode())


@pytest.mark.parametrize("edition", EDITIONS, ids=lambda e: e.endpoint)
def test_committed_copy_equals_rendering(edition):
    committed = CUSTOMIZATION / edition.endpoint / "project.xml"
    assert committed.read_text(encoding="utf-8") == ue.project_xml(edition), \
        f"regenerate customization/{edition.endpoint}/project.xml (see customization/UserAdmin/README.md)"


@pytest.mark.parametrize("edition,name", [(ue.CORE, "UserAdmin"), (ue.MYOB, "UserAdminMyob")])
def test_root_and_endpoint_identity(edition, name):
    root = parsed(edition)
    assert root.tag == "Customization" and root.get("level") == ""
    assert f"[sha256:{ue.digest(edition)}]" in root.get("description")
    endpoint = root.find(f"EntityEndpoint/{NS}Endpoint")
    assert (endpoint.get("name"), endpoint.get("version"), endpoint.get("systemContractVersion")) == \
        (name, "1.0.0", "4")
    assert edition.project.isalnum()          # the Customization API refuses '-' and '_'


def fields_of(edition):
    user = parsed(edition).find(f"EntityEndpoint/{NS}Endpoint/{NS}TopLevelEntity")
    assert (user.get("name"), user.get("screen")) == ("User", "SM201010")
    return user, {f.get("name"): f.get("type") for f in user.findall(f"{NS}Fields/{NS}Field")}


def test_user_entity_fields_mappings_and_actions():
    user, fields = fields_of(ue.CORE)
    assert list(fields) == CORE_FIELDS
    assert fields["Roles"] == "UserRole[]"
    assert fields["IsApproved"] == "BooleanValue" and fields["AllowedSessions"] == "IntValue"
    maps = {m.get("field"): (m[0].get("object"), m[0].get("field"))
            for m in user.findall(f"{NS}Mappings/{NS}Mapping")}
    assert set(maps) == set(fields)
    assert maps["Username"] == ("UserList", "Username") and maps["Roles"] == ("AllowedRoles", "")
    actions = {a.get("name"): a for a in user.findall(f"{NS}Actions/{NS}Action")}
    assert list(actions) == ["ResetPasswordOK", "UnlockLogin", "EnableLogin", "DisableLogin", "ActivateLogin"]
    params = [f.get("name") for f in actions["ResetPasswordOK"].findall(f"{NS}Fields/{NS}Field")]
    assert params == ["NewPassword", "ConfirmPassword"]
    assert all(a.get("mappedTo") == n and a.get("isDefault") == "false" for n, a in actions.items())


def test_the_core_edition_maps_no_myob_view_and_the_myob_one_adds_only_licences():
    core_xml, myob_xml = ue.project_xml(ue.CORE), ue.project_xml(ue.MYOB)
    assert "LicenseType" not in core_xml       # safe on plain Acumatica, whatever MYOB's view is
    assert "LicenseType" in myob_xml
    _, myob_fields = fields_of(ue.MYOB)
    assert list(myob_fields) == CORE_FIELDS + ["LicenseTypes"]
    assert myob_fields["LicenseTypes"] == "UserLicenseType[]"
    assert ue.CORE.expand == {"$expand": "Roles"} and ue.MYOB.expand == {"$expand": "Roles,LicenseTypes"}
    assert ue.digest(ue.CORE) != ue.digest(ue.MYOB)


@pytest.mark.parametrize("edition,details", [
    (ue.CORE, {"UserRole": ["Rolename", "Selected"]}),
    (ue.MYOB, {"UserRole": ["Rolename", "Selected"],
               "UserLicenseType": ["LicenseType", "Selected", "Description", "Available"]})])
def test_detail_entities(edition, details):
    endpoint = parsed(edition).find(f"EntityEndpoint/{NS}Endpoint")
    assert {d.get("name"): [f.get("name") for f in d.findall(f"{NS}Fields/{NS}Field")]
            for d in endpoint.findall(f"{NS}Detail")} == details


@pytest.mark.parametrize("edition", EDITIONS, ids=lambda e: e.endpoint)
def test_zip_is_deterministic_and_carries_the_digest(edition):
    content = ue.project_zip(edition)
    assert content == ue.project_zip(edition)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["project.xml"]
        assert archive.read("project.xml").decode() == ue.project_xml(edition)
    assert ue.digest_of_package(content) == ue.digest(edition)


def test_digest_of_foreign_or_broken_packages_is_none():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.xml", '<Customization description="someone else"/>')
    assert ue.digest_of_package(buffer.getvalue()) is None
    assert ue.digest_of_package(b"not a zip") is None
