"""Swagger 2.0 of a contract endpoint, in the shape of Acumatica's
`GET /entity/{endpoint}/{version}/swagger.json`, so clients that build themselves from it work."""
from .endpoint import VALUE_TYPES, Endpoint

ERRORS = {str(code): {"description": text, "schema": {"$ref": "#/definitions/HttpError"}}
          for code, text in ((400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
                             (429, "Too Many Requests"), (500, "Internal Server Error"))}
QUERY = {name: {"name": name, "in": "query", "required": False, "type": kind}
         for name, kind in (("$select", "string"), ("$filter", "string"), ("$expand", "string"),
                            ("$custom", "string"), ("$skip", "integer"), ("$top", "integer"))}


def _ref(name):
    return {"$ref": f"#/definitions/{name}"}


def _query(*names):
    return [QUERY[n] for n in names]


def _value_definitions():
    out = {}
    for name, (kind, fmt) in VALUE_TYPES.items():
        value = {"type": kind, **({"format": fmt} if fmt else {})}
        out[name] = {"type": "object", "properties": {"value": value}}
    return out


def _entity_schema(entity):
    props = {f.name: ({"type": "array", "items": _ref(f.detail)} if f.detail else _ref(f.type))
             for f in entity.fields.values()}
    return {"allOf": [_ref("Entity"), {"type": "object", "properties": props}]}


def _entity_paths(name, entity):
    tag = [name]
    ok = {"200": {"description": "OK", "schema": _ref(name)}}
    paths = {
        f"/{name}": {
            "get": {"tags": tag, "operationId": f"{name}_GetList",
                    "parameters": _query("$select", "$filter", "$expand", "$custom", "$skip", "$top"),
                    "responses": {"200": {"description": "OK",
                                          "schema": {"type": "array", "items": _ref(name)}},
                                  **ERRORS}},
            "put": {"tags": tag, "operationId": f"{name}_PutEntity",
                    "parameters": [{"name": "entity", "in": "body", "required": True,
                                    "schema": _ref(name)}, *_query("$select", "$expand", "$custom")],
                    "responses": {**ok, "412": {"description": "Precondition Failed"},
                                  "422": {"description": "Unprocessable Entity",
                                          "schema": _ref(name)}, **ERRORS}},
        },
        f"/{name}/$adHocSchema": {"get": {"tags": tag, "operationId": f"{name}_GetAdHocSchema",
                                          "responses": {**ok, **ERRORS}}},
        f"/{name}/{{ids}}": {
            "get": {"tags": tag, "operationId": f"{name}_GetByKeys",
                    "parameters": [{"name": "ids", "in": "path", "required": True,
                                    "type": "string"}, *_query("$select", "$expand", "$custom")],
                    "responses": {**ok, **ERRORS}},
            "delete": {"tags": tag, "operationId": f"{name}_DeleteByKeys",
                       "parameters": [{"name": "ids", "in": "path", "required": True,
                                       "type": "string"}],
                       "responses": {"204": {"description": "No Content"}, **ERRORS}},
        },
    }
    for action in entity.actions:
        paths[f"/{name}/{action}"] = {"post": {
            "tags": tag, "operationId": f"{name}_InvokeAction_{action}",
            "parameters": [{"name": "invokeAction", "in": "body", "required": True,
                            "schema": _ref(action)}],
            "responses": {"202": {"description": "Accepted"},
                          "204": {"description": "No Content"}, **ERRORS}}}
    return paths


def render(endpoint: Endpoint, host: str, base_path: str, scheme: str) -> dict:
    definitions = {
        **_value_definitions(),
        "Entity": {"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid"},
            "rowNumber": {"type": "integer", "format": "int64"},
            "note": _ref("StringValue"), "custom": {"type": "object"},
            "error": {"type": "string"}}},
        "HttpError": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("message", "exceptionMessage", "exceptionType",
                                            "stackTrace", "messageDetail")}},
    }
    paths = {}
    for entity in [*endpoint.entities.values(), *endpoint.details.values()]:
        definitions[entity.name] = _entity_schema(entity)
    for name, entity in endpoint.entities.items():
        paths.update(_entity_paths(name, entity))
        for action in entity.actions.values():
            params = {p.name: _ref(p.type) for p in action.parameters.values()}
            definitions[action.name] = {"type": "object", "required": ["entity"], "properties": {
                "entity": _ref(name), "parameters": {"type": "object", "properties": params}}}
    return {"swagger": "2.0",
            "info": {"title": f"{endpoint.name}/{endpoint.version}", "version": endpoint.version},
            "host": host, "basePath": base_path, "schemes": [scheme],
            "consumes": ["application/json"], "produces": ["application/json"],
            "paths": paths, "definitions": definitions}
