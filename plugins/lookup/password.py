# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Lookup ocerra.acumatica.password: a new API user password that meets the site's policy."""

DOCUMENTATION = r"""
name: password
author: Ocerra (@Ocerra)
version_added: 0.1.0
short_description: Generate an API user password that meets the MYOB 2023.1.3 policy
description:
  - Returns one new random password per term (one when there is none), from the operating
    system's cryptographic source, that meets the MYOB 2023.1.3 policy (at least 14
    characters with an upper-case letter, a lower-case letter and a digit or symbol).
  - The default alphabet holds letters, digits and the symbols C(-_.!*~^=:;?@), which travel
    unchanged through the ERP's sign-in form, Ocerra's settings page, JSON, YAML and Jinja;
    an alphabet with a quote, backslash, space, C(<>&%+#{}$) or a control character is refused.
  - A generated password exists only in this run, so store it before using it (the rotate
    playbook writes it to the site's password store before either system is touched).
options:
  length:
    description: The number of characters (at least O(min_length)).
    type: int
    default: 24
  alphabet:
    description: The characters to draw from.
    type: str
    default: "A-Z a-z 0-9 and -_.!*~^=:;?@"
  min_length:
    description: The site's minimum length (MYOB 2023.1.3's is 14).
    type: int
    default: 14
"""

EXAMPLES = r"""
- name: A new password for the API user, vaulted by the person who runs this
  ansible.builtin.debug:
    msg: "{{ lookup('ocerra.acumatica.password', length=32) }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One password per term.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import (
    DEFAULT_ALPHABET, DEFAULT_LENGTH, MIN_LENGTH, generate)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        length = self.get_option("length") or DEFAULT_LENGTH
        alphabet = self.get_option("alphabet")
        alphabet = DEFAULT_ALPHABET if alphabet in (None, "A-Z a-z 0-9 and -_.!*~^=:;?@") else alphabet
        try:
            return [generate(length, alphabet, self.get_option("min_length") or MIN_LENGTH)
                    for _term in (terms or [None])]
        except ValueError as exc:
            raise AnsibleLookupError(str(exc)) from None
