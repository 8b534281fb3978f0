"""The User endpoint's customization project: rendered from the field table, faithful to §10."""
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint as ue

NS = "{http://www.acumatica.com/entity/maintenance/5.31}"
COMMITTED = Path(__file__).resolve().parents[2] / "customization" / "UserAdmin" / "project.xml"


def parsed():
    return ET.fromstring(ue.project_xml().encode())


def test_committed_copy_equals_rendering():
    assert COMMITTED.read_text(encoding="utf-8") == ue.project_xml(), \
        "regenerate customization/UserAdmin/project.xml (see its README)"


def test_root_and_endpoint_identity():
    root = parsed()
    assert root.tag == "Customization" and root.get("level") == ""
    assert f"[sha256:{ue.digest()}]" in root.get("description")
    endpoint = root.find(f"EntityEndpoint/{NS}Endpoint")
    assert (endpoint.get("name"), endpoint.get("version"), endpoint.get("systemContractVersion")) == \
        ("UserAdmin", "1.0.0", "4")


def test_user_entity_fields_mappings_and_actions():
    user = parsed().find(f"EntityEndpoint/{NS}Endpoint/{NS}TopLevelEntity")
    assert (user.get("name"), user.get("screen")) == ("User", "SM201010")
    fields = {f.get("name"): f.get("type") for f in user.findall(f"{NS}Fields/{NS}Field")}
    assert list(fields) == ["Username", "FirstName", "LastName", "Email", "LoginTypeID", "IsApproved",
                            "GeneratePassword", "Password", "PasswordNeverExpires",
                            "PasswordChangeOnNextLogin", "AllowedSessions", "State", "LockedOutDate",
                            "FailedPasswordAttemptCount", "LastLoginDate", "LastPasswordChangedDate", "Roles",
                            "LicenseTypes"]
    assert fields["Roles"] == "UserRole[]" and fields["LicenseTypes"] == "UserLicenseType[]"
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


def test_detail_entities():
    endpoint = parsed().find(f"EntityEndpoint/{NS}Endpoint")
    details = {d.get("name"): [f.get("name") for f in d.findall(f"{NS}Fields/{NS}Field")]
               for d in endpoint.findall(f"{NS}Detail")}
    assert details == {"UserRole": ["Rolename", "Selected"],
                       "UserLicenseType": ["LicenseType", "Selected", "Description", "Available"]}


def test_zip_is_deterministic_and_carries_the_digest():
    content = ue.project_zip()
    assert content == ue.project_zip()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["project.xml"]
        assert archive.read("project.xml").decode() == ue.project_xml()
    assert ue.digest_of_package(content) == ue.digest()


def test_digest_of_foreign_or_broken_packages_is_none():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.xml", '<Customization description="someone else"/>')
    assert ue.digest_of_package(buffer.getvalue()) is None
    assert ue.digest_of_package(b"not a zip") is None


def test_project_name_is_alphanumeric():
    assert ue.PROJECT.isalnum()
