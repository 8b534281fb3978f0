# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Filters behind the roles `ocerra_entities` and `site_report`: a site's outcome from the
results its tasks registered, and the run's report.

Pure functions over registered results (no I/O), so the roles stay a few tasks long and the
rules are unit-tested (tests/unit/test_site_report_filters.py). Nothing here ever sees a
password: the modules return none, and `without_secrets` drops an entity's `password` before
it becomes a loop item.

A site ends as one of:
  ok        nothing to change (or, for a read-only report, nothing wrong found);
  changed   something was changed (or would be, in check mode) and the site ends connected;
  degraded  the ERP and Ocerra may disagree after this run (the ERP password changed but an
            entity could not be updated, or entities were left switched off); the reason says
            what a later run does to finish it;
  failed    the run stopped before anything was left half-done; the reason says what to fix.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report_spool

DOCUMENTATION = r"""
name: site_report
short_description: Site outcomes and the run report of the toolkit's playbooks
description:
  - Helpers of the roles C(ocerra_entities) and C(site_report); see the role documentation.
"""

STATUSES = ("ok", "changed", "degraded", "failed")
CONNECTED = "Connected"
# erp_user failures that prove the password was not reset (refused before or at the reset
# action), so entities switched off for it can safely be switched back on with the old one.
PASSWORD_UNCHANGED_KINDS = {
    "password_rejected", "invalid_credentials", "sign_in_refused", "unknown_tenant", "login_limit",
    "insufficient_rights", "account_disabled", "endpoint_not_published", "licence_unavailable",
    "role_not_allowed", "missing_option", "password_policy", "customization_failed",
}


# ---- small helpers ----------------------------------------------------------------------
def _ran(result):
    """A registered result of a task that ran (not undefined, not skipped)."""
    return isinstance(result, dict) and not result.get("skipped") and bool(result)


def _failed(result):
    return _ran(result) and bool(result.get("failed"))


def _items(result):
    """The item results of a registered loop that ran (skipped items left out)."""
    if not isinstance(result, dict):
        return []
    return [r for r in result.get("results") or [] if isinstance(r, dict) and not r.get("skipped")]


def label(entity):
    entity = entity or {}
    return str(entity.get("client_id") or entity.get("name") or "?")


def _first_line(text, limit=400):
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def error_message(result):
    """A failed result's message, with the entity's last status when it has one."""
    if not isinstance(result, dict):
        return None
    msg = result.get("msg") or "failed"
    if msg == "One or more items failed":
        msgs = ["%s: %s" % (label(r.get("item")), _first_line(r.get("msg"))) for r in _items(result)
                if r.get("failed")]
        msg = "; ".join(msgs) or msg
    return _first_line(msg).rstrip(".")


def _plural(n, word):
    if n == 1:
        return "1 %s" % word
    return "%d %s" % (n, word[:-1] + "ies" if word.endswith("y") else word + "s")


# ---- ocerra_entities --------------------------------------------------------------------
def without_secrets(entities):
    """The site's entities as loop items: every key but `password` (the site validation
    requires it to equal api_user_password, which the role sends instead)."""
    return [{k: v for k, v in dict(e).items() if k != "password"} for e in entities or []]


def _connected(connection):
    connection = connection or {}
    return bool(connection.get("enabled")) and (connection.get("status") or {}).get("code") == CONNECTED


def entities_to_connect(probe_results):
    """Entities whose check-mode read shows work: a setting or Enable Connection differs,
    Ocerra has no password, or the status is not Connected. Each gets the password pushed."""
    return [r["item"] for r in probe_results or []
            if isinstance(r, dict) and not r.get("skipped")
            and (r.get("changed") or r.get("failed") or not _connected(r.get("connection")))]


# ---- outcome of a provisioning / restoring run ------------------------------------------
def _entity_views(declared, *registered):
    """label -> what the report shows of an entity, newest registered result last."""
    views = {}
    for entity in declared or []:
        views[label(entity)] = {"client_id": entity.get("client_id"), "client_name": entity.get("name"),
                                "status": None, "enabled": None, "changed": False,
                                "password_pushed": False, "error": None}
    for kind, result in registered:
        for r in _items(result):
            view = views.setdefault(label(r.get("item")), {
                "client_id": (r.get("item") or {}).get("client_id"), "client_name": None, "status": None,
                "enabled": None, "changed": False, "password_pushed": False, "error": None})
            connection = r.get("connection") or {}
            if connection:
                view["client_id"] = connection.get("client_id") or view["client_id"]
                view["client_name"] = connection.get("client_name") or view["client_name"]
                view["status"] = (connection.get("status") or {}).get("code")
                view["enabled"] = connection.get("enabled")
            if kind == "read":
                if r.get("failed"):
                    view["error"] = _first_line(r.get("msg"))
                continue
            view["changed"] = bool(view["changed"] or r.get("changed"))
            view["password_pushed"] = bool(view["password_pushed"] or r.get("password_pushed"))
            view["error"] = _first_line(r.get("msg")) if r.get("failed") else None
    return views


def _erp_view(site, erp, reset, read=None):
    runs = [r for r in (erp, reset) if _ran(r)]
    final = next((r for r in reversed(runs) if not r.get("failed") and r.get("user")), None)
    user = (final or {}).get("user") or ((read or {}).get("user") if _ran(read) else None) or {}
    keep = ("exists", "status", "locked", "enabled", "roles", "licence_types", "password_never_expires",
            "force_password_change", "user_type", "last_login")
    return {
        "url": site.get("url"), "tenant": site.get("tenant"), "login": site.get("login"),
        "changed": any(bool(r.get("changed")) for r in runs),
        "password_updated": any(bool(r.get("password_updated")) for r in runs if not r.get("failed")),
        "password_change_pending": bool(_ran(erp) and erp.get("password_change_pending")),
        "actions": [a for r in runs for a in (r.get("actions") or [])],
        "user": {k: user.get(k) for k in keep if k in user},
        "error": next((error_message(r) for r in runs if r.get("failed")), None),
    }


def _stage(data):
    """Which step stopped the site: read, erp, off, reset, probe, on, rollback or None."""
    if not data.get("failure"):
        return None
    if any(_failed(r) for r in (data.get("read_erp"), data.get("read_entities"))):
        return "read"
    erp, reset = data.get("erp"), data.get("erp_reset")
    if data.get("mode") != "restore" and (not _ran(erp) or _failed(erp)):
        return "erp"
    safe_order = data.get("mode") == "restore" or bool(_ran(erp) and erp.get("password_change_pending"))
    if safe_order:
        if not _ran(reset):
            return "off"
        if _failed(reset):
            return "reset"
        return "on"
    if _failed(data.get("probe")):
        return "probe"
    return "on"


def rollback_items(data):
    """Entities this run switched off that may safely be switched back on: the ERP password
    is known to be unchanged (the step that stopped the run came before the reset, or the
    reset was refused)."""
    stage = _stage(data)
    if stage == "reset":
        if (data.get("erp_reset") or {}).get("error_kind") not in PASSWORD_UNCHANGED_KINDS:
            return []
    elif stage != "off":
        return []
    return [r["item"] for r in _items(data.get("entities")) if r.get("changed")]


def _entities_summary(views, check):
    total = len(views)
    pushed = [k for k, v in views.items() if v["password_pushed"]]
    changed = [k for k, v in views.items() if v["changed"] and not v["password_pushed"]]
    connected = [k for k, v in views.items() if v["status"] == CONNECTED and v["enabled"]]
    parts = []
    if pushed:
        parts.append("password %s to %s" % ("would be pushed" if check else "pushed", _plural(len(pushed), "entity")))
    if changed:
        parts.append("%s %s" % (_plural(len(changed), "entity"), "would be updated" if check else "updated"))
    if not check:
        parts.append("%d of %s Connected" % (len(connected), _plural(total, "entity")))
    return "; ".join(parts)


def site_outcome(data):
    """The site's report entry ({status, reason, erp, entities}) from the results its tasks
    registered. `data` keys: mode (provision|restore), site {url, tenant, login}, declared
    (entities), erp, erp_reset, probe, entities, rollback, failure {task, result}, findings
    (restore: what was wrong), check_mode."""
    data = dict(data or {})
    site = data.get("site") or {}
    check = bool(data.get("check_mode"))
    login = site.get("login") or "the API user"
    erp, reset = data.get("erp"), data.get("erp_reset")
    views = _entity_views(data.get("declared"), ("read", data.get("probe")), ("write", data.get("entities")),
                          ("write", data.get("rollback")))
    erp_view = _erp_view(site, erp, reset, data.get("read_erp"))
    stage = _stage(data)
    findings = data.get("findings")
    prefix = "Plan (check mode, nothing written): " if check else ""
    found = ("Found: %s. " % "; ".join(findings)) if findings else (
        "Found nothing wrong in the API user or the entities' last status. " if findings is not None else "")
    failure = data.get("failure") or {}
    failed_result = failure.get("result") if isinstance(failure, dict) else None
    why = error_message(failed_result) or "failed"

    if stage is None:
        entity_changed = any(v["changed"] for v in views.values())
        status = "changed" if (erp_view["changed"] or entity_changed) else "ok"
        parts = []
        if erp_view["actions"]:
            parts.append("ERP: %s" % ", ".join(erp_view["actions"]))
        if data.get("mode") == "restore" or erp_view["password_change_pending"]:
            parts.insert(0, "Safe order: every entity switched off, ERP password reset, pushed to every "
                            "entity, switched back on")
        parts.append("Ocerra: %s" % _entities_summary(views, check))
        if status == "ok":
            reason = "API user %s in sync; %s." % (login, _entities_summary(views, check) or "no entity")
        else:
            reason = ("Done: " if findings is not None else "") + "; ".join(p for p in parts if p) + "."
        return _entry(status, prefix + found + reason, erp_view, views)

    rolled = _items(data.get("rollback"))
    still_off = [label(r.get("item")) for r in rolled if r.get("failed")]
    if stage in ("read", "erp", "probe"):
        what = {"read": "Reading the site's state failed", "erp": "The ERP step failed",
                "probe": "Reading the Ocerra entities failed"}[stage]
        tail = " Nothing was left half-done: the ERP password was not changed%s." % (
            "" if stage == "read" else " and no entity was switched off")
        return _entry("failed", prefix + found + "%s: %s.%s Fix the cause and run again." % (what, why, tail),
                      erp_view, views)
    if stage in ("off", "reset"):
        what = ("Switching the entities off before the password change failed" if stage == "off"
                else "The ERP refused to reset the password of %s" % login)
        switched = [r for r in _items(data.get("entities")) if r.get("changed")]
        if stage == "reset" and (reset or {}).get("error_kind") not in PASSWORD_UNCHANGED_KINDS:
            return _entry("degraded", prefix + found + (
                "The ERP password reset of %s failed: %s. Whether it took effect is unknown, so the %s "
                "switched off stay off (Ocerra cannot lock the user out meanwhile). Fix the cause and run "
                "again: the next run checks the ERP password and finishes the change."
                % (login, why, _plural(len(switched), "entity"))), erp_view, views)
        if still_off:
            return _entry("degraded", prefix + found + (
                "%s: %s. The ERP password is unchanged, but %s could not be switched back on (%s). Run "
                "again: the next run finishes the change." % (what, why, _plural(len(still_off), "entity"),
                                                              ", ".join(still_off))), erp_view, views)
        undone = (" The %s switched off were switched back on." % _plural(len(switched), "entity")
                  if switched else "")
        return _entry("failed", prefix + found + (
            "%s: %s. Nothing was left half-done: the ERP password is unchanged.%s Fix the cause and run again."
            % (what, why, undone)), erp_view, views)
    # stage == "on": the password may be new in the ERP and some entity lacks it.
    bad = [(k, v["error"]) for k, v in views.items() if v["error"]] or [("?", why)]
    head = ("The ERP password of %s changed, but" % login) if erp_view["password_updated"] else (
        "The ERP holds the inventory's password of %s, but" % login)
    more = " (and %d more)" % (len(bad) - 1) if len(bad) > 1 else ""
    return _entry("degraded", prefix + found + (
        "%s %s could not be updated or verified (%s); first error: %s%s. A later run finishes it: it pushes "
        "the password to every entity that is not Connected." % (
            head, _plural(len(bad), "entity"), ", ".join(k for k, _ in bad), str(bad[0][1]).rstrip("."), more)),
        erp_view, views)


def _entry(status, reason, erp, entities):
    return {"status": status, "reason": reason, "erp": erp, "entities": entities}


# ---- restore_connection: what was wrong -------------------------------------------------
def restore_findings(user, connections, declared):
    """What is wrong with the site's connection, in words, from erp_user_info's `user` and
    ocerra_connection_info's `connections` (the entities using this site and login)."""
    found = []
    user = user or {}
    if not user.get("exists", True) or user == {}:
        found.append("the API user does not exist")
    else:
        if user.get("locked"):
            found.append("the API user is locked out")
        if user.get("force_password_change"):
            found.append("the API user must change its password at next sign-in (as after the 2023.1.3 "
                         "upgrade's reset)")
        if user.get("enabled") is False:
            found.append("the API user is disabled")
        if user.get("password_never_expires") is False:
            found.append("the API user's password expires")
    by_id = {str(c.get("client_id")).lower(): c for c in connections or []}
    by_name = {str(c.get("client_name") or "").casefold(): c for c in connections or []}
    seen = set()
    for entity in declared or []:
        conn = (by_id.get(str(entity.get("client_id")).lower()) if entity.get("client_id")
                else by_name.get(str(entity.get("name")).casefold()))
        name = label(entity)
        if conn is None:
            found.append("%s is not connected to this site and login in Ocerra" % name)
            continue
        seen.add(str(conn.get("client_id")).lower())
        name = conn.get("client_name") or name
        if not conn.get("enabled"):
            found.append("%s: Enable Connection is off" % name)
        if not conn.get("has_password"):
            found.append("%s: no password stored" % name)
        code = (conn.get("status") or {}).get("code")
        if conn.get("enabled") and code != CONNECTED:
            found.append("%s: status %s" % (name, code))
    for conn in connections or []:
        if str(conn.get("client_id")).lower() not in seen:
            found.append("%s (%s) uses this site and login but is not in ocerra_entities: it is restored "
                         "too; add it to the inventory" % (conn.get("client_name"), conn.get("client_id")))
    return found


def restore_entities(declared, connections):
    """The entities a restore must reach: the inventory's plus any other entity that signs in
    to this site with the same login (a password change breaks them all)."""
    items = without_secrets(declared)
    known_ids = {str(e.get("client_id")).lower() for e in items if e.get("client_id")}
    known_names = {str(e.get("name")).casefold() for e in items if e.get("name")}
    for conn in connections or []:
        if str(conn.get("client_id")).lower() in known_ids:
            continue
        if str(conn.get("client_name") or "").casefold() in known_names:
            continue
        items.append({"client_id": conn.get("client_id")})
    return items


# ---- report.yml: the observed state -------------------------------------------------------
def observed_outcome(data):
    """A read-only report entry: `data` keys site, declared, desired {roles, roles_mode,
    licence_type}, read_erp (erp_user_info), read_entities (ocerra_connection_info), failure."""
    data = dict(data or {})
    site = data.get("site") or {}
    read_erp, read_entities = data.get("read_erp"), data.get("read_entities")
    connections = (read_entities or {}).get("connections") if _ran(read_entities) else []
    views = {}
    for entity in data.get("declared") or []:
        views[label(entity)] = {"client_id": entity.get("client_id"), "client_name": entity.get("name"),
                                "status": None, "enabled": None, "changed": False,
                                "password_pushed": False, "error": None}
    for conn in connections or []:
        key = next((k for k, v in views.items()
                    if (v["client_id"] and str(v["client_id"]).lower() == str(conn.get("client_id")).lower())
                    or (v["client_name"] and str(v["client_name"]).casefold()
                        == str(conn.get("client_name") or "").casefold())), str(conn.get("client_id")))
        view = views.setdefault(key, {"client_id": None, "client_name": None, "status": None, "enabled": None,
                                      "changed": False, "password_pushed": False, "error": None})
        view.update(client_id=conn.get("client_id"), client_name=conn.get("client_name"),
                    status=(conn.get("status") or {}).get("code"), enabled=conn.get("enabled"))
    erp_view = _erp_view(site, None, None, read_erp)
    failure = data.get("failure")
    if failure or _failed(read_erp) or _failed(read_entities):
        why = error_message(read_erp if _failed(read_erp) else read_entities if _failed(read_entities)
                     else (failure or {}).get("result"))
        erp_view["error"] = error_message(read_erp) if _failed(read_erp) else None
        return _entry("failed", "Could not read the site's state: %s." % why, erp_view, views)
    user = (read_erp or {}).get("user") or {}
    found = restore_findings(user, connections, data.get("declared"))
    desired = data.get("desired") or {}
    if user.get("exists"):
        have = {str(r).strip().casefold() for r in user.get("roles") or []}
        want = {str(r).strip().casefold() for r in desired.get("roles") or []}
        missing, extra = sorted(want - have), sorted(have - want)
        if missing:
            found.append("roles missing: %s" % ", ".join(missing))
        if extra and desired.get("roles_mode", "exact") == "exact":
            found.append("roles not in the inventory: %s" % ", ".join(extra))
        licence = desired.get("licence_type")
        if licence and licence.casefold() not in {str(t).casefold() for t in user.get("licence_types") or []}:
            found.append("licence type %s not assigned" % licence)
    if not found:
        return _entry("ok", "API user %s in place; %d of %s Connected."
                      % (site.get("login"), len(views), _plural(len(views), "entity")), erp_view, views)
    return _entry("degraded", "Found: %s. Run playbooks/provision.yml (or playbooks/restore_connection.yml "
                  "for a locked, reset or forced-change API user) to fix it." % "; ".join(found), erp_view, views)


# ---- publish_endpoint.yml ------------------------------------------------------------------
def endpoint_outcome(data):
    data = dict(data or {})
    site = data.get("site") or {}
    result = data.get("endpoint")
    check = bool(data.get("check_mode"))
    erp = {"url": site.get("url"), "tenant": site.get("tenant"), "login": site.get("login"),
           "changed": bool(_ran(result) and result.get("changed")), "password_updated": False,
           "password_change_pending": False, "actions": [], "user": {},
           "endpoint": (result or {}).get("endpoint"), "digest": (result or {}).get("digest"),
           "published_digest": (result or {}).get("published_digest"), "error": None}
    if not _ran(result) or result.get("failed"):
        erp["error"] = error_message(result) or error_message((data.get("failure") or {}).get("result"))
        return _entry("failed", "Publishing the User endpoint failed: %s." % erp["error"], erp, {})
    if result.get("changed") and not data.get("publish_allowed", True):
        return _entry("failed", "%s is not published with this release's digest %s (published: %s) and "
                      "erp_publish_endpoint is false: install it by hand (customization/UserAdmin/README.md) "
                      "or allow publishing." % (result.get("endpoint"), str(result.get("digest"))[:12],
                                                str(result.get("published_digest"))[:12]
                                                if result.get("published_digest") else "none"), erp, {})
    if result.get("changed"):
        erp["actions"] = ["endpoint_published"]
        return _entry("changed", "%s%s %s (digest %s, was %s)." % (
            "Plan (check mode, nothing written): " if check else "", result.get("endpoint"),
            "would be published" if check else "published", str(result.get("digest"))[:12],
            str(result.get("published_digest"))[:12] if result.get("published_digest") else "none"), erp, {})
    return _entry("ok", "%s already published with this release's digest %s." % (
        result.get("endpoint"), str(result.get("digest"))[:12]), erp, {})


# ---- the run's report ------------------------------------------------------------------------
def site_report(hostvars, hosts, playbook="provision", check_mode=False, fact="toolkit_site", registered=None):
    """{"sites": {host: entry}, "generated": ISO 8601 UTC, "playbook", "check_mode"} for every
    host of the play; a host without an entry (it stopped outside the site's block) is failed.
    `registered` names the registered result of ocerra.acumatica.site_ensure (provision.yml):
    a site it left with nothing to do has its entry there or in the run's report spool, not
    in the fact."""
    sites = {}
    for host in hosts:
        variables = hostvars.get(host) or {}
        check = variables.get(registered) if registered else None
        if isinstance(check, dict) and check.get("next") == "done":
            entry = check.get("site") or report_spool.read(host)
        else:
            entry = variables.get(fact)
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            entry = {"status": "failed", "reason": "The run stopped for this site before its outcome was "
                     "recorded; see the task that failed above.", "erp": {}, "entities": {}}
        sites[str(host)] = entry
    return {"sites": sites, "generated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "playbook": playbook, "check_mode": bool(check_mode)}


def report_lines(report):
    """One line per site for the run's summary: `site  status  reason`."""
    sites = (report or {}).get("sites") or {}
    width = max([len(s) for s in sites] + [4])
    lines = ["%s %-8s %s" % (site.ljust(width), entry.get("status"), entry.get("reason"))
             for site, entry in sorted(sites.items())]
    counts = {s: sum(1 for e in sites.values() if e.get("status") == s) for s in STATUSES}
    lines.append("%d site(s): %s" % (len(sites), ", ".join("%d %s" % (counts[s], s) for s in STATUSES)))
    return lines


class FilterModule:
    def filters(self):
        return {
            "without_secrets": without_secrets,
            "entities_to_connect": entities_to_connect,
            "site_outcome": site_outcome,
            "rollback_items": rollback_items,
            "restore_findings": restore_findings,
            "restore_entities": restore_entities,
            "observed_outcome": observed_outcome,
            "endpoint_outcome": endpoint_outcome,
            "site_report": site_report,
            "report_lines": report_lines,
        }
