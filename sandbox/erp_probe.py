"""A real sign-in probe against an Acumatica site, as Ocerra's connection test does it.

`erp_signin` signs in over HTTP to `{base_url}/entity/auth/login`, signs out at once when
that worked (a probe must not hold one of the licence's few API slots), and classifies the
outcome by the error text, never by the status, which varies by build (acumatica.md §4).
"""
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import requests

OUTCOMES = ("connected", "invalid_credentials", "account_locked", "account_disabled",
            "password_change_required", "licence_limit", "tenant_not_found", "unreachable")

# (text fragment, outcome), first match wins. A user type without API access, a user not
# allowed in the tenant and a missing licence type have no outcome of their own: like
# OAuth's invalid_grant they read as bad credentials, except the licence, which is a limit.
_TEXTS = (
    ("invalid credentials", "invalid_credentials"),
    ("locked out", "account_locked"),
    ("is disabled", "account_disabled"),
    ("not activated", "account_disabled"),
    ("change your password", "password_change_required"),
    ("api login limit", "licence_limit"),
    ("number of concurrent api logins", "licence_limit"),
    ("http 429", "licence_limit"),            # IIS's page for the same limit on sign-in
    ("license type", "licence_limit"),
    ("company id cannot be determined", "tenant_not_found"),
    ("not allowed to log in to the tenant", "invalid_credentials"),
    ("cannot send api requests", "invalid_credentials"),
)


class Probe(NamedTuple):
    outcome: str
    message: str | None = None   # the server's exceptionMessage (or why it was unreachable)


def classify(message: str) -> str:
    text = (message or "").lower()
    return next((outcome for fragment, outcome in _TEXTS if fragment in text), "unreachable")


def _error_text(response) -> str:
    if response.status_code in (301, 302, 303):
        # The session limit may come back as a redirect to Frames/Error.aspx (§2).
        query = parse_qs(urlsplit(response.headers.get("Location", "")).query)
        return " ".join(query.get("errorcode", []) + query.get("message", [])) or response.headers.get("Location", "")
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict):
        return body.get("exceptionMessage") or body.get("message") or str(body)
    return str(body)


def erp_signin(base_url, tenant, branch, login, password, verify=True, timeout=10.0) -> Probe:
    """Sign in and out once; a `Probe(outcome, message)` with outcome one of OUTCOMES."""
    body = {"name": login, "password": password, "tenant": tenant}
    if branch:
        body["branch"] = branch
    base = base_url.rstrip("/")
    with requests.Session() as http:
        try:
            answer = http.post(f"{base}/entity/auth/login", json=body, verify=verify,
                               timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return Probe("unreachable", f"{type(exc).__name__}: {exc}")
        if answer.status_code == 204:
            try:
                http.post(f"{base}/entity/auth/logout", data=b"", verify=verify, timeout=timeout)
            except requests.RequestException:
                pass   # signed in is what the probe asked; the slot frees itself when idle
            return Probe("connected")
    message = _error_text(answer)
    return Probe(classify(message), message)
