"""The toolkit's own contract endpoint for SM201010 (Users): rendered, and published.

Acumatica's Default endpoint has no User entity, so the toolkit ships `UserAdmin/1.0.0` in a
customization project. The User's field table (user_fields.py) and the actions below render
the project's `project.xml` (the XmlSerializer form Acumatica imports, namespace
entity/maintenance/5.31); the ZIP is built in memory and its digest is kept in the project
description, so a site can be compared with this release without downloading anything else.
Module files travel through AnsiballZ, which ships only python module_utils, hence python
and not a data file.

`ensure_published()` installs it on a tenant idempotently: the published project is compared
by that digest (read back with getProject, because getPublished can list a project whose
content vanished); only a different or missing digest imports and publishes, and check mode
never publishes.

View names marked "assumed" are open questions of the reference (§5.2, §5.3): the first
real tenant settles them, and a change here changes the digest, so sites get republished.
"""
import hashlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile

from . import errors as ae
from .user_fields import DETAILS, SCALARS, USER_VIEW

ENDPOINT = "UserAdmin"
VERSION = "1.0.0"
PROJECT = "OcerraUserAdmin"  # the Customization API refuses names with '-' or '_'
SCREEN = "SM201010"
NAMESPACE = "http://www.acumatica.com/entity/maintenance/5.31"
PRODUCT_VERSION = "22.200"  # the Customization REST API exists from 2022 R2

# (action, parameter view, ((parameter, type), ...)); the parameter view is assumed.
ACTIONS = (
    ("ResetPasswordOK", USER_VIEW, (("NewPassword", "StringValue"), ("ConfirmPassword", "StringValue"))),
    ("UnlockLogin", None, ()),
    ("EnableLogin", None, ()),
    ("DisableLogin", None, ()),
    ("ActivateLogin", None, ()),
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
    fields_el, mappings = _fields_and_mappings(user, [(f.contract, f.kind) for f in SCALARS], USER_VIEW)
    for field in DETAILS:
        ET.SubElement(fields_el, "Field", name=field.contract, type=f"{field.detail.entity}[]")
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=field.contract), "To",
                      object=field.detail.view, field="")
    actions = ET.SubElement(user, "Actions")
    for name, view, params in ACTIONS:
        action = ET.SubElement(actions, "Action", name=name, mappedTo=name, isDefault="false")
        if params:
            _fields_and_mappings(action, params, view)
    for field in DETAILS:
        _fields_and_mappings(ET.SubElement(endpoint, "Detail", name=field.detail.entity), field.detail.columns,
                             field.detail.view)
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


# -- installing it on a tenant ---------------------------------------------------------------

def installed_digest(client):
    """The digest of the published OcerraUserAdmin project in this tenant, or None."""
    names = {str(n).casefold() for n in client.published_projects()}
    if PROJECT.casefold() not in names:
        return None
    content = client.get_project(PROJECT)
    return digest_of_package(content) if content else None


def endpoint_listed(client):
    return (ENDPOINT, VERSION) in client.endpoints()


def ensure_published(client, check_mode, *, missing=False):
    """Make the tenant serve UserAdmin/1.0.0 from this release's project.

    `missing=True` (the caller just got a 404 from the endpoint) skips the comparison and
    publishes. Returns changed, digest, published_digest (before) and publish_log.
    """
    want = digest()
    have = None
    if not missing:
        have = installed_digest(client)
        if have == want and endpoint_listed(client):
            return {"changed": False, "digest": want, "published_digest": have, "publish_log": []}
    if check_mode:
        return {"changed": True, "digest": want, "published_digest": have, "publish_log": []}
    client.import_project(PROJECT, description(), project_zip())
    log = client.publish([PROJECT])
    client.renew_session()      # the publish recycled the site: its sessions are gone
    if not endpoint_listed(client):
        raise ae.CustomizationFailed(
            f"{PROJECT} was published on MYOB Acumatica {client.site}, but GET /entity does not list "
            f"{ENDPOINT}/{VERSION}. Check Web Service Endpoints (SM207060) in this tenant.",
            publish_log=log)
    return {"changed": True, "digest": want, "published_digest": have, "publish_log": log}
