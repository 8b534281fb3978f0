# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""The sites' inventory variables against schemas/site.schema.json and the rules a schema
cannot express (password policy, one host per site, one site per entity, one password per
site).

Pure Python (jsonschema, no Ansible, no network), shared by `./run validate`
(tools/validate.py), the `ocerra.acumatica.validate_sites` action and each site's task (which
checks its own secret values once it has decrypted them). Callers hand in each host's raw
variables as Ansible merged them. No message ever holds a secret's value: every message is
built here from the schema, not taken from jsonschema, whose texts quote the failing instance.
Which file and line a value came from is inventory_scan.py's part.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - reported when validation is attempted
    Draft202012Validator = None

from ansible_collections.ocerra.acumatica.plugins.module_utils import base_url
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user_fields import DEFAULT_LOGIN
from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import describe, unmet_requirements

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_values import (
    PREFIXES, Unchecked, Vaulted, site_variables, unchecked_paths, with_env_fallbacks)

SCHEMA_PATH = os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "schemas", "site.schema.json"))


@dataclass(frozen=True)
class SiteError:
    """One problem: where (file, line, host, JSON pointer) and what was expected."""

    host: str | None
    pointer: str | None
    message: str
    file: str | None = None
    line: int | None = None

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        where = self.file and ("%s:%s" % (self.file, self.line) if self.line else self.file)
        return ": ".join(p for p in (where, self.host, self.pointer, self.message) if p)

    __repr__ = __str__


class Source:
    """Where one variable of a host was defined: the file, and lines by JSON pointer."""

    def __init__(self, file, lines=None):
        self.file, self.lines = file, lines or {}

    def line_of(self, pointer):
        # The deepest pointer the file has a line for (a list given as a template has no items).
        while pointer:
            if pointer in self.lines:
                return self.lines[pointer]
            pointer = pointer.rsplit("/", 1)[0]
        return None


class HostVars:
    """One host's variables (plain values, Unchecked where unknowable), their sources by
    variable name, and the file to blame for what is missing (where the host is declared)."""

    def __init__(self, variables, sources=None, file=None):
        self.variables, self.sources, self.file = variables, sources or {}, file


# --------------------------------------------------------------------------- schema

@functools.lru_cache(maxsize=1)
def load_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def _deref(schema, sub):
    """Follow a local "$ref" ("#/$defs/x")."""
    ref = sub.get("$ref")
    if not ref:
        return sub
    node = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


_SECRET_NAME = re.compile(r"pa?s+w|pwd|secret", re.IGNORECASE)


def is_secret(path, schema=None):
    """True if the value at `path` is, or lies inside, a secret.

    Secrets are the schema's "x-secret" properties, plus unknown keys that look like one (a
    typo such as `api_user_pasword` must not leak either)."""
    schema = schema or load_schema()
    sub = schema
    for part in path:
        sub = _deref(schema, sub)
        if isinstance(part, int):
            sub = sub.get("items")
        else:
            known = sub.get("properties", {})
            if part not in known:
                return bool(_SECRET_NAME.search(str(part)))
            sub = known[part]
        if sub is None:
            return False
        if _deref(schema, sub).get("x-secret"):
            return True
    return False


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


# --------------------------------------------------------------------------- messages

_TYPE_WORDS = {"string": "a string", "boolean": "true or false", "array": "a list",
               "object": "a mapping", "integer": "a whole number", "number": "a number"}


_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def _shown(value, secret):
    """A short rendering of a non-secret scalar for "(got ...)": never a secret, a decrypted
    vaulted value or the user and password of a URL."""
    if isinstance(value, Vaulted):
        return " (%s)" % value.shown
    if secret or isinstance(value, (dict, list, Unchecked)):
        return ""
    text = json.dumps(_USERINFO.sub("***@", value) if isinstance(value, str) else value, ensure_ascii=False)
    # Invisible and line-breaking characters shown as escapes, so the message shows what is wrong.
    text = "".join("\\u%04x" % ord(c) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return " (got %s)" % (text if len(text) <= 80 else text[:77] + "...")


def _first_sentence(text):
    return (text or "").split(". ")[0].rstrip(".")


def _schema_errors(instance, schema):
    """(path, message) for every schema violation, with messages that never quote secrets."""
    if Draft202012Validator is None:
        raise RuntimeError("the Python package jsonschema is required on the controller")
    found, wrong_type = [], {}
    for err in Draft202012Validator(schema).iter_errors(instance):
        path, sub, kind = list(err.absolute_path), err.schema, err.validator
        secret = is_secret(path, schema)
        got = _shown(err.instance, secret)
        if kind == "required":
            props = sub.get("properties", {})
            for name in err.validator_value:
                if isinstance(err.instance, dict) and name not in err.instance:
                    hint = _first_sentence(_deref(schema, props.get(name, {})).get("description"))
                    found.append((path + [name], "is required" + (": %s" % hint if hint else "")))
            continue
        if kind == "additionalProperties":
            known = sorted(sub.get("properties", {}))
            for name in sorted(set(err.instance) - set(known)):
                close = difflib.get_close_matches(name, known, n=1)
                what = "unknown variable" if not path else "unknown key"
                found.append((path + [name], what + ("; did you mean '%s'?" % close[0] if close else
                                                     "; allowed: %s" % ", ".join(known))))
            continue
        if kind == "type":
            types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            msg = "must be " + " or ".join(_TYPE_WORDS.get(t, t) for t in types) + got
        elif kind == "enum":
            msg = "must be one of: %s%s" % (", ".join(map(str, err.validator_value)), got)
        elif kind == "minLength":
            msg = "must not be empty" if err.validator_value == 1 else \
                "must be at least %d characters" % err.validator_value
        elif kind == "maxLength":
            msg = "must be at most %d characters" % err.validator_value
        elif kind == "minItems":
            msg = "must list at least %d item%s" % (err.validator_value, "" if err.validator_value == 1 else "s")
        elif kind == "uniqueItems":
            msg = "must not list the same item twice"
        elif kind in ("pattern", "format", "oneOf", "anyOf", "not", "allOf"):
            expected = sub.get("x-expected")
            if kind == "not":  # the x-expected sits next to "not" in the allOf entry
                expected = expected or next((e.get("x-expected") for e in sub.get("allOf", [])
                                             if e.get("not") == err.validator_value), None)
            msg = "must be %s%s" % (expected, got) if expected else "does not match the '%s' rule" % kind
        else:
            msg = "does not match the '%s' rule" % kind
        found.append((path, msg))
        if kind == "type":
            wrong_type[tuple(path)] = msg
    # A value of the wrong type fails other rules too: say only that its type is wrong.
    return [(p, m) for p, m in found if wrong_type.get(tuple(p), m) == m]


# --------------------------------------------------------------------------- rules

def _normalise_url(url):
    """Scheme and host lower-cased, default port and trailing slash dropped; path kept."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: the schema reports it; compare the text as it is
        return url.strip().lower().rstrip("/")
    netloc = (parts.hostname or "").lower()
    if port not in (None, {"http": 80, "https": 443}.get(scheme)):
        netloc += ":%d" % port
    return "%s://%s%s" % (scheme, netloc, parts.path.rstrip("/"))


def _site_rules(v):
    """(path, message) for one site's rules beyond the schema."""
    found = []
    for name in ("erp_url", "ocerra_url"):
        problem = base_url.problem(name, v.get(name))
        if problem:
            found.append(([name], problem))
    found += _password_rules(v)
    if v.get("api_user_password_store") == "vault_file":
        if "api_user_password_vault_id" not in v:
            found.append((["api_user_password_vault_id"], "is required with api_user_password_store: vault_file: "
                                                          "the vault id the site's password store is encrypted with"))
    elif v.get("api_user_password_store", "inventory") == "inventory" and "api_user_password" not in v:
        found.append((["api_user_password"], "is required: Password of the API user (or keep it in the site's "
                                             "password store: api_user_password_store: vault_file, or a shared one)"))
    login, admin = v.get("api_user_login", DEFAULT_LOGIN), v.get("erp_admin_user")
    if isinstance(login, str) and isinstance(admin, str) and login.casefold() == admin.casefold():
        found.append((["api_user_login"], "must differ from erp_admin_user: the toolkit signs in as "
                                          "the admin to manage the API user, never as the API user"))
    return found


def _password_rules(v):
    """(path, message) for the API user's password: the policy, and every entity's equal to it."""
    found = []
    password = v.get("api_user_password")
    if isinstance(password, str) and password:
        unmet = unmet_requirements(password)
        if unmet:
            found.append((["api_user_password"], describe(unmet)))
    entities = v.get("ocerra_entities")
    if isinstance(entities, list):
        reference, against = (password, "api_user_password") if isinstance(password, str) else (None, None)
        for i, entity in enumerate(entities):
            given = entity.get("password") if isinstance(entity, dict) else None
            if not isinstance(given, str):
                continue
            if reference is None:
                reference, against = given, "the password of entity %d" % i
            elif given != reference:
                found.append((["ocerra_entities", i, "password"],
                              "differs from %s: every entity of a site must get the API user's "
                              "password (leave it out, or use \"{{ api_user_password }}\")" % against))
    return found


def secret_errors(host, variables, sources=None):
    """[SiteError] of the site's rules that need its secrets, on the values its own task
    decrypted (the run's validation checked the rest without them): each secret a string of the
    schema's length, the API user's password policy, every entity's password equal to it."""
    properties, found = load_schema()["properties"], []
    for name, value in variables.items():
        spec = properties.get(name, {})
        if spec.get("x-secret") and not (isinstance(value, str) and spec["minLength"] <= len(value) <= spec["maxLength"]):
            found.append((host, [name], "must be text of %d to %d characters" % (spec["minLength"], spec["maxLength"])))
    found += [(host, path, message) for path, message in _password_rules(variables)]
    return _located({host: HostVars(variables, sources)}, found)


def _cross_site_rules(sites):
    """(host, path, message) for sites described twice and entities listed under two sites."""
    found = []
    by_site, by_entity = {}, {}
    for host, v in sites.items():
        url, tenant = v.get("erp_url"), v.get("erp_tenant")
        if isinstance(url, str) and isinstance(tenant, str):
            by_site.setdefault((_normalise_url(url), tenant.strip().casefold()), []).append(host)
        entities = v.get("ocerra_entities")
        for i, entity in enumerate(entities if isinstance(entities, list) else []):
            if not isinstance(entity, dict):
                continue
            for field in ("client_id", "name"):
                if isinstance(entity.get(field), str):
                    key = (field, entity[field].strip().casefold())
                    by_entity.setdefault(key, []).append((host, i))
    for hosts in by_site.values():
        for host in hosts if len(hosts) > 1 else ():
            others = ", ".join("'%s'" % h for h in hosts if h != host)
            found.append((host, ["erp_url"], "describes the same site (erp_url and erp_tenant) as "
                                             "host %s: keep one inventory host per site" % others))
    for (field, _value), places in by_entity.items():
        for host, i in places if len(places) > 1 else ():
            others = sorted({h for h, _where in places if h != host})
            where = ("also listed under host %s: an entity belongs to one site only"
                     % ", ".join("'%s'" % h for h in others)) if others else "listed twice in this site"
            found.append((host, ["ocerra_entities", i, field], where))
    return found


def validate_sites(sites, schema=None):
    """Validate `sites`: {host: Site or plain mapping of variables}. Returns [SiteError].

    Variables not starting with erp_/api_user_/ocerra_ are ignored. Unchecked values are
    accepted as present; rules that need their content skip them."""
    schema = schema or load_schema()
    plain = {h: s if isinstance(s, HostVars) else HostVars(s) for h, s in sites.items()}
    found = []
    for host in sorted(plain):
        site = plain[host]
        v = {k: val for k, val in site.variables.items() if str(k).startswith(PREFIXES)}
        hidden = [p for p, _reason in unchecked_paths(v)]
        rules = _site_rules(v)
        # A rule's specific message replaces the schema's general one about the same value.
        ruled = {tuple(p) for p, _rule in rules}
        for path, message in [e for e in _schema_errors(v, schema) if tuple(e[0]) not in ruled] + rules:
            # A value we could not see cannot be judged; its errors would be guesses.
            if any(tuple(path[:len(h)]) == tuple(h) for h in hidden):
                continue
            found.append((host, path, message))
    found += _cross_site_rules({h: s.variables for h, s in plain.items()})
    return _located(plain, found)


def site_warnings(sites):
    """[SiteError] of what is allowed but weakens a site: certificate checks turned off."""
    plain = {h: s if isinstance(s, HostVars) else HostVars(s) for h, s in sites.items()}
    found = [(host, [name], "is false: the site's TLS certificate is not verified, so anyone on the path "
                            "can read the passwords; prefer %s for a private CA" % name.replace("validate_certs", "ca_path"))
             for host, site in plain.items() for name in ("erp_validate_certs", "ocerra_validate_certs")
             if site.variables.get(name) is False]
    return _located(plain, found)


def _located(plain, found):
    """(host, path, message) as SiteErrors that name the file and line the value came from."""
    errors = []
    for host, path, message in found:
        site = plain[host]
        source = site.sources.get(path[0]) if path else None
        ptr = pointer(path)
        errors.append(SiteError(host, ptr, message,
                                file=source.file if source else site.file,
                                line=source.line_of(ptr) if source else None))
    return _unique(errors)


def _unique(errors):
    seen, result = set(), []
    for e in errors:
        if e not in seen:
            seen.add(e)
            result.append(e)
    return result


# --------------------------------------------------------------------------- one entry point

def validate_inventory(hosts, scans=(), decrypt=str, all_files=True, schema=None, environ=None,
                       extra_vars=()):
    """Validate Ansible hosts. `hosts`: {host: raw vars as Ansible merged them (including
    group_names and inventory_file)}; `scans`: InventoryScan of the inventories they came from;
    `all_files`: also report file problems of groups none of `hosts` belongs to; `extra_vars`:
    the names given as extra vars (they override the files).

    Returns (errors, unchecked, warnings) where unchecked lists (host, pointer, reason) of
    values that are present but could not be read offline (vaulted without a password, run-time
    Jinja). A variable the inventory leaves unset is taken from the environment variable the
    modules fall back to (ENV_FALLBACKS of `environ`), as a run would."""
    sites, unchecked, owners = {}, [], {("group", "all")}
    for host, raw in hosts.items():
        variables, from_env = with_env_fallbacks(site_variables(raw, decrypt), environ)
        unchecked += [(host, pointer(p), r) for p, r in unchecked_paths(variables)]
        owners |= {("host", host)} | {("group", g) for g in raw.get("group_names") or []}
        file = raw.get("inventory_file")
        sites[host] = HostVars(variables, host_sources(host, raw, scans, from_env, extra_vars),
                               display_path(str(file)) if file else None)
    errors = [e for scan in scans for e in scan.errors
              if all_files or e.host is None or ("host", e.host) in owners or ("group", e.host) in owners]
    errors = _unique(errors + validate_sites(sites, schema))
    return sorted(errors, key=_file_order), unchecked, sorted(site_warnings(sites), key=_file_order)


def host_sources(host, raw, scans, from_env=(), extra_vars=()):
    """{variable: Source}: where each of the host's variables was defined, by Ansible's precedence."""
    sources = {name: Source("$" + env) for name, env in dict(from_env).items()}
    for scan in scans:
        sources.update(scan.sources_for(host, list(raw.get("group_names") or [])))
    sources.update({name: Source("extra vars") for name in extra_vars})
    return sources


def display_path(path):
    """A file's path relative to the current directory when it lies below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _file_order(error):
    return (error.file or "", error.line or 0)
