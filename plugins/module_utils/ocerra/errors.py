"""The typed errors of Ocerra's answers (the adapter in client.py raises them)."""
from ..errors import ToolkitError


class OcerraAuthError(ToolkitError):
    kind = "ocerra_unauthorized"


class OcerraForbidden(ToolkitError):
    kind = "ocerra_forbidden"


class OcerraNotFound(ToolkitError):
    kind = "ocerra_not_found"


class OcerraRejected(ToolkitError):
    kind = "ocerra_rejected"


class OcerraServerError(ToolkitError):
    kind = "ocerra_server_error"


class WrongClient(ToolkitError):
    """Ocerra answered for another client than the one asked for."""

    kind = "ocerra_client_selection"
