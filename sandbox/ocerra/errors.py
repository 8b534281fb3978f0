"""The fake Ocerra's error answers, as typed exceptions the routes turn into responses."""
import uuid

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Ocerra"'}

_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}


class OcerraError(Exception):
    """An HTTP error: status, body (None = empty; JSON unless content_type says otherwise)
    and extra headers."""

    def __init__(self, status, body=None, headers=None, content_type=None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type


class Unauthorized(OcerraError):
    """Bad, missing or locked Basic credentials: always an empty body (ocerra.md §6.2)."""

    def __init__(self):
        super().__init__(401, None, CHALLENGE)


class NoRoute(OcerraError):
    """A route that does not exist under the current switches, like ASP.NET's empty 404."""

    def __init__(self):
        super().__init__(404)


def shaped(status: int, message: str, error_body: str) -> OcerraError:
    """A 400/403/404 error in the shape the `error_body` switch asks for."""
    if error_body == "empty_401":
        return Unauthorized()
    if error_body == "problem_details_400":
        return OcerraError(400, {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                                 "title": _TITLES[status], "status": 400, "detail": message,
                                 "traceId": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"},
                           content_type="application/problem+json")
    if error_body == "string_500":
        return OcerraError(500, message, content_type="text/plain; charset=utf-8")
    return OcerraError(status, {"errorMessage": message}, content_type="application/json")
