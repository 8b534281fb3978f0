"""The OData-style query options of contract GETs and PUTs (§7, Fidelity second pass): $filter
in the OData v3 dialect the contract API accepts, $select, $expand, $top, $skip. Names are
checked against the endpoint: an unmapped one is a 500 KeyNotFoundException, as on a real
server; what the dialect does not have is a 400.

$filter grammar (precedence low to high): `or`, `and`, `not`, comparisons (`eq ne gt ge lt le`),
then parentheses, the functions `substringof(s, F)`, `startswith(F, s)`, `endswith(F, s)`,
custom fields `cf.String(f='View.Field')` and literals: 'text' ('' escapes a quote), numbers,
true, false, null, datetimeoffset'...', datetime'...', date'...', guid'...'.
"""
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from . import texts
from .errors import AcumaticaError, BadRequest, KeyNotFound, http_error

_TOKEN = re.compile(r"""\s*(?:
    (?P<typed>(?:datetimeoffset|datetime|date|guid)'[^']*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<custom>cf\.\w+)
  | (?P<name>[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)
  | (?P<punct>[(),=])
)""", re.VERBOSE)
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"substringof": 2, "startswith": 2, "endswith": 2}
CUSTOM_TYPES = {"cf.String": "StringValue", "cf.Boolean": "BooleanValue", "cf.Int": "IntValue",
                "cf.Short": "ShortValue", "cf.Decimal": "DecimalValue", "cf.Double": "DoubleValue",
                "cf.DateTime": "DateTimeValue", "cf.Guid": "GuidValue"}
_DEPTH = 50   # a nesting bound: a hostile filter must not exhaust the stack


def _invalid(detail):
    return BadRequest(texts.BAD_QUERY.format(detail))


@dataclass(frozen=True)
class Ref:
    """A field in a filter: the contract field `name`, or a custom field (`view`, `dac`)."""
    name: str | None
    view: str | None
    dac: str | None
    type: str


@dataclass(frozen=True)
class Literal:
    value: object
    typed: bool = False      # datetimeoffset'...' and friends: the only way to a date


@dataclass
class Query:
    filter: object | None   # a parsed expression (tuples, Ref, Literal) or None
    select: set | None
    expand: set
    top: int | None
    skip: int


def _tokens(text):
    """Tokens of a $filter without its leading and trailing spaces."""
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _invalid(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _typed(token):
    kind, raw = token.split("'", 1)
    raw = raw[:-1]
    try:
        if kind == "guid":
            return str(uuid.UUID(raw))
        if kind == "date":
            return datetime.fromisoformat(raw).replace(tzinfo=timezone.utc)
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    except ValueError:
        raise _invalid(f"Unrecognized '{kind}' literal '{raw}'.") from None


class _Parser:
    def __init__(self, text, entity, custom_fields):
        self.tokens, self.at = _tokens(text), 0
        self.entity, self.custom_fields, self.depth = entity, custom_fields, 0

    def peek(self, value=None):
        if self.at >= len(self.tokens):
            return None
        token = self.tokens[self.at]
        return token if value is None or token[1] == value else None

    def take(self, value=None):
        token = self.peek(value)
        if token is None:
            raise _invalid(f"Expected '{value}'." if value else "The expression ended too early.")
        self.at += 1
        return token

    def parse(self):
        expr = self.or_()
        if self.peek() is not None:
            raise _invalid(f"Unexpected '{self.peek()[1]}'.")
        return expr

    def joined(self, word, operand):
        """operand (word operand)*, left-associative."""
        left = operand()
        while self.peek(word):
            self.take()
            left = (word, left, operand())
        return left

    def or_(self):
        return self.joined("or", self.and_)

    def and_(self):
        return self.joined("and", self.not_)

    def not_(self):
        if self.peek("not"):
            self.take()
            return ("not", self.nested(self.not_))
        return self.comparison()

    def comparison(self):
        left = self.primary()
        token = self.peek()
        if token and token[0] == "name" and token[1] in COMPARISONS:
            self.take()
            return (token[1], left, self.primary())
        if token and token[0] == "name" and token[1] not in ("and", "or"):
            raise _invalid(f"The operator '{token[1]}' is not supported.")
        return left

    def nested(self, rule):
        self.depth += 1
        if self.depth > _DEPTH:
            raise _invalid("The expression is nested too deeply.")
        try:
            return rule()
        finally:
            self.depth -= 1

    def primary(self):
        kind, value = self.take()
        if value == "(":
            inner = self.nested(self.or_)
            self.take(")")
            return inner
        if kind == "typed":
            return Literal(_typed(value), typed=True)
        if kind == "string":
            return Literal(value[1:-1].replace("''", "'"))
        if kind == "number":
            return Literal(float(value) if "." in value else int(value))
        if kind == "custom":
            return self.custom(value)
        if kind == "name":
            if value in ("true", "false"):
                return Literal(value == "true")
            if value == "null":
                return Literal(None)
            if self.peek("("):
                return self.function(value)
            return self.field(value)
        raise _invalid(f"Unexpected '{value}'.")

    def function(self, name):
        if name not in FUNCTIONS:
            raise _invalid(f"Unknown function '{name}'.")
        self.take("(")
        args = [self.nested(self.primary)]
        while self.peek(","):
            self.take()
            args.append(self.nested(self.primary))
        self.take(")")
        if len(args) != FUNCTIONS[name]:
            raise _invalid(f"The function '{name}' takes {FUNCTIONS[name]} arguments.")
        return (name, *args)

    def field(self, path):
        name = path.split("/", 1)[0]     # a linked path starts at a field of the entity
        f = self.entity.fields.get(name)
        if f is None or f.detail or "/" in path:
            raise KeyNotFound(path)
        return Ref(name, None, None, f.type)

    def custom(self, kind):
        if kind not in CUSTOM_TYPES:
            raise _invalid(f"Unknown custom field type '{kind}'.")
        self.take("(")
        if self.take()[1] != "f":
            raise _invalid("A custom field is written cf.Type(f='View.Field').")
        self.take("=")
        kind_, target = self.take()
        self.take(")")
        view, _, dac = target[1:-1].partition(".") if kind_ == "string" else ("", "", "")
        if self.custom_fields.get(view, {}).get(dac) is None:
            raise KeyNotFound(target.strip("'"))
        return Ref(None, view, dac, CUSTOM_TYPES[kind])


def _names(text, entity, details_only=False):
    names = {n.strip() for n in (text or "").split(",") if n.strip()}
    for name in names:
        f = entity.fields.get(name)
        if details_only and name == "files":   # every record's attached files
            continue
        if f is None or (details_only and not f.detail):
            raise KeyNotFound(name)
    return names


def _int(args, name):
    raw = args.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(texts.BAD_QUERY.format(f"{name} must be a non-negative integer."))
    return int(raw)


def _check_dates(expr):
    """A date field compared with anything but a typed literal is the 500 of §7 (3P)."""
    if not isinstance(expr, tuple):
        return
    op, *args = expr
    if op in COMPARISONS:
        for ref, other in ((args[0], args[1]), (args[1], args[0])):
            if isinstance(ref, Ref) and ref.type == "DateTimeValue" and not (
                    isinstance(other, Literal) and other.typed):
                raise AcumaticaError(500, http_error(texts.DATE_FILTER.format(ref.name or ref.dac)))
    for arg in args:
        _check_dates(arg)


def parse(args, entity, custom_fields=None) -> Query:
    """`args`: the request's query parameters; `entity`: an endpoint.Entity; `custom_fields`:
    {view: {DAC field: type}} that cf.Type(f='View.Field') may name."""
    text = args.get("$filter")
    expr = None
    if text and text.strip():
        expr = _Parser(text.strip(), entity, custom_fields or {}).parse()
        _check_dates(expr)
    select = _names(args.get("$select"), entity) if args.get("$select") else None
    return Query(expr, select, _names(args.get("$expand"), entity, details_only=True),
                 _int(args, "$top"), _int(args, "$skip") or 0)


def _fold(value):
    return value.casefold() if isinstance(value, str) else value   # SQL Server's collation


def _date(value):
    """A date field's ISO text as a datetime (UTC when it has no offset)."""
    if not isinstance(value, str):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _compare(op, left, right):
    left, right = _fold(left), _fold(right)
    if op in ("eq", "ne"):
        return (left == right) == (op == "eq")
    if left is None or right is None:
        return False                    # SQL: a comparison with NULL is not true
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right,
                "le": left <= right}[op]
    except TypeError:
        return False


def evaluate(expr, value_of) -> bool:
    """Whether a record satisfies `expr`; `value_of(ref)` gives a Ref's value for it."""
    if expr is None:
        return True

    def value(node):
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Ref):
            found = value_of(node)
            return _date(found) if node.type == "DateTimeValue" else found
        return evaluate(node, value_of)

    op, *args = expr if isinstance(expr, tuple) else ("value", expr)
    if op == "value":
        return value(expr) is True
    if op == "or":
        return evaluate(args[0], value_of) or evaluate(args[1], value_of)
    if op == "and":
        return evaluate(args[0], value_of) and evaluate(args[1], value_of)
    if op == "not":
        return not evaluate(args[0], value_of)
    if op in COMPARISONS:
        return _compare(op, value(args[0]), value(args[1]))
    first, second = (_fold(value(a)) for a in args)
    if not isinstance(first, str) or not isinstance(second, str):
        return False
    if op == "substringof":
        return first in second
    return first.startswith(second) if op == "startswith" else first.endswith(second)
