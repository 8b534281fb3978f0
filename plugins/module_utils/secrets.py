"""The one scrubber: every secret the toolkit holds, in every form a server, a library or an
exception could echo it, removed from a text before the text leaves the toolkit.

Both clients (their error messages), the site flow and the report use it. A secret is
registered once; its forms are the raw text, JSON-escaped (ASCII and UTF-8), URL-encoded
(with %20 and with +) and base64, plus the base64 Basic credential `user:secret` when the
secret is a password someone signs in with over Basic auth.
"""
import base64
import json
from urllib.parse import quote, quote_plus

MASK = "********"


def forms(secret):
    """Every encoded form of `secret` a text could carry."""
    secret = str(secret)
    found = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()}
    return {f for f in found if f}


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

    def __contains__(self, text):
        return any(form in str(text) for form in self._forms)
