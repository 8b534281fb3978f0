"""A site's variables as Ansible merged them, turned into plain values the rules can judge
(site_schema.py), without running anything: tagged strings become str, a vaulted value is
decrypted when a vault secret at hand opens it (else it is Unchecked), a template made only of
`{{ name }}` references is followed offline, any other template is Unchecked, and what the
inventory leaves unset is taken from the environment variables the modules fall back to.
Decrypted and environment values are marked, so that no message ever shows them. A value
written `!unsafe` (what the import writes for text from Ocerra) is the literal text it is:
Ansible never templates it, so every check applies to it as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import ENV_FALLBACKS

try:  # ansible-core 2.19+: a string Ansible loaded is trusted as a template unless written !unsafe
    from ansible.template import is_trusted_as_template
except ImportError:
    is_trusted_as_template = None
try:  # before 2.19: !unsafe gives an AnsibleUnsafe string
    from ansible.utils.unsafe_proxy import AnsibleUnsafe
except ImportError:
    AnsibleUnsafe = ()

PREFIXES = ("erp_", "api_user_", "ocerra_")
VAULT = "vault"          # vaulted, and no vault secret at hand decrypts it
TEMPLATE = "template"    # a Jinja expression only a real run can evaluate


class Vaulted(str):
    """A decrypted vaulted value: checked like any text, never shown in a message."""

    shown = "the vaulted value, not shown"


class FromEnvironment(Vaulted):
    """A value taken from an environment variable: never shown either (CI masks only its own)."""

    shown = "from the environment, not shown"


class Literal(str):
    """Text Ansible never templates (written !unsafe): checked as written."""


def _is_unsafe(value):
    if isinstance(value, (Literal, Vaulted)):   # already read here: a literal stays one, a secret is text
        return isinstance(value, Literal)
    if AnsibleUnsafe and isinstance(value, AnsibleUnsafe):
        return True
    # A string Ansible loaded carries tags (a str subclass); a plain str carries no trust either way.
    tagged = isinstance(value, str) and value.__class__ is not str
    return is_trusted_as_template is not None and tagged and not is_trusted_as_template(value)


class Unchecked:
    """Stands in for a value that is present but cannot be known offline."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "<unchecked %s>" % self.reason


def to_plain(value, decrypt=str):
    """Ansible's values (tagged strings, vaulted objects) to plain JSON-like Python.

    Anything that is not a plain type is a vaulted value: `decrypt` turns it into text, and
    when it cannot, the value becomes Unchecked(VAULT)."""
    if value is None or isinstance(value, (bool, int, float, Unchecked)):
        return value
    if isinstance(value, str):
        return Literal(value) if _is_unsafe(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, decrypt) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, decrypt) for v in value]
    try:
        return Vaulted(decrypt(value))
    except Exception:  # any failure to decrypt means: present, not checkable here
        return Unchecked(VAULT)


_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def is_template(text):
    return isinstance(text, str) and not isinstance(text, Literal) and ("{{" in text or "{%" in text)


def references(text):
    """The variable names of a template made only of plain `{{ name }}` references."""
    if not is_template(text) or is_template(_REF.sub("", text)):
        return None
    return _REF.findall(text)


def site_variables(raw, decrypt=str):
    """The host's erp_/api_user_/ocerra_ variables as plain values, with templates made only of
    `{{ name }}` references evaluated (offline, so no lookup can run); any other template or a
    reference to a variable this inventory does not define becomes Unchecked(TEMPLATE)."""
    cache = {}

    def lookup(name, depth):
        if name not in cache:
            if name not in raw or depth > 10:
                return Unchecked(TEMPLATE)
            cache[name] = render(to_plain(raw[name], decrypt), depth + 1)
        return cache[name]

    def render(value, depth):
        if isinstance(value, dict):
            return {k: render(v, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v, depth) for v in value]
        if not is_template(value):
            return value
        names = references(value)
        if names is None:
            return Unchecked(TEMPLATE)
        if _REF.fullmatch(value.strip()):  # one whole expression keeps its native type
            return lookup(names[0], depth)
        parts = [lookup(n, depth) for n in names]
        for part in parts:
            if isinstance(part, Unchecked) or not isinstance(part, (str, int, float)):
                return part if isinstance(part, Unchecked) else Unchecked(TEMPLATE)
        filled = iter(parts)
        text = _REF.sub(lambda m: str(next(filled)), value)
        return Vaulted(text) if any(isinstance(p, Vaulted) for p in parts) else text

    return {k: lookup(k, 0) for k in sorted(raw) if str(k).startswith(PREFIXES)}


def with_env_fallbacks(variables, environ=None):
    """(variables, {name: environment variable}): the site variables the inventory leaves unset
    taken from the environment variables (`environ`, default os.environ) the modules' options
    fall back to (how AWX and CI inject credentials). A value from the environment is shown
    nowhere, like a vaulted one."""
    environ = os.environ if environ is None else environ
    taken = {name: env for name, env in ENV_FALLBACKS.items() if name not in variables and environ.get(env)}
    return {**variables, **{name: FromEnvironment(environ[env]) for name, env in taken.items()}}, taken


def unchecked_paths(value, path=()):
    """(path, reason) of every Unchecked inside `value`."""
    if isinstance(value, Unchecked):
        return [(path, value.reason)]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    return [found for k, v in items for found in unchecked_paths(v, path + (k,))]
