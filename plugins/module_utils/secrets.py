"""The one scrubber: every secret the toolkit holds, in every form a server, a library or an
exception could echo it, removed from a text before the text leaves the toolkit.

Both clients (their error messages), the site flow and the report use it. A secret is
registered once; its forms are the raw text, JSON-escaped (Python's ASCII and UTF-8, and
.NET's, which escapes + < > & ' as \\u002B...), HTML-escaped (as Python and ASP.NET write it),
URL-encoded (%20 or +, upper- or lower-case hex) and base64 (standard and URL-safe, padded or
not), plus the base64 Basic credential `user:secret` when the secret is a password someone
signs in with over Basic auth.
"""
import base64
import html
import json
import re
from urllib.parse import quote, quote_plus

MASK = "********"
_DOTNET_ESCAPED = set("<>&'+`\"\\")


def forms(secret):
    """Every encoded form of `secret` a text could carry."""
    secret = str(secret)
    raw = secret.encode()
    escaped = html.escape(secret)
    found = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             _dotnet_json(secret, "%04X"), _dotnet_json(secret, "%04x"),
             escaped, escaped.replace("&#x27;", "&#39;"), html.escape(secret, quote=False),
             quote(secret, safe=""), quote_plus(secret)}
    found |= {_lower_hex(f) for f in (quote(secret, safe=""), quote_plus(secret))}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        found |= {encoded, encoded.rstrip("=")}
    return {f for f in found if f}


def _dotnet_json(secret, digits):
    return "".join("\\u" + digits % ord(c) if c in _DOTNET_ESCAPED or not " " <= c <= "~" else c
                   for c in secret)


def _lower_hex(text):
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


class Secrets:
    """A set of secrets; scrub() replaces any of their forms with MASK."""

    def __init__(self, *values):
        self._forms = []
        for value in values:
            self.add(value)

    def add(self, value, basic_user=None):
        """Remember `value` (ignored when empty); with `basic_user`, also its Basic header."""
        if not value:
            return
        new = forms(value)
        if basic_user is not None:
            new.add(base64.b64encode(f"{basic_user}:{value}".encode()).decode())
        self._forms = sorted(set(self._forms) | new, key=len, reverse=True)

    def scrub(self, text):
        """`text` with every known secret form replaced by MASK (longest first)."""
        text = "" if text is None else str(text)
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def scrub_all(self, value):
        """`value` (strings inside dicts and lists) with every string scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_all(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub_all(v) for v in value]
        return value

    def __contains__(self, text):
        return any(form in str(text) for form in self._forms)
