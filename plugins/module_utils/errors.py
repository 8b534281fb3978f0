"""Typed errors shared by both clients. Messages say what happened, where, and what to do.

No message, detail or repr ever holds a password, a cookie or an Authorization value: the
clients build them from the server's error text and the request's method and path only.
"""


class ToolkitError(Exception):
    """Base of every error the modules turn into a task failure."""

    kind = "error"

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def fail_kwargs(self):
        """Keyword arguments for AnsibleModule.fail_json()."""
        return {"msg": self.message, "error_kind": self.kind, **self.details}


class TransportError(ToolkitError):
    """The service could not be reached, or kept failing after bounded retries."""

    kind = "unreachable"


class RateLimited(ToolkitError):
    """The service kept answering 429 until the retry budget was spent."""

    kind = "rate_limited"


class ApiError(ToolkitError):
    """An unexpected HTTP answer that no more specific error describes."""

    kind = "api_error"


class CheckModeViolation(ToolkitError):
    """A write was attempted in check mode: a bug in the toolkit, never sent."""

    kind = "check_mode_violation"
