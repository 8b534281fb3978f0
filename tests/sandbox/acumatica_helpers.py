"""Seeds, a customization project fixture and a small cookie client for the fake Acumatica
tests. The project XML here is the tests' own, shaped like the toolkit's UserAdmin project."""
import base64
import copy
import io
import xml.etree.ElementTree as ET
import zipfile

import requests

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.endpoint import fields_and_mappings

ADMIN_PW = "Admin-Password-2024"
API_PW = "Api-Password-2024x"
NEW_PW = "Brand-New-Password-9"
CANARY = "Canary-Secret-777zz"
FULL = "Full User (Full API)"
LIMITED = "Limited API"             # one seat: the seat-counting tests use it
NS = "http://www.acumatica.com/entity/maintenance/5.31"
USER_FIELDS = [("Username", "StringValue"), ("FirstName", "StringValue"),
               ("LastName", "StringValue"), ("Email", "StringValue"),
               ("LoginTypeID", "StringValue"), ("IsApproved", "BooleanValue"),
               ("GeneratePassword", "BooleanValue"), ("Password", "StringValue"),
               ("PasswordNeverExpires", "BooleanValue"),
               ("PasswordChangeOnNextLogin", "BooleanValue"), ("AllowedSessions", "IntValue"),
               ("State", "StringValue"), ("LockedOutDate", "DateTimeValue"),
               ("FailedPasswordAttemptCount", "IntValue"), ("LastLoginDate", "DateTimeValue"),
               ("LastPasswordChangedDate", "DateTimeValue")]
ACTIONS = ("UnlockLogin", "EnableLogin", "DisableLogin")


def user(username, password=API_PW, **extra):
    return {"username": username, "password": password, "email": f"{username}@example.com",
            "user_type": "API User", "roles": ["AP Clerk"], "licence_types": [FULL], **extra}


def site_seed(users=(), flavour="myob", installed=False, switches=None, licence=None,
              security=None, tenants=("Company",)):
    """One instance `acme` with the given tenants; each holds `admin` (Administrator,
    Customizer) and OcerraAPI (API User) plus `users`."""
    tenant_list = []
    myob = flavour == "myob"          # licence types exist only there
    for name in tenants:
        tenant_list.append({
            "name": name,
            "security": {"min_length": 14, "complexity": "myob_union", **(security or {})},
            "user_types": [
                {"name": "Admin", "allowed": "R", "max_sessions": 5,
                 "roles": ["Administrator", "Customizer", "AP Clerk"]},
                {"name": "API User", "allowed": "A", "roles": ["AP Clerk", "AR Clerk"]},
                {"name": "UI Only", "allowed": "U", "roles": ["AP Clerk"]}],
            "licence_types": [{"name": FULL, "available": 20},
                              {"name": LIMITED, "available": 1},
                              {"name": "Self Service User", "available": None}] if myob else [],
            "user_endpoint_installed": installed,
            "users": [{**u, "licence_types": u["licence_types"] if myob else []} for u in (
                user("admin", ADMIN_PW, user_type="Admin", roles=["Administrator", "Customizer"]),
                user("OcerraAPI"), *copy.deepcopy(list(users)))]})
    return {"acumatica": {"switches": switches or {}, "instances": [{
        "name": "acme", "flavour": flavour,
        "licence": licence or {"max_api_users": 5},
        "tenants": tenant_list}]}}


def project_xml(fields=USER_FIELDS, namespace=NS, description="tests [sha256:abc]",
                endpoint="UserAdmin", version="1.0.0") -> bytes:
    root = ET.Element("Customization", level="", description=description)
    node = ET.SubElement(ET.SubElement(root, "EntityEndpoint"), "Endpoint", xmlns=namespace,
                         name=endpoint, version=version, systemContractVersion="4")
    entity = ET.SubElement(node, "TopLevelEntity", name="User", screen="SM201010")
    holder, mappings = fields_and_mappings(entity, fields, "UserList")
    for field, detail, view in (("Roles", "UserRole", "AllowedRoles"),
                                ("LicenseTypes", "UserLicenseType", "LicenseTypes")):
        ET.SubElement(holder, "Field", name=field, type=f"{detail}[]")
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=field), "To", object=view, field="")
    actions = ET.SubElement(entity, "Actions")
    reset = ET.SubElement(actions, "Action", name="ResetPasswordOK", mappedTo="ResetPasswordOK")
    fields_and_mappings(reset, [("NewPassword", "StringValue"), ("ConfirmPassword", "StringValue")],
            "UserList")
    for name in ACTIONS:
        ET.SubElement(actions, "Action", name=name, mappedTo=name)
    fields_and_mappings(ET.SubElement(node, "Detail", name="UserRole"),
            [("Rolename", "StringValue"), ("Selected", "BooleanValue")], "AllowedRoles")
    fields_and_mappings(ET.SubElement(node, "Detail", name="UserLicenseType"),
            [("LicenseType", "StringValue"), ("Selected", "BooleanValue"),
             ("Description", "StringValue"), ("Available", "IntValue")], "LicenseTypes")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def project_b64(xml=None) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.xml", xml if xml is not None else project_xml())
    return base64.b64encode(buffer.getvalue()).decode()


class Client:
    """A plain requests session on one site: cookies kept in the session's jar."""

    def __init__(self, sandbox, instance="acme", endpoint="UserAdmin"):
        self.base = f"{sandbox.acumatica_url}/{instance}"
        self.http = requests.Session()
        self.user_path = f"entity/{endpoint}/1.0.0/User"     # UserAdminMyob maps licence types

    def login(self, name="admin", password=ADMIN_PW, tenant="Company", **extra):
        body = {"name": name, "password": password, "tenant": tenant, **extra}
        return self.http.post(f"{self.base}/entity/auth/login", json=body, timeout=10,
                              allow_redirects=False)

    def logout(self):
        return self.http.post(f"{self.base}/entity/auth/logout", timeout=10)

    def url(self, path):
        return f"{self.base}/{path.lstrip('/')}"

    def get(self, path, **kw):
        return self.http.get(self.url(path), timeout=10, **kw)

    def put(self, path, body, **kw):
        return self.http.put(self.url(path), json=body, timeout=10, **kw)

    def post(self, path, body=None, **kw):
        return self.http.post(self.url(path), json=body, timeout=10, **kw)

    def users(self, path="", **kw):
        return self.get(f"{self.user_path}{path}", **kw)

    def put_user(self, body, **kw):
        return self.put(self.user_path, body, **kw)

    def action(self, name, username, **params):
        body = {"entity": {"Username": {"value": username}},
                "parameters": {k: {"value": v} for k, v in params.items()}}
        return self.post(f"{self.user_path}/{name}", body)

    def customization(self, method, body=None):
        return self.post(f"CustomizationApi/{method}", body or {})


def admin(sandbox, endpoint="UserAdmin", **login):
    client = Client(sandbox, endpoint=endpoint)
    answer = client.login(**login)
    assert answer.status_code == 204, answer.text
    return client


def wrap(**fields):
    return {k: {"value": v} for k, v in fields.items()}
