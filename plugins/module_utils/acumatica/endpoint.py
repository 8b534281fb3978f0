"""The toolkit's own contract endpoints for SM201010 (Users): rendered, and published.

Acumatica's Default endpoint has no User entity, so the toolkit ships its own in
customization projects, in two editions from one field table (user_fields.py):

- CORE, `UserAdmin/1.0.0` in project `OcerraUserAdmin`: every field but the MYOB ones. Every
  view it maps exists on plain Acumatica, so it is safe everywhere.
- MYOB, `UserAdminMyob/1.0.0` in project `OcerraUserAdminMyob`: the same plus the user's
  licence types. The view behind MYOB's License Types tab is a guess (reference §5.2) and a
  wrong mapping can fail a publish or break the tenant's contract API (reference, Fidelity
  second pass), so this edition is a project of its own, published only on MYOB sites (those
  whose inventory names a licence type), after the core one and checked, then taken back
  when the tenant's API no longer answers.

Each project renders as the XmlSerializer form Acumatica imports (namespace
entity/maintenance/5.31); its ZIP is built in memory and its digest kept in the project
description, so a site can be compared with this release without downloading anything else.
Module files travel through AnsiballZ, which ships only python module_utils, hence python
and not a data file.

`ensure_published()` installs a client's edition idempotently: each project is compared by
that digest (read back with getProject, because getPublished can list a project whose
content vanished); only a different or missing digest imports and publishes, and check mode
never publishes. View names marked "assumed" are open questions of the reference (§5.2,
§5.3): the first real tenant settles them, and a change here changes the digest, so sites
get republished.
"""
import hashlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile

from . import errors as ae
from .user_fields import CORE, MYOB, SCALARS, USER_VIEW, VERSION

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
DIGEST_RE = re.compile(r"\[sha256:([0-9a-f]{64})\]")


def fields_and_mappings(parent, fields, view):
    fields_el = ET.SubElement(parent, "Fields")
    for name, kind in fields:
        ET.SubElement(fields_el, "Field", name=name, type=kind)
    mappings = ET.SubElement(parent, "Mappings")
    for name, _kind in fields:
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=name), "To", object=view, field=name)
    return fields_el, mappings


def _entity_endpoint(edition):
    root = ET.Element("EntityEndpoint")
    endpoint = ET.SubElement(root, "Endpoint", xmlns=NAMESPACE, name=edition.endpoint, version=VERSION,
                             systemContractVersion="4")
    user = ET.SubElement(endpoint, "TopLevelEntity", name="User", screen=SCREEN)
    fields_el, mappings = fields_and_mappings(user, [(f.contract, f.kind) for f in SCALARS], USER_VIEW)
    for field in edition.details:
        ET.SubElement(fields_el, "Field", name=field.contract, type=f"{field.detail.entity}[]")
        ET.SubElement(ET.SubElement(mappings, "Mapping", field=field.contract), "To",
                      object=field.detail.view, field="")
    actions = ET.SubElement(user, "Actions")
    for name, view, params in ACTIONS:
        action = ET.SubElement(actions, "Action", name=name, mappedTo=name, isDefault="false")
        if params:
            fields_and_mappings(action, params, view)
    for field in edition.details:
        detail = ET.SubElement(endpoint, "Detail", name=field.detail.entity)
        fields_and_mappings(detail, field.detail.columns, field.detail.view)
    return root


def digest(edition=CORE):
    """sha256 of the endpoint definition: what the project description carries."""
    return hashlib.sha256(ET.tostring(_entity_endpoint(edition), encoding="utf-8")).hexdigest()


def description(edition=CORE):
    return (f"Ocerra toolkit: {edition.endpoint} {VERSION} endpoint for {SCREEN} (Users) "
            f"[sha256:{digest(edition)}]")


def project_xml(edition=CORE):
    """The project.xml text, byte for byte what customization/<endpoint>/project.xml holds."""
    root = ET.Element("Customization", level="", description=description(edition),
                      **{"product-version": PRODUCT_VERSION})
    root.append(_entity_endpoint(edition))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def project_zip(edition=CORE):
    """The customization package: a ZIP holding project.xml, identical bytes on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("project.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, project_xml(edition).encode("utf-8"))
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

class _Tenant:
    """The tenant's published projects and listed endpoints as a comparison sees them, each
    read at most once per ensure_published (both editions compare against the same reads; a
    publish checks its own result with a fresh listing)."""

    def __init__(self, client):
        self.client, self._published, self._listed = client, None, None

    def published(self):
        if self._published is None:
            self._published = {str(n).casefold() for n in self.client.published_projects()}
        return self._published

    def lists(self, edition):
        if self._listed is None:
            self._listed = self.client.endpoints()
        return (edition.endpoint, VERSION) in self._listed

    def installed_digest(self, edition):
        """The digest of the edition's published project in this tenant, or None."""
        if edition.project.casefold() not in self.published():
            return None
        content = self.client.get_project(edition.project)
        return digest_of_package(content) if content else None


def _outcome(edition, changed, have, log=()):
    return {"changed": changed, "project": edition.project, "endpoint": edition.name,
            "digest": digest(edition), "published_digest": have, "publish_log": list(log)}


def _ensure(client, tenant, edition, check_mode, missing):
    want, have = digest(edition), None
    if not missing:
        have = tenant.installed_digest(edition)
        if have == want and tenant.lists(edition):
            return _outcome(edition, False, have)
    if check_mode:
        return _outcome(edition, True, have)
    client.import_project(edition.project, description(edition), project_zip(edition))
    log = client.publish([edition.project])
    client.renew_session()      # the publish recycled the site: its sessions are gone
    if (edition.endpoint, VERSION) not in client.endpoints():
        raise ae.CustomizationFailed(
            f"{edition.project} was published on MYOB Acumatica {client.site}, but GET /entity does not list "
            f"{edition.name}. Check Web Service Endpoints (SM207060) in this tenant.", publish_log=log)
    return _outcome(edition, True, have, log)


def _ensure_myob(client, tenant, check_mode, missing):
    """The MYOB edition, after the core one: a publish that fails leaves the core as it was; a
    published edition after which the tenant's contract API fails is taken back."""
    try:
        outcome = _ensure(client, tenant, MYOB, check_mode, missing)
    except ae.CustomizationFailed as exc:
        raise ae.CustomizationFailed(
            f"The MYOB edition of the User endpoint ({MYOB.project}, which maps the user's licence types) could "
            f"not be published on MYOB Acumatica {client.site}; the core endpoint {CORE.name} is published and "
            f"unchanged. {exc.message} If this site is plain Acumatica (no licence types), remove "
            "api_user_licence_type (licence_types) from its inventory.", publish_log=exc.details.get("publish_log")) from exc
    if outcome["changed"] and not check_mode:
        problem = client.contract_api_problem(MYOB.entity_path)
        if problem:
            log = client.unpublish(MYOB.project)
            client.renew_session()
            raise ae.CustomizationFailed(
                f"After {MYOB.project} was published on MYOB Acumatica {client.site}, the tenant's contract API "
                f"failed ({problem}), so the project was unpublished again (the site's other customizations "
                "republished as they were). The mapping of MYOB's License Types tab does not fit this site: "
                "assign the licence type by hand in Users (SM201010) and remove api_user_licence_type "
                "(licence_types) from its inventory.", publish_log=outcome["publish_log"] + log)
    return outcome


def ensure_published(client, check_mode, *, missing=False):
    """Make the tenant serve the client's edition (the core one, and the MYOB one after it on
    a MYOB client) from this release's projects.

    `missing=True` (the caller just got a 404 from the endpoint) skips the comparisons and
    publishes. Returns the core edition's changed, project, endpoint, digest,
    published_digest (before) and publish_log; on a MYOB client, `myob` holds the same for
    the MYOB edition, and `changed` is true when either changed.
    """
    tenant = _Tenant(client)
    outcome = _ensure(client, tenant, CORE, check_mode, missing and not client.edition.myob)
    if client.edition.myob:
        outcome["myob"] = _ensure_myob(client, tenant, check_mode, missing)
        outcome["changed"] = outcome["changed"] or outcome["myob"]["changed"]
    return outcome
