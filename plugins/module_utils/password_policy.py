# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""The API user's password policy (MYOB 2023.1.3), as one small reusable check.

Since 2023.1.3 MYOB forces complexity on with a minimum of 14 characters and at least one
upper-case letter, one lower-case letter and one digit or symbol. We check that union on the
controller, so a weak password fails before any sign-in, and we also refuse characters that
break the JSON or form-encoded request bodies the password travels in.

Pure Python with no imports from Ansible: inventory validation and the ERP modules share it.
The returned texts describe requirements only; they never contain the password.
"""

from __future__ import annotations

import secrets
import string
import unicodedata

POLICY_NAME = "MYOB 2023.1.3"
MIN_LENGTH = 14

# Cc: control characters (NUL, TAB, CR, LF, DEL ...); Cs: lone surrogates (not encodable as
# UTF-8); Zl/Zp: line and paragraph separators, which some JSON encoders leave raw.
_FORBIDDEN_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")


def unmet_requirements(password, min_length=MIN_LENGTH):
    """Return the requirements `password` does not meet, as short phrases; [] if it passes."""
    if not isinstance(password, str):
        return ["a string"]
    unmet = []
    if len(password) < min_length:
        unmet.append("at least %d characters" % min_length)
    # Letters and digits are counted as ASCII only, and a symbol is a visible character that
    # is no letter or digit in any script: the stricter reading of the rule, so whichever the
    # server applies, a password passing here passes there.
    if not any("A" <= c <= "Z" for c in password):
        unmet.append("an upper-case letter (A-Z)")
    if not any("a" <= c <= "z" for c in password):
        unmet.append("a lower-case letter (a-z)")
    if not any("0" <= c <= "9" or not (c.isalnum() or c.isspace()) for c in password):
        unmet.append("a digit or a symbol")
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in password):
        unmet.append("no control characters or line breaks")
    # Web forms and copy-paste silently trim these, so the ERP and Ocerra would disagree.
    if password != password.strip():
        unmet.append("no leading or trailing spaces")
    return unmet


def describe(unmet):
    """One sentence for an error message, e.g. for `unmet_requirements()`'s result."""
    return "does not meet the %s password policy; it needs %s" % (POLICY_NAME, ", ".join(unmet))


# Symbols that travel unchanged through the ERP's sign-in form, JSON bodies, Ocerra's settings
# page, YAML and Jinja: no quote, backslash, space, <, >, &, %, +, #, braces or backtick.
SAFE_SYMBOLS = "-_.!*~^=:;?@"
UNSAFE = set("\"'\\`<>&%+#{}$") | set(string.whitespace)
DEFAULT_ALPHABET = string.ascii_letters + string.digits + SAFE_SYMBOLS
DEFAULT_LENGTH = 24


def generate(length=DEFAULT_LENGTH, alphabet=DEFAULT_ALPHABET, min_length=MIN_LENGTH):
    """A random password from `alphabet` (the operating system's cryptographic source) that
    meets the policy: at least `min_length` characters with an upper-case letter, a lower-case
    letter and a digit or symbol. Refuses an alphabet that cannot meet it or holds a character
    that breaks a form, a JSON body or a template."""
    alphabet = "".join(dict.fromkeys(alphabet))       # each character once, in order
    bad = sorted(c for c in alphabet if c in UNSAFE or unicodedata.category(c) in _FORBIDDEN_CATEGORIES)
    if bad:
        raise ValueError("the alphabet holds characters that break the ERP's sign-in form, Ocerra's "
                         "settings or a template: %s" % " ".join(repr(c) for c in bad))
    if length < min_length:
        raise ValueError("the length must be at least %d (the %s policy)" % (min_length, POLICY_NAME))
    classes = [set(string.ascii_uppercase), set(string.ascii_lowercase),
               set(string.digits) | set(SAFE_SYMBOLS) | {c for c in alphabet if not c.isalnum()}]
    if not all(set(alphabet) & cls for cls in classes):
        raise ValueError("the alphabet must hold an upper-case letter, a lower-case letter and a digit or symbol")
    while True:
        password = "".join(secrets.choice(alphabet) for _position in range(length))
        if not unmet_requirements(password, min_length):
            return password
