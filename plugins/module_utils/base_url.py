"""What a service's base URL may be: the one rule for inventories (site_validation) and for
module options (module_kit.check_options), checked before any request.

A message never quotes the URL: it may hold a user and password.
"""
import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# What users paste instead of the site root: a browser session or page, an API path.
_BROWSER = ((re.compile(r"\(W\(", re.IGNORECASE), "a browser session URL: remove the '(W(n))' part"),
            (re.compile(r"Main\?CompanyID=", re.IGNORECASE), "a browser page URL: remove 'Main?CompanyID=...'"))
# An API path of either service is never a base URL (an Acumatica one pasted as Ocerra's is refused too).
_API_PATHS = {"erp_url": re.compile(r"/(entity|identity|odata|api)(/|$)", re.IGNORECASE),
              "ocerra_url": re.compile(r"/(api|odata|swagger|entity|identity)(/|$)", re.IGNORECASE)}
EXAMPLES = {"erp_url": "https://contoso.myobadvanced.com", "ocerra_url": "https://app.ocerra.com"}


def is_loopback(host):
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def problem(name, url):
    """Why `url` cannot be the base URL `name` (erp_url or ocerra_url); None when it can."""
    if not isinstance(url, str):
        return None  # a type error, said by whoever checks types
    if _CONTROL.search(url):
        return "must not contain spaces, line breaks or control characters"
    for pattern, what in _BROWSER:
        if pattern.search(url):
            return "must be the site's base URL, not %s" % what
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "must be an absolute http:// or https:// base URL, e.g. %s" % EXAMPLES.get(name, EXAMPLES["erp_url"])
    if "@" in parts.netloc:
        return ("must not hold a user name or password (user:password@host): the toolkit signs in with "
                "the credentials of their own variables, and a URL is printed and logged")
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = -1
    if port is not None and not 1 <= port <= 65535:
        return "must have a port between 1 and 65535"
    if not _valid_host(parts.hostname or ""):
        return "must name a valid host (a DNS name, an IPv4 address or an [IPv6] address)"
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
        return ("must use https:// (http:// only for a loopback host such as 127.0.0.1 or localhost): "
                "the passwords would cross the network in clear text")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must be a base URL without query string or fragment"
    if _DOT_SEGMENT.search(parts.path):
        return "must not contain '.' or '..' path segments (or their %2e forms)"
    api = _API_PATHS.get(name)
    found = api.search(parts.path) if api else None
    if found:
        return "must be the site's base URL, not an API path: remove '%s' and what follows" % found.group(0).rstrip("/")
    return None


def _valid_host(host):
    if not host or len(host) > 253:
        return False
    if ":" in host:  # urlsplit strips an IPv6 address's brackets
        try:
            ipaddress.IPv6Address(host)
            return True
        except ValueError:
            return False
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
            return True
        except ValueError:
            return False
    return all(_LABEL.match(label) for label in host.rstrip(".").split("."))
