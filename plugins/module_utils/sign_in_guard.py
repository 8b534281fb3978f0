"""How a client asks before it signs in with a password that may be wrong.

A client (AcumaticaClient for its admin, OcerraClient for its service user) wraps its first
sign-in in `guard.attempt(password)` and reports what the service answered. A module run has
no memory across runs and uses UNGUARDED; the site action gives each account the guard of
plugin_utils/sign_ins.py, which remembers failures in the state folder.
"""
from contextlib import contextmanager


class Attempt:
    """What the service said of the password: it worked, or it was refused (counted toward a
    lock-out; `locked`: the account answered that it is locked out)."""

    def worked(self):
        pass

    def refused(self, locked=False):
        pass


class Unguarded:
    @contextmanager
    def attempt(self, password):    # noqa: ARG002 - the guard's interface
        yield Attempt()


UNGUARDED = Unguarded()
