"""The swagger document of a contract endpoint, as `GET /entity/{endpoint}/{version}/swagger.json`
serves it, so that clients that build themselves from it work (reference, Fidelity second
pass): OpenAPI 3.0.1 on builds 24.200 and later (and MYOB's 23.200), Swagger 2.0 before.
Both describe the same operations: list, upsert, by id, by keys, ad-hoc schema, files and
actions; `GET /entity/swagger.json` describes sign-in, sign-out and the version."""
from .endpoint import VALUE_TYPES, Endpoint

ERRORS = ((400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
          (429, "Too Many Requests"), (500, "Internal Server Error"))
QUERY = (("select", "$select", "string"), ("filter", "$filter", "string"),
         ("expand", "$expand", "string"), ("custom", "$custom", "string"),
         ("skip", "$skip", "integer"), ("top", "$top", "integer"))
PATH = (("id", "string", "uuid"), ("ids", "string", None), ("filename", "string", None))


def openapi3(build: str, flavour: str) -> bool:
    """Whether an instance of this build serves OpenAPI 3.0.1 (else Swagger 2.0)."""
    major, minor = (int(p) for p in build.split(".")[:2])
    return (major, minor) >= (24, 200) or (flavour == "myob" and (major, minor) >= (23, 200))


class _Format:
    """Where Swagger 2.0 and OpenAPI 3.0.1 differ: references, parameters, bodies, answers."""

    def __init__(self, v3):
        self.v3 = v3
        self.prefix = "#/components/schemas/" if v3 else "#/definitions/"

    def ref(self, name):
        return {"$ref": self.prefix + name}

    def param(self, name):
        return {"$ref": ("#/components/parameters/" if self.v3 else "#/parameters/") + name}

    def parameters(self):
        out = {}
        for key, name, kind in QUERY:
            out[key] = {"name": name, "in": "query", "required": False,
                        **({"schema": {"type": kind}} if self.v3 else {"type": kind})}
        for name, kind, fmt in PATH:
            schema = {"type": kind, **({"format": fmt} if fmt else {})}
            out[name] = {"name": name, "in": "path", "required": True,
                         **({"schema": schema} if self.v3 else schema)}
        return out

    def body(self, schema):
        """(operation keys) of a JSON request body."""
        if self.v3:
            return {"requestBody": {"required": True,
                                    "content": {"application/json": {"schema": schema}}}}
        return {"parameters": [{"name": "body", "in": "body", "required": True, "schema": schema}]}

    def answer(self, description, schema=None):
        if schema is None:
            return {"description": description}
        if self.v3:
            return {"description": description, "content": {"application/json": {"schema": schema}}}
        return {"description": description, "schema": schema}

    def errors(self):
        return {str(code): self.answer(text, self.ref("HttpError")) for code, text in ERRORS}


def _value_schemas():
    out = {}
    for name, (kind, fmt) in VALUE_TYPES.items():
        value = {"type": kind, **({"format": fmt} if fmt else {})}
        out[name] = {"type": "object", "properties": {"value": value}}
    return out


def _entity_schema(f: _Format, entity):
    props = {fld.name: ({"type": "array", "items": f.ref(fld.detail)} if fld.detail else f.ref(fld.type))
             for fld in entity.fields.values()}
    return {"allOf": [f.ref("Entity"), {"type": "object", "properties": props}]}


def _operation(f, name, op, summary, params=(), body=None, answers=None):
    out = {"tags": [name], "operationId": f"{name}_{op}", "summary": summary}
    if params:
        out["parameters"] = [f.param(p) for p in params]
    if body is not None:
        extra = f.body(body)
        out["parameters"] = out.get("parameters", []) + extra.pop("parameters", [])
        out.update(extra)
    out["responses"] = {**(answers or {}), **f.errors()}
    return out


def _entity_paths(f: _Format, name, entity):
    one = {"200": f.answer("OK", f.ref(name))}
    done = {"204": f.answer("No Content")}
    paths = {
        f"/{name}": {
            "get": _operation(f, name, "GetList", f"Retrieves records of {name}",
                              ("select", "filter", "expand", "custom", "skip", "top"),
                              answers={"200": f.answer("OK", {"type": "array", "items": f.ref(name)})}),
            "put": _operation(f, name, "PutEntity", f"Creates or updates a record of {name}",
                              ("select", "expand", "custom"), body=f.ref(name),
                              answers={**one, "412": f.answer("Precondition Failed"),
                                       "422": f.answer("Unprocessable Entity", f.ref(name))}),
        },
        f"/{name}/$adHocSchema": {"get": _operation(f, name, "GetAdHocSchema",
                                                    f"Retrieves the schema of custom fields of {name}",
                                                    answers=one)},
        f"/{name}/{{id}}": {
            "get": _operation(f, name, "GetById", f"Retrieves a record of {name} by its ID",
                              ("id", "select", "expand", "custom"), answers=one),
            "delete": _operation(f, name, "DeleteById", f"Removes a record of {name} by its ID",
                                 ("id",), answers=done),
        },
        f"/{name}/{{ids}}": {
            "get": _operation(f, name, "GetByKeys", f"Retrieves a record of {name} by its key values",
                              ("ids", "select", "expand", "custom"), answers=one),
            "delete": _operation(f, name, "DeleteByKeys", f"Removes a record of {name} by its key values",
                                 ("ids",), answers=done),
        },
        f"/{name}/{{ids}}/files/{{filename}}": {
            "put": _operation(f, name, "PutFile", f"Attaches a file to a record of {name}",
                              ("ids", "filename"), answers=done),
        },
    }
    for action in entity.actions:
        paths[f"/{name}/{action}"] = {"post": _operation(
            f, name, f"InvokeAction_{action}", f"Invokes the {action} action on a record of {name}",
            body=f.ref(action),
            answers={"202": f.answer("Accepted"), "204": f.answer("No Content")})}
    return paths


def _common_schemas(f: _Format):
    link = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
                                             "filename": {"type": "string"},
                                             "href": {"type": "string"}}}
    return {
        **_value_schemas(),
        "Entity": {"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid"},
            "rowNumber": {"type": "integer", "format": "int64"},
            "note": f.ref("StringValue"), "custom": {"type": "object"},
            "error": {"type": "string"},
            "files": {"type": "array", "items": f.ref("FileLink")},
            "_links": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "FileLink": link,
        "HttpError": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("message", "exceptionMessage", "exceptionType",
                                            "stackTrace", "messageDetail")}},
    }


def render(endpoint: Endpoint, root: str, base_path: str, v3: bool) -> dict:
    """`root`: scheme://host; `base_path`: /{instance}/entity/{endpoint}/{version}."""
    f = _Format(v3)
    schemas = _common_schemas(f)
    paths, tags = {}, []
    for entity in [*endpoint.entities.values(), *endpoint.details.values()]:
        schemas[entity.name] = _entity_schema(f, entity)
    for name, entity in endpoint.entities.items():
        paths.update(_entity_paths(f, name, entity))
        tags.append({"name": name, "description": f"{name} ({entity.screen})"})
        for action in entity.actions.values():
            params = {p.name: f.ref(p.type) for p in action.parameters.values()}
            schemas[action.name] = {"type": "object", "required": ["entity"], "properties": {
                "entity": f.ref(name), "parameters": {"type": "object", "properties": params}}}
    info = {"title": f"{endpoint.name}/{endpoint.version}", "version": "4" if v3 else endpoint.version}
    if v3:
        return {"openapi": "3.0.1", "info": info, "servers": [{"url": root + base_path}],
                "paths": paths, "components": {"schemas": schemas, "parameters": f.parameters()},
                "tags": tags}
    host = root.split("://", 1)[1]
    return {"swagger": "2.0", "info": info, "host": host, "basePath": base_path,
            "schemes": [root.split("://", 1)[0]], "consumes": ["application/json"],
            "produces": ["application/json"], "paths": paths, "definitions": schemas,
            "parameters": f.parameters(), "tags": tags}


def render_auth(root: str, base_path: str, v3: bool) -> dict:
    """The instance-level document (`/entity/swagger.json`): sign-in, sign-out, version."""
    f = _Format(v3)
    login = {"type": "object", "required": ["name", "password"], "properties": {
        k: {"type": "string"} for k in ("name", "password", "tenant", "branch", "locale")}}
    version = {"type": "object", "properties": {
        "version": {"type": "object", "properties": {"acumaticaBuildVersion": {"type": "string"},
                                                     "databaseVersion": {"type": "string"}}},
        "endpoints": {"type": "array", "items": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("name", "version", "href")}}}}}
    schemas = {"Credentials": login, "VersionAndEndpoints": version,
               "HttpError": _common_schemas(f)["HttpError"]}
    paths = {
        "/auth/login": {"post": _operation(f, "Auth", "Login", "Signs in", body=f.ref("Credentials"),
                                           answers={"204": f.answer("No Content")})},
        "/auth/logout": {"post": _operation(f, "Auth", "Logout", "Signs out",
                                            answers={"204": f.answer("No Content")})},
        "/": {"get": _operation(f, "Version", "GetVersion", "The build and the endpoints",
                                answers={"200": f.answer("OK", f.ref("VersionAndEndpoints"))})},
    }
    info = {"title": "Acumatica contract-based REST API", "version": "4"}
    if v3:
        return {"openapi": "3.0.1", "info": info, "servers": [{"url": root + base_path}],
                "paths": paths, "components": {"schemas": schemas}}
    return {"swagger": "2.0", "info": info, "host": root.split("://", 1)[1], "basePath": base_path,
            "schemes": [root.split("://", 1)[0]], "paths": paths, "definitions": schemas}
