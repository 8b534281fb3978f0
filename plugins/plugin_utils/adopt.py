"""Adopt sites connected by hand (playbooks/import.yml): a starting inventory from what Ocerra
and the ERPs have today.

Every entity the Ocerra service user can see is read once (the listing of discovery), grouped
into sites by ERP URL + tenant (the ERP has one user list per tenant, so one API user), and
each site's API user is read where ERP admin credentials match its URL. Nothing is written
to either service, and no secret is fetched, guessed or written: Ocerra never returns a
password, so the files carry placeholders that `./run validate` names as missing.
"""
import fnmatch
import hashlib
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user_fields import CORE, MYOB
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.errors import EndpointNotPublished
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.password_step import DEFAULT_LOCKOUT_THRESHOLD
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user import view
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user_fields import DEFAULT_LOGIN
from ansible_collections.ocerra.acumatica.plugins.module_utils.base_url import is_loopback, problem
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import base_url, find_connections, site_key
from ansible_collections.ocerra.acumatica.plugins.module_utils.sign_in_guard import UNGUARDED
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import sign_ins

ERP_WORKERS = 8             # sites whose API user is read at once (one admin session each)
SHARED_ROLES = {"administrator", "customizer"}     # roles no dedicated API user needs


class FoundSite:
    """One ERP URL + tenant as Ocerra's entities use it, and what was learnt about it."""

    def __init__(self, url, tenant, connections):
        self.url, self.tenant = url, tenant
        self.key = site_key({"erp_url": url, "tenant": tenant, "login": ""})
        logins = [str(c["login"]) for c in connections if c.get("login")]
        counts = Counter(login.casefold() for login in logins)
        # The site's API user: the login most entities use; on a tie the help article's
        # OcerraAPI, then the login of the first entity by name.
        self.login = min(logins, default=None, key=lambda login: (
            -counts[login.casefold()], login.casefold() != DEFAULT_LOGIN.casefold(), logins.index(login)))
        self.entities = [c for c in connections if self.login and _same(c.get("login"), self.login)]
        self.others = [c for c in connections if c not in self.entities]
        self.host = None
        self.admin = None           # the matching ERP admin credentials, if any
        self.user = None            # the API user as the ERP has it, when read
        self.flags = []             # what a person should look at before the first run

    def flag(self, text):
        self.flags.append(text)


def _same(a, b):
    return str(a or "").casefold() == str(b or "").casefold()


def group(connections):
    """(sites sorted by key, entities left out with the reason): one FoundSite per ERP URL + tenant.
    An entity whose URL the inventory's validation would refuse is left out, with why."""
    groups, unusable = {}, []
    for c in connections:
        url = str(c.get("erp_url") or "").strip()
        why = ("has no ERP URL in Ocerra" if not url else "has no tenant in Ocerra" if not c.get("tenant")
               else (problem("erp_url", url) and f"has an ERP URL that {problem('erp_url', url)}"))
        if why:
            unusable.append({**c, "reason": why})
            continue
        groups.setdefault(site_key({"erp_url": url, "tenant": c["tenant"], "login": ""}), []).append(c)
    sites = [FoundSite(base_url(cs[0]["erp_url"]), str(cs[0]["tenant"]).strip(), cs) for _key, cs in sorted(groups.items())]
    return sites, unusable


def host_name(url, tenant):
    """A stable, valid inventory host name from the URL and tenant: host (left out when it is
    loopback or localhost), instance path and tenant, lower case, `_` between words."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    words = ([] if is_loopback(host) else [host.removeprefix("www."), str(parts.port or "")]) + [parts.path, tenant]
    name = re.sub(r"[^a-z0-9]+", "_", " ".join(words).casefold()).strip("_")
    if not name[:1].isalpha():
        name = "site_" + name
    return name[:80].rstrip("_")


def name_hosts(sites, taken=()):
    """Give each site its host name; names that two sites (or a site and an existing host) would
    share get a short digest of the site's URL and tenant, so they stay stable run after run."""
    wanted = Counter(host_name(s.url, s.tenant) for s in sites)
    taken = {t.casefold() for t in taken}
    for s in sites:
        name = host_name(s.url, s.tenant)
        if wanted[name] > 1 or name.casefold() in taken:
            name = f"{name}_{hashlib.sha256(s.key.encode()).hexdigest()[:6]}"
        s.host = name


def match_admin(site, admins):
    """The first admin entry whose `url` pattern (and `tenant` pattern, default any) matches."""
    for admin in admins or []:
        if fnmatch.fnmatchcase(site.url.casefold(), str(admin["url"]).casefold()) and \
                fnmatch.fnmatchcase(site.tenant.casefold(), str(admin.get("tenant") or "*").casefold()):
            return admin
    return None


def read_user(site, admin, timeout=30, state_dir=None):
    """Read the site's API user in one admin session (signed out on every path); a flag when it
    cannot be read. With `state_dir`, the admin's failed sign-ins are remembered across runs
    (sign_ins.py): an import run again with a wrong admin password does not lock the admin."""
    guard = UNGUARDED if not state_dir else sign_ins.erp_admin(state_dir, site.url, site.tenant, admin["user"],
                                                               DEFAULT_LOCKOUT_THRESHOLD)
    client = AcumaticaClient(site.url, site.tenant, admin["user"], admin["password"],
                             validate_certs=admin.get("validate_certs", True), ca_path=admin.get("ca_path"),
                             timeout=timeout, retry_timeout=timeout, myob=True, guard=guard)
    try:
        try:
            site.user = view(client.get_user(site.login))
        except EndpointNotPublished:
            client.edition = CORE        # no MYOB edition here: the rest of the user, without licences
            site.user = view(client.get_user(site.login))
            site.flag(f"its licence types were not read ({MYOB.name}, the endpoint that maps them, is not "
                      "published here): on a MYOB site, set api_user_licence_type by hand")
    except EndpointNotPublished:
        site.flag("the toolkit's User endpoint is not published on this ERP, so its API user was not read: "
                  "run playbooks/publish_endpoint.yml for this site, then import again (or check the "
                  "default api_user_* values written for it)")
    except ToolkitError as exc:
        site.flag(f"its API user could not be read: {client.secrets.scrub(exc.message)}")
    finally:
        try:
            client.close()
        except ToolkitError as exc:
            site.flag(f"the admin's sign-out failed: {client.secrets.scrub(exc.message)}")


def review(site):
    """Flags about what was read: what the first provision would change, and shared logins."""
    for c in site.others:
        login = c.get("login")
        site.flag(f"entity {_label(c)} uses " + (f"the login '{login}'" if login else "no login") +
                  f" for this ERP, not '{site.login}': it is listed commented out; decide which login it should use")
    if site.admin and _same(site.admin["user"], site.login):
        site.flag(f"Ocerra signs in with the ERP admin's own login '{site.login}': give Ocerra a dedicated API "
                  "user (api_user_login) before the first provision, which would otherwise manage the admin")
    user = site.user
    if user is None:
        return
    if not user.get("exists"):
        site.flag(f"the ERP has no user '{site.login}': the first provision would create it")
        return
    if SHARED_ROLES & {r.casefold() for r in user.get("roles") or []}:
        site.flag(f"'{site.login}' holds {', '.join(sorted(r for r in user['roles'] if r.casefold() in SHARED_ROLES))}: "
                  "it looks shared with people or other apps; the toolkit expects a dedicated API user")
    would = [text for key, wanted, text in (
        ("password_never_expires", True, "set Password Never Expires"),
        ("enabled", True, "enable the user"),
        ("locked", False, "unlock the user"),
        ("force_password_change", False, "clear Force Password Change")) if bool(user.get(key)) != wanted]
    if would:
        site.flag("the first provision would " + ", ".join(would) + " (the toolkit's fixed policy)")
    if len(user.get("licence_types") or []) > 1:
        site.flag(f"'{site.login}' holds {len(user['licence_types'])} licence types; the inventory names the "
                  f"first, {user['licence_types'][0]!r}, and the first provision would remove the others")
    for c in site.entities:
        if not c.get("enabled"):
            site.flag(f"entity {_label(c)} has Enable Connection off: the first provision would switch it on")


def _label(connection):
    return f"'{printable(connection.get('client_name') or '')}' ({connection['client_id']})"


def printable(text):
    """Text safe inside a one-line YAML comment or a report line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(text)).strip()


def survey(ocerra, admins, known=None, progress=None, state_dir=None):
    """(sites, unusable entities, unreadable entities, differences) of what `ocerra`'s service
    user sees. `known` maps a site key to an existing inventory's host ({host, login,
    client_ids, names}): those sites are compared, not adopted again."""
    progress = progress or (lambda _text: None)
    progress(f"Ocerra: listing the entities {ocerra.username} can see")
    connections, unreadable = find_connections(ocerra, {})
    sites, unusable = group(connections)
    progress(f"Ocerra: {len(connections)} entities read, {len(sites)} ERP sites "
             f"({len(unusable)} left out, {len(unreadable)} unreadable)")
    known = known or {}
    differences = [d for s in sites if s.key in known for d in compare(s, known[s.key])]
    new = [s for s in sites if s.key not in known]
    name_hosts(new, taken=[k["host"] for k in known.values()])
    for s in new:
        s.admin = match_admin(s, admins)
    to_read = [s for s in new if s.admin and s.login]
    done = []

    def read(site):
        read_user(site, site.admin, state_dir=state_dir)
        done.append(site)
        progress(f"ERP {len(done)}/{len(to_read)}: {site.host} ({site.url}, tenant {site.tenant}) "
                 + ("read" if site.user else "not read"))

    with ThreadPoolExecutor(max_workers=ERP_WORKERS) as pool:
        list(pool.map(read, to_read))
    for s in new:
        if not s.login:
            s.flag("no entity of this ERP site has a login in Ocerra: fill api_user_login in")
        elif not s.admin:
            s.flag("no ERP admin credentials match its URL, so its API user was not read: fill erp_admin_user in "
                   "and check the default api_user_* values written for it")
        review(s)
    return new, unusable, unreadable, differences


def compare(site, host):
    """What an existing inventory's host lacks or has otherwise than Ocerra, as report lines."""
    lines = []
    if not _same(site.login, host["login"]):
        lines.append(f"{host['host']}: its entities sign in as '{site.login}', the inventory says '{host['login']}'")
    listed_ids, listed_names = host["client_ids"], host["names"]
    for c in site.entities:
        if str(c["client_id"]).casefold() not in listed_ids and \
                str(c.get("client_name") or "").strip().casefold() not in listed_names:
            lines.append(f"{host['host']}: entity {_label(c)} uses this site but is not in its ocerra_entities "
                         f"(add `- client_id: {c['client_id']}`)")
    return lines
