"""The OData-style query options of contract GETs (§7): $filter (conjunctions of eq/ne),
$select, $expand, $top, $skip. Names are checked against the endpoint: an unmapped one is a
500 KeyNotFoundException, as on a real server."""
import re
from dataclasses import dataclass

from . import texts
from .errors import AcumaticaError, BadRequest, KeyNotFound, http_error

_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne)\s+('(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?)\s*$")


@dataclass
class Query:
    filters: list          # (contract field, op, value)
    select: set | None
    expand: set
    top: int | None
    skip: int


def _names(text, entity, details_only=False):
    names = {n.strip() for n in (text or "").split(",") if n.strip()}
    for name in names:
        f = entity.fields.get(name)
        if f is None or (details_only and not f.detail):
            raise KeyNotFound(name)
    return names


def _literal(token):
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    return float(token) if "." in token else int(token)


def _int(args, name):
    raw = args.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(texts.BAD_QUERY.format(f"{name} must be a non-negative integer."))
    return int(raw)


def parse(args, entity) -> Query:
    """`args`: the request's query parameters; `entity`: an endpoint.Entity."""
    filters = []
    text = args.get("$filter")
    if text:
        for clause in re.split(r"\s+and\s+", text.strip()):
            match = _CLAUSE.match(clause)
            if not match:
                raise BadRequest(texts.BAD_QUERY.format(f"Unsupported filter '{clause}'."))
            name, op, token = match.groups()
            f = entity.fields.get(name)
            if f is None or f.detail:
                raise KeyNotFound(name)
            if f.type == "DateTimeValue":
                raise AcumaticaError(500, http_error(texts.DATE_FILTER.format(name)))
            filters.append((name, op, _literal(token)))
    select = _names(args.get("$select"), entity) if args.get("$select") else None
    return Query(filters, select, _names(args.get("$expand"), entity, details_only=True),
                 _int(args, "$top"), _int(args, "$skip") or 0)


def _same(left, right):
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()   # SQL Server's default collation
    return left == right


def matches(record, filters) -> bool:
    for name, op, value in filters:
        have = (record.get(name) or {}).get("value")
        if _same(have, value) != (op == "eq"):
            return False
    return True
