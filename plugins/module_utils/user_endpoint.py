"""The toolkit's own contract endpoint for SM201010 (Users), as one field table.

Acumatica's Default endpoint has no User entity, so the toolkit ships `UserAdmin/1.0.0` in a
customization project. This table is the source of truth: it renders the project's
`project.xml` (the XmlSerializer form Acumatica imports, namespace entity/maintenance/5.31),
builds the ZIP in memory and gives the digest kept in the project description, so a site
can be compared with this release without downloading anything else. Module files travel
through AnsiballZ, which ships only python module_utils, hence python and not a data file.

View names marked "assumed" are open questions of the reference (§5.2, §5.3): the first
real tenant settles them, and a change here changes the digest, so sites get republished.
"""
import hashlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile

ENDPOINT = "UserAdmin"
VERSION = "1.0.0"
PROJECT = "OcerraUserAdmin"  # the Customization API refuses names with '-' or '_'
SCREEN = "SM201010"
NAMESPACE = "http://www.acumatica.com/entity/maintenance/5.31"
PRODUCT_VERSION = "22.200"  # the Customization REST API exists from 2022 R2
USER_VIEW = "UserList"

# (contract field, type); every scalar maps to the same-named DAC field of UserList.
USER_FIELDS = (
    ("Username", "StringValue"),
    ("FirstName", "StringValue"),
    ("LastName", "StringValue"),
    ("Email", "StringValue"),
    ("LoginTypeID", "StringValue"),
    ("IsApproved", "BooleanValue"),
    ("GeneratePassword", "BooleanValue"),
    ("Password", "StringValue"),
    ("PasswordNeverExpires", "BooleanValue"),
    ("PasswordChangeOnNextLogin", "BooleanValue"),
    ("AllowedSessions", "IntValue"),
    ("State", "StringValue"),
    ("LockedOutDate", "DateTimeValue"),
    ("FailedPasswordAttemptCount", "IntValue"),
    ("LastLoginDate", "DateTimeValue"),
)

# (collection field, detail entity, view, ((field, type), ...))
DETAILS = (
    ("Roles", "UserRole", "AllowedRoles", (("Rolename", "StringValue"), ("Selected", "BooleanValue"))),
    # MYOB only; the view name behind the License Types tab is assumed.
    ("LicenseTypes", "UserLicenseType", "LicenseTypes",
     (("LicenseType", "StringValue"), ("Selected", "BooleanValue"),
      ("Description", "StringValue"), ("Available", "IntValue"))),
)

# (action, parameter view, ((parameter, type), ...)); the parameter view is assumed.
ACTIONS = (
    ("ResetPasswordOK", USER_VIEW, (("NewPassword", "StringValue"), ("ConfirmPassword", "StringValue"))),
    ("UnlockLogin", None, ()),
    ("EnableLogin", None, ()),
    ("DisableLogin", None, ()),
)

ENTITY_PATH = f"entity/{ENDPOINT}/{VERSION}/User"
DIGEST_RE = re.compile(r"\[sha256:([0-9a-f]{64})\]")


def _fields_and_mappings(parent, fields, view):
    fields_el = ET.SubElement(parent, "Fields")
    for name, kind in fields:
        ET.SubElement(fields_el, "Field", name=name, type=kind)
    mappings = ET.SubElement(parent, "Mappings")
    for name, _kind in fields:
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=name), "To", object=view, field=name)
    return fields_el, mappings


def _entity_endpoint():
    root = ET.Element("EntityEndpoint")
    endpoint = ET.SubElement(root, "Endpoint", xmlns=NAMESPACE, name=ENDPOINT, version=VERSION,
                             systemContractVersion="4")
    user = ET.SubElement(endpoint, "TopLevelEntity", name="User", screen=SCREEN)
    fields_el, mappings = _fields_and_mappings(user, USER_FIELDS, USER_VIEW)
    for collection, detail, view, _ in DETAILS:
        ET.SubElement(fields_el, "Field", name=collection, type=f"{detail}[]")
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=collection), "To", object=view, field="")
    actions = ET.SubElement(user, "Actions")
    for name, view, params in ACTIONS:
        action = ET.SubElement(actions, "Action", name=name, mappedTo=name, isDefault="false")
        if params:
            _fields_and_mappings(action, params, view)
    for _, detail, view, fields in DETAILS:
        _fields_and_mappings(ET.SubElement(endpoint, "Detail", name=detail), fields, view)
    return root


def digest():
    """sha256 of the endpoint definition: what the project description carries."""
    return hashlib.sha256(ET.tostring(_entity_endpoint(), encoding="utf-8")).hexdigest()


def description():
    return f"Ocerra toolkit: {ENDPOINT} {VERSION} endpoint for {SCREEN} (Users) [sha256:{digest()}]"


def project_xml():
    """The project.xml text, byte for byte what customization/UserAdmin/project.xml holds."""
    root = ET.Element("Customization", level="", description=description(),
                      **{"product-version": PRODUCT_VERSION})
    root.append(_entity_endpoint())
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def project_zip():
    """The customization package: a ZIP holding project.xml, identical bytes on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("project.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, project_xml().encode("utf-8"))
    return buffer.getvalue()


def digest_of_package(content):
    """The digest in a package's project.xml description, or None when absent or unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            name = next(n for n in archive.namelist() if n.lower().endswith("project.xml"))
            text = ET.fromstring(archive.read(name)).get("description") or ""
    except (zipfile.BadZipFile, StopIteration, ET.ParseError, KeyError):
        return None
    found = DIGEST_RE.search(text)
    return found.group(1) if found else None
