"""Contract endpoints: parsed from a customization project ZIP (§10), rendered as swagger.

A project is a ZIP holding `project.xml`: `<Customization description=...>` with
`<EntityEndpoint><Endpoint xmlns=".../entity/maintenance/5.31" name version>`, whose
`TopLevelEntity` and `Detail` elements declare `<Fields>` and map them in `<Mappings>`; only
fields that are both declared and mapped are exposed. Entities of screen SM201010 are
checked against what the fake knows of that screen (USERS), since the fake serves their data.
"""
import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from . import texts

NAMESPACE = "http://www.acumatica.com/entity/maintenance/5.31"
VALUE_TYPES = {"StringValue": ("string", None), "BooleanValue": ("boolean", None),
               "IntValue": ("integer", "int32"), "ShortValue": ("integer", "int16"),
               "LongValue": ("integer", "int64"), "DecimalValue": ("number", "double"),
               "DoubleValue": ("number", "double"), "DateTimeValue": ("string", "date-time"),
               "GuidValue": ("string", "uuid")}

USER_SCREEN = "SM201010"
LICENCE_VIEW = "LicenseTypes"           # MYOB only
# What the fake knows of SM201010 (graph PX.SM.AccessUsers), by DAC field (§5.1, §5.2).
USERS = {
    "UserList": {"Username": "StringValue", "FirstName": "StringValue", "LastName": "StringValue",
                 "Email": "StringValue", "LoginTypeID": "StringValue",
                 "IsApproved": "BooleanValue", "GeneratePassword": "BooleanValue",
                 "Password": "StringValue", "PasswordNeverExpires": "BooleanValue",
                 "PasswordChangeOnNextLogin": "BooleanValue", "AllowedSessions": "IntValue",
                 "State": "StringValue", "LockedOutDate": "DateTimeValue",
                 "FailedPasswordAttemptCount": "IntValue", "LastLoginDate": "DateTimeValue",
                 "LastPasswordChangedDate": "DateTimeValue"},
    "AllowedRoles": {"Rolename": "StringValue", "Selected": "BooleanValue"},
    # The view behind MYOB's License Types tab is unknown (§5.2, A); plain Acumatica has none.
    LICENCE_VIEW: {"LicenseType": "StringValue", "Selected": "BooleanValue",
                     "Description": "StringValue", "Available": "IntValue"},
}
USER_ACTIONS = {"ResetPasswordOK": ("NewPassword", "ConfirmPassword"), "UnlockLogin": (),
                "EnableLogin": (), "DisableLogin": (), "ActivateLogin": ()}


class ProjectError(ValueError):
    """A project the Customization API refuses; the text goes into an error log entry."""


@dataclass(frozen=True)
class Field:
    name: str     # contract name
    type: str     # a VALUE_TYPES key, or "Detail[]"
    view: str     # the data view it maps to
    source: str   # the DAC field ("" for a detail collection)

    @property
    def detail(self):
        return self.type[:-2] if self.type.endswith("[]") else None


@dataclass(frozen=True)
class Action:
    name: str
    mapped_to: str
    parameters: dict


@dataclass
class Entity:
    name: str
    screen: str | None           # None for a detail
    fields: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)

    def contract(self, source):
        """The contract name of the scalar mapped to DAC field `source`, if exposed."""
        return next((f.name for f in self.fields.values() if not f.detail and f.source == source),
                    None)


@dataclass
class Endpoint:
    name: str
    version: str
    entities: dict                # top-level entities by name
    details: dict                 # detail entities by name


@dataclass
class Project:
    description: str
    endpoints: list
    xml: bytes


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _fields(element, ns, where) -> dict:
    declared = {f.get("name"): f.get("type") for f in element.findall(f"{ns}Fields/{ns}Field")}
    exposed = {}
    for mapping in element.findall(f"{ns}Mappings/{ns}Mapping"):
        name, to = mapping.get("field"), mapping.find(f"{ns}To")
        if name not in declared:
            raise ProjectError(f"{where}: the mapping of '{name}' has no field declaration.")
        if to is None or not to.get("object"):
            raise ProjectError(f"{where}: the mapping of '{name}' has no target object.")
        exposed[name] = Field(name, declared[name], to.get("object"), to.get("field") or "")
    return exposed


def _entity(element, ns, screen) -> Entity:
    name = element.get("name")
    if not name:
        raise ProjectError("An entity has no name.")
    actions = {}
    for action in element.findall(f"{ns}Actions/{ns}Action"):
        act = action.get("name")
        actions[act] = Action(act, action.get("mappedTo") or act,
                              _fields(action, ns, f"{name}.{act}"))
    return Entity(name, screen, _fields(element, ns, name), actions)


def _check_types(endpoint: Endpoint):
    for entity in [*endpoint.entities.values(), *endpoint.details.values()]:
        for f in entity.fields.values():
            if f.detail and f.detail not in endpoint.details:
                raise ProjectError(f"{entity.name}.{f.name}: unknown detail entity '{f.detail}'.")
            if not f.detail and f.type not in VALUE_TYPES:
                raise ProjectError(f"{entity.name}.{f.name}: unknown type '{f.type}'.")


def _check_user_entity(entity: Entity, endpoint: Endpoint):
    """SM201010 fields, details and actions must exist on the screen with the right types."""
    def check(view, f):
        if USERS.get(view, {}).get(f.source) != f.type or f.view != view:
            raise ProjectError(f"User.{f.name}: '{f.view}.{f.source}' of type {f.type} "
                               f"does not exist on SM201010.")

    for f in entity.fields.values():
        if not f.detail:
            check("UserList", f)
        elif f.view == "UserList" or f.view not in USERS:
            raise ProjectError(f"User.{f.name}: SM201010 has no detail view '{f.view}'.")
        else:
            for inner in endpoint.details[f.detail].fields.values():
                check(f.view, inner)
    for action in entity.actions.values():
        allowed = USER_ACTIONS.get(action.mapped_to)
        if allowed is None:
            raise ProjectError(f"User: SM201010 has no action '{action.mapped_to}'.")
        for p in action.parameters.values():
            if p.source not in allowed:
                raise ProjectError(f"User.{action.name}: unknown parameter '{p.source}'.")


def maps_licences(definition: Endpoint) -> bool:
    """Whether the endpoint maps MYOB's licence view of SM201010."""
    return any(f.view == LICENCE_VIEW for e in definition.entities.values() if e.screen == USER_SCREEN
               for f in e.fields.values())


def parse_endpoints(xml: bytes) -> Project:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ProjectError(f"project.xml is not well-formed: {exc}") from None
    if _local(root.tag) != "Customization":
        raise ProjectError(texts.UNKNOWN_ROOT)
    endpoints = []
    for holder in root.findall("EntityEndpoint"):
        for element in holder:
            if element.tag != f"{{{NAMESPACE}}}Endpoint":
                raise ProjectError(texts.UNKNOWN_ROOT)
            ns = f"{{{NAMESPACE}}}"
            name, version = element.get("name"), element.get("version")
            if not name or not version:
                raise ProjectError("An endpoint needs a name and a version.")
            endpoint = Endpoint(name, version, {}, {})
            for top in element.findall(f"{ns}TopLevelEntity"):
                endpoint.entities[top.get("name")] = _entity(top, ns, top.get("screen"))
            for detail in element.findall(f"{ns}Detail"):
                endpoint.details[detail.get("name")] = _entity(detail, ns, None)
            _check_types(endpoint)
            for entity in endpoint.entities.values():
                if entity.screen == USER_SCREEN:
                    _check_user_entity(entity, endpoint)
            endpoints.append(endpoint)
    return Project(root.get("description") or "", endpoints, xml)


def parse_project(content: bytes) -> Project:
    """A project ZIP → Project; ProjectError when it is not one the server would import."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            name = next((n for n in archive.namelist() if n.lower() == "project.xml"), None)
            if name is None:
                raise ProjectError("The package has no project.xml.")
            return parse_endpoints(archive.read(name))
    except zipfile.BadZipFile:
        raise ProjectError("The project content is not a valid ZIP package.") from None


def package(xml: bytes, description=None) -> bytes:
    """A project ZIP holding `xml`, its description replaced as the server re-serializes it."""
    if description is not None:
        root = ET.fromstring(xml)
        root.set("description", description)
        xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.xml", xml)
    return buffer.getvalue()


def _simple(name, screen, *names) -> Entity:
    return Entity(name, screen, {n: Field(n, "StringValue", name, n) for n in names})


# Default has no User (§5); a couple of entities so that /entity and swagger show something.
DEFAULT = Endpoint("Default", "24.200.001", {
    "Vendor": _simple("Vendor", "AP303000", "VendorID", "VendorName", "Status"),
    "Customer": _simple("Customer", "AR303000", "CustomerID", "CustomerName", "Status"),
}, {})
