"""Typed answers other than success. The model raises them with the exact texts and the
status the current switches imply; the routes only render them."""
from . import texts

STACK = "   at PX.Api.ContractBased.WebApi.Controllers.EntityController.Invoke()"


def http_error(text, exception_type="PX.Data.PXException") -> dict:
    """The swagger `HttpError` body (§4)."""
    return {"message": "An error has occurred.", "exceptionMessage": text,
            "exceptionType": exception_type, "stackTrace": STACK}


class AcumaticaError(Exception):
    """status, body (JSON value, text or None), extra headers, and for the request log the
    site ("instance/tenant") and user it concerned, when known."""

    def __init__(self, status, body=None, headers=None, content_type="application/json",
                 site=None, user=None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.site = site
        self.user = user


class SignInFailed(AcumaticaError):
    def __init__(self, status, text, exception_type="PX.Data.PXException", **where):
        super().__init__(status, http_error(text, exception_type), **where)


class LoginLimit(AcumaticaError):
    """API Login Limit, as a JSON error or a redirect to Frames/Error.aspx (switch)."""


class NotLoggedIn(AcumaticaError):
    def __init__(self):
        super().__init__(401, http_error(texts.NOT_LOGGED_IN, "PX.Data.PXNotLoggedInException"))


class Forbidden(AcumaticaError):
    def __init__(self, form, screen):
        super().__init__(403, http_error(texts.INSUFFICIENT_RIGHTS.format(form, screen),
                                         "PX.Data.PXSetPropertyException"))


class NotFound(AcumaticaError):
    """ASP.NET Web API's 404 for an unknown endpoint, entity or action (§7)."""

    def __init__(self, url):
        super().__init__(404, {"message": texts.NO_RESOURCE.format(url)})


class NoEntity(AcumaticaError):
    def __init__(self):
        super().__init__(500, http_error(
            texts.NO_ENTITY, "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException"))


class KeyNotFound(AcumaticaError):
    """A field the endpoint does not map, in $select, $expand, $filter or a PUT (§7)."""

    def __init__(self, name):
        super().__init__(500, http_error(texts.KEY_NOT_FOUND.format(name),
                                         "System.Collections.Generic.KeyNotFoundException"))


class BadRequest(AcumaticaError):
    def __init__(self, text):
        super().__init__(400, http_error(text, "System.ArgumentException"))


class PreconditionFailed(AcumaticaError):
    def __init__(self, text):
        super().__init__(412, http_error(text, "PX.Api.ContractBased.PreconditionFailedException"))


class EntityHasErrors(AcumaticaError):
    """422: the record with `error` on each bad field and a top-level `error` (§7)."""

    def __init__(self, record):
        super().__init__(422, record)


class ActionFailed(AcumaticaError):
    def __init__(self, text, exception_type="PX.Data.PXException"):
        super().__init__(500, http_error(text, exception_type))


class Throttled(AcumaticaError):
    """429 over a request limit (§9)."""


class LengthRequired(AcumaticaError):
    def __init__(self):
        super().__init__(411, texts.LENGTH_REQUIRED, content_type="text/html")
