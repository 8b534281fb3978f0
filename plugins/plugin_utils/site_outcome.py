"""A site's report entry, built from the Record its flow kept (site_flow.py): which step
stopped it, what was read and what was done. Pure functions, no I/O, no secret: the Record
holds none.

A site ends as one of:
  ok        nothing to change (or, for a read-only report, nothing wrong found);
  changed   something was changed (or would be, in check mode) and the site ends connected;
  degraded  the ERP and Ocerra may disagree after this run (the ERP password changed but an
            entity could not be updated, or entities were left switched off); the reason says
            what a later run does to finish it;
  failed    the run stopped before anything was left half-done; the reason says what to fix.
"""
from datetime import timedelta

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.user import user_summary
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import CONNECTED
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import plan
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    CONCURRENT_CHANGE, CONFIRM, CONTROLLER_GONE, DISCARD, DISCARDED, DRIFTED, DUE, ENTITIES_OFF, ENTITIES_ON, ERP, ERP_PASSWORD,
    FIND_ENTITIES, FINISHED, LOCK, LOGIN_LIMIT, NOT_DUE, NOTHING_PENDING, PASSWORD_NOWHERE, PENDING, PREPARE, PROMOTE,
    PROVISION,
    PUBLISH, READ_ENTITIES, READ_USER, REPORT, RESTORE, ROTATE, STAGE, STORE, STORE_CHECK, UNLISTED_ENTITIES,
    VERIFY, password_age_days, when)

STATUSES = ("ok", "changed", "degraded", "failed")
PLAN = "Plan (check mode, nothing written): "
SAFE_ORDER = ("Safe order: every entity switched off, ERP password reset and verified, pushed to every "
              "entity (the first one tested before the others), switched back on")
# The step that stopped a provision or restore -> the stage the reason describes.
STAGES = {STORE: "store", READ_USER: "read", FIND_ENTITIES: "read", ERP: "erp", READ_ENTITIES: "entities",
          LOCK: "lock", ENTITIES_OFF: "off", ERP_PASSWORD: "reset", VERIFY: "verify", ENTITIES_ON: "on",
          CONFIRM: "confirm", STORE_CHECK: "other", PROMOTE: "other", DISCARD: "other"}
SESSION_IDLE = timedelta(minutes=10)    # an unclosed ERP API session is freed this long after its last request


def entry(status, reason, erp, entities):
    return {"status": status, "reason": reason, "erp": erp, "entities": entities}


def outcome(record):
    """The site's report entry: {status, reason, erp, entities} (and, for a site whose password
    is in a store, `rotation`)."""
    if record.mode == REPORT:
        return _observed(record)
    if record.mode == PUBLISH:
        return _endpoint(record)
    result = _rotation(record) if record.mode == ROTATE else _changed(record)
    if record.site.store is not None:
        result["rotation"] = record.rotation
    if record.store_written_back:
        result["reason"] += " " + record.store_written_back
    if record.taken_over:
        result["reason"] = ("Take-over (nobody knew the API user's password): a new one generated to the policy %s "
                            "as pending in %s before anything else is written, and set in the ERP as the admin, "
                            "never by signing in with an unknown password. " % (
                                "would be stored" if record.check_mode else "is stored", record.site.store.where)
                            ) + result["reason"]
    if record.check_mode:
        result["plan"] = plan.of_site(record, result["status"])
    return result


# ---- pieces ---------------------------------------------------------------------------------

def _plural(n, word):
    if n == 1:
        return "1 %s" % word
    return "%d %s" % (n, word[:-1] + "ies" if word.endswith("y") else word + "s")


def _why(step):
    text = " ".join(str(getattr(step.error, "message", step.error) or "failed").split())
    return text.rstrip(".")


def _entity_views(record):
    views = {}
    for key, run in record.entities.items():
        connection = run.connection or {}
        views[key] = {"client_id": run.client_id, "client_name": run.client_name,
                      "status": (connection.get("status") or {}).get("code") if connection else None,
                      "enabled": connection.get("enabled") if connection else None,
                      "changed": run.changed, "password_pushed": run.password_pushed, "error": run.error}
    return views


def _erp_view(record, failed):
    erp, site = record.erp, record.site
    return {"url": site.url, "tenant": site.tenant, "login": site.login,
            "password_age_days": password_age_days(erp.user, erp.server_time), "changed": erp.changed,
            "password_updated": erp.password_updated, "password_change_pending": erp.password_change_pending,
            "actions": list(erp.actions), "user": user_summary(erp.user or {}),
            "error": _why(failed) if failed is not None and failed.name in (ERP, ERP_PASSWORD, READ_USER, VERIFY)
            else None}


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


def findings(record):
    """What is wrong with the site's connection, in words, from the user and the entities as
    they were read (restore, report)."""
    found = []
    user = record.erp.read or {}
    if not user.get("exists"):
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
    found_ids = {str(c.get("client_id")).lower() for c in record.connections or []}
    for run in record.entities.values():
        name = run.client_name or run.key
        if run.declared and str(run.client_id).lower() not in found_ids:
            found.append("%s is not connected to this site and login in Ocerra" % run.key)
            continue
        connection = run.read or {}
        if not run.declared:
            found.append("%s (%s) uses this site and login but is not in ocerra_entities: it is restored "
                         "too; add it to the inventory" % (run.client_name, run.client_id))
            continue
        if not connection.get("enabled"):
            found.append("%s: Enable Connection is off" % name)
        if not connection.get("has_password"):
            found.append("%s: no password stored" % name)
        code = (connection.get("status") or {}).get("code")
        if connection.get("enabled") and code != CONNECTED:
            found.append("%s: status %s" % (name, code))
    return found


# ---- provision and restore -------------------------------------------------------------------

def _unlisted_note(record):
    found = [r for r in record.entities.values() if not r.declared]
    if not found:
        return ""
    return " Found, not in the inventory (part of every change; add them to ocerra_entities): %s." % ", ".join(
        "%s (%s)" % (r.client_name, r.client_id) for r in found)


def _history(record):
    """What the journal (or the shared store's lease) says an earlier run left unfinished."""
    change = record.previous
    if not change:
        return ""
    steps = change.get("steps") or []
    last = steps[-1] if steps else None
    where = "at step '%s' (%s at %s)" % (last["step"], last["event"], last.get("at")) if last else "before its first step"
    erp = ("the ERP may already hold its new password" if any(s["step"] == ERP_PASSWORD for s in steps)
           else "it had not reset the ERP password")
    machine = "on %s" % change["controller"] if change.get("controller") else "on this machine"
    return ("An earlier run %s left a password change unfinished (started %s, stopped %s; %s). "
            % (machine, change.get("started"), where, erp))


def _free_at(record):
    """When the ERP frees the session a run of this machine that never finished left open:
    its idle timeout after that run's last recorded step (or its start), or None."""
    runs = record.unfinished_runs
    if not runs:
        return None
    last = when(runs[-1].get("last_step_at") or runs[-1].get("started"))
    return last + SESSION_IDLE if last else None


def _abandoned_sessions(record):
    """Who holds the ERP sessions an API Login Limit refused this run for, as far as this
    machine's journal and the shared store's lease know, and from when the next run can sign in."""
    if record.live_runs:
        return (" Another run on this machine (pid %s, started %s) is working on this site now and may hold "
                "them; run again when it has finished." % (record.live_runs[-1].get("pid"),
                                                           record.live_runs[-1].get("started")))
    free = _free_at(record)
    if free is None:
        return ""
    last = record.unfinished_runs[-1]
    who = last.get("controller", "this machine")
    return (" A run on %s that started at %s (pid %s) never finished (killed?): an ERP session it "
            "opened stays open until the ERP frees it, about 10 minutes after its last request: run again after "
            "%s." % (who, last.get("started"), last.get("pid"), free.strftime("%H:%M UTC")))


def _state(record):
    """(something half done?, the site's state in words), from what this run did and read and
    from the journal; what this run only did not do says nothing about the site."""
    erp, runs = record.erp, list(record.entities.values())
    # Off with a password: switched off (by a change, or a person); off without one: never connected.
    off = [r.key for r in runs if r.connection and not r.connection.get("enabled") and r.connection.get("has_password")]
    unknown = [r.key for r in runs if not r.connection] if record.connections is not None else []
    reset_unknown = record.step(ERP_PASSWORD) is not None and not erp.password_updated \
        and erp.password_unchanged is not True
    if erp.password_updated:
        said = ["this run changed the ERP password"]
    elif reset_unknown:
        said = ["whether this run's ERP password reset took effect is not known"]
    else:
        said = ["the ERP password was not changed by this run"]
    if off:
        verb = "is" if len(off) == 1 else "are"
        said.append("%s %s switched off (%s)" % (_plural(len(off), "entity"), verb, ", ".join(off)))
    elif record.connections is None:
        said.append("the entities were not read, so whether one is switched off is not known")
    elif runs and not unknown:
        said.append("no entity is switched off")
    if unknown:
        said.append("the state of %s is not known (not read, or its last write failed)" % ", ".join(unknown))
    lock = record.step(LOCK)
    took_over = lock is not None and lock.status == "done"    # this run's own change replaced an earlier one
    ours = [r.key for r in runs if (r.switched_off or r.changed or r.password_pushed)
            and not (r.connection and r.connection.get("enabled"))]
    half = bool(ours or erp.password_updated or reset_unknown or (record.previous and not took_over))
    if not half and not unknown and not off and record.connections is not None:
        return False, "Nothing was left half-done: %s." % " and ".join(said)
    text = "; ".join(said)
    return half, text[:1].upper() + text[1:] + "."


def _stopped(record, failed):
    """Why a change stopped, and what it left: for a signal or a controller that has gone
    (`failed`: the step it stopped in or after, None before the first)."""
    name = failed.name if failed is not None else "start"
    what = ("Stopped by signal %s" % record.interrupted if record.interrupted is not None
            else "Stopped because ansible-playbook had gone")
    half, state = _state(record)
    off = [r.key for r in record.entities.values() if r.connection and not r.connection.get("enabled")]
    shield = " Entities left off cannot lock the API user out." if off else ""
    return ("degraded" if half else "failed"), (
        "%s during step '%s'. %s%s Every session was signed out and the journal says where it stopped. Run "
        "again: the next run finishes the change." % (what, name, state, shield))


def _done(record, views, erp, login):
    """The reason of a run that finished: what it changed, or that the site is in sync."""
    check = record.check_mode
    status = "changed" if (erp["changed"] or any(v["changed"] for v in views.values())) else "ok"
    if status == "ok":
        return status, "API user %s in sync; %s." % (login, _entities_summary(views, check) or "no entity")
    parts = []
    if record.mode == RESTORE or erp["password_change_pending"]:
        parts.append(SAFE_ORDER)
    if erp["actions"]:
        parts.append("ERP: %s" % ", ".join(erp["actions"]))
    summary = _entities_summary(views, check)
    if summary:
        parts.append("Ocerra: %s" % summary)
    if "endpoint_published" in erp["actions"] and check:
        parts.append("publishing the User endpoint restarts the ERP application for every user, and the "
                     "roles and licence seats are checked once it is there")
    return status, ("Done: " if record.mode == RESTORE else "") + "; ".join(parts) + "."


def _sent_before(record):
    """What this run wrote before a change stopped at its start, in words: the ERP step's
    writes (an unlock, the user's flags) come before the password change."""
    if not record.erp.actions:
        return "This run stopped without changing anything. "
    return "Before it stopped, this run sent to the ERP: %s; the password was not changed. " % ", ".join(
        record.erp.actions)


def _changed(record):
    login = record.site.login or "the API user"
    failed = record.failed_step
    stage = STAGES.get(failed.name, "other") if failed else None
    views = _entity_views(record)
    erp = _erp_view(record, failed)
    prefix = (PLAN if record.check_mode else "") + _history(record)
    if record.mode == RESTORE and record.connections is not None:
        wrong = findings(record)
        found = ("Found: %s. " % "; ".join(wrong)) if wrong else (
            "Found nothing wrong in the API user or the entities' last status. ")
    else:
        found = ""
    why = _why(failed) if failed else None
    unlisted = _unlisted_note(record) if record.mode == PROVISION else ""

    if record.interrupted is not None or (failed is not None and failed.error_kind == CONTROLLER_GONE):
        status, reason = _stopped(record, failed or (record.steps[-1] if record.steps else None))
        return entry(status, prefix + found + reason, erp, views)
    if stage is None:
        status, reason = _done(record, views, erp, login)
        return entry(status, prefix + found + reason + unlisted, erp, views)
    if stage == "store" or failed.error_kind in (PASSWORD_NOWHERE, DRIFTED):
        return entry("failed", prefix + "%s." % why, erp, views)
    if failed.error_kind == UNLISTED_ENTITIES:
        return entry("failed", prefix + found + "Stopped before any write: %s." % why, erp, views)
    if stage in ("read", "erp", "entities", "lock", "other"):
        what = {"read": "Reading the site's state failed: ", "erp": "The ERP step failed: ",
                "entities": "Reading the Ocerra entities failed: ", "lock": "", "other": "Step '%s' failed: "
                % failed.name}[stage]
        half, state = _state(record)
        if stage == "lock":
            state = _sent_before(record) + state
        sessions = _abandoned_sessions(record) if failed.error_kind == LOGIN_LIMIT else ""
        advice = " Run again then: the next run finishes the change." if half and sessions else \
            " Fix the cause and run again."
        return entry("degraded" if half else "failed", prefix + found + "%s%s. %s%s%s" % (
            what, why, state, sessions, advice), erp, views)
    if stage in ("off", "reset"):
        return _stopped_change(record, stage, why, login, erp, views, prefix + found)
    if stage == "verify" and not record.erp.password_updated and not any(
            r.switched_off for r in record.entities.values()):
        half, state = _state(record)
        return entry("degraded" if half else "failed", prefix + found + "%s %s No entity was given the "
                     "password." % (why, state), erp, views)
    if stage == "confirm" and failed.error_kind == CONCURRENT_CHANGE:
        return entry("degraded", prefix + found + "%s." % why + unlisted, erp, views)
    # stage "verify" after a change, "on" or "confirm": the password may be new in the ERP and some
    # entity lacks it.
    bad = [(k, v["error"] or "not switched on yet") for k, v in views.items()
           if v["error"] or not (v["enabled"] and v["status"] == CONNECTED)] or [("?", why)]
    if stage in ("verify", "confirm"):
        bad = [("?", why)] + [b for b in bad if b[0] != "?"]
    head = ("The ERP password of %s changed, but" % login) if erp["password_updated"] else (
        "The ERP holds the inventory's password of %s, but" % login)
    more = " (and %d more)" % (len(bad) - 1) if len(bad) > 1 else ""
    return entry("degraded", prefix + found + (
        "%s %s could not be updated or verified (%s); first error: %s%s. A later run finishes it: it pushes "
        "the password to every entity that is not Connected." % (
            head, _plural(len(bad), "entity"), ", ".join(k for k, _error in bad), str(bad[0][1]).rstrip("."), more))
        + unlisted, erp, views)


def _stopped_change(record, stage, why, login, erp, views, prefix):
    """A password change that stopped before or at the ERP write."""
    if stage == "off":
        what = "Switching the entities off before the password change failed: %s" % why
    elif record.step(ERP_PASSWORD).error_kind == CONCURRENT_CHANGE:
        what = why.rstrip(".")
    else:
        what = "The ERP refused to reset the password of %s: %s" % (login, why)
    off = [r.key for r in record.entities.values() if r.connection and not r.connection.get("enabled")]
    if record.erp.password_unchanged is None:
        return entry("degraded", prefix + (
            "The ERP password reset of %s failed: %s. Whether it took effect is unknown, so the %s switched off "
            "stay off (Ocerra cannot lock the user out meanwhile). Fix the cause and run again: the next run "
            "checks the ERP password and finishes the change." % (login, why, _plural(len(off), "entity"))),
            erp, views)
    unknown = [r.key for r in record.entities.values() if r.switched_off and not r.connection]
    if record.still_off or off or unknown:
        still = dict(record.still_off or [(key, "") for key in off])
        still.update((key, "") for key in unknown if key not in still)
        shown = ["%s: %s%s" % (key, "its state is not known" if key in unknown else "switched off",
                               ", " + why_off.rstrip(".") if why_off else "") for key, why_off in still.items()]
        return entry("degraded", prefix + (
            "%s. The ERP password %s, but %s %s not back on (%s). Run again: the next run finishes the change."
            % (what, "is unchanged" if record.erp.password_unchanged else "changed elsewhere",
               _plural(len(still), "entity"), "is" if len(still) == 1 else "are", "; ".join(shown))), erp, views)
    back = [r.key for r in record.entities.values() if r.switched_off and r.connected]
    undone = " The %s switched off %s switched back on." % (_plural(len(back), "entity"), "was" if len(back) == 1
                                                            else "were") if back else ""
    half, state = _state(record)
    if not record.erp.password_unchanged:
        state = "This run did not change the ERP password."
    return entry("degraded" if half else "failed", prefix + "%s. %s%s Fix the cause and run again." % (
        what, state, undone), erp, views)


# ---- rotate.yml ---------------------------------------------------------------------------------

def _rotation(record):
    """prepare: whether a new password was stored as pending; apply: the change, and whether
    the pending password became the current one."""
    failed = record.failed_step
    store = record.site.store
    where = store.where if store is not None else "the site's password store"
    if failed is not None and failed.name in (STORE, READ_USER, STAGE):
        if failed.name == STORE:
            return entry("failed", "%s." % _why(failed), _erp_view(record, failed), _entity_views(record))
        half, state = _state(record)
        sessions = _abandoned_sessions(record) if failed.error_kind == LOGIN_LIMIT else ""
        return entry("degraded" if half else "failed", "%sThe rotation stopped before this run changed either "
                     "system: %s. %s%s" % (_history(record), _why(failed), state, sessions),
                     _erp_view(record, failed), _entity_views(record))
    age = password_age_days(record.erp.user, record.erp.server_time)
    aged = " The password is %s day(s) old%s." % (age, " (rotation every %s day(s))" % record.site.max_age_days
                                                  if record.site.max_age_days else "") if age is not None else ""
    erp, views = _erp_view(record, failed), _entity_views(record)
    if record.rotation == NOT_DUE:
        return entry("ok", "Not due." + aged + " Nothing was changed (-e rotate_force=true rotates it now).", erp, views)
    if record.rotation == NOTHING_PENDING:
        return entry("ok", "No password is pending in %s: nothing to apply (-e rotate_force=true rotates it "
                     "now)." % where + aged, erp, views)
    if record.phase == PREPARE:
        return entry("changed", "%sA new password is stored as pending in %s, not applied yet: run rotate.yml (or "
                     "provision.yml) to apply it; until then every run finishes with that one." % (
                         PLAN if record.check_mode else "", where) + aged, erp, views)
    result = _changed(record)
    if record.rotation == DUE and result["status"] == "changed":
        result["reason"] = result["reason"].replace(PLAN, PLAN + "Rotation due:%s A new password would be generated to "
                                                    "the policy, stored as pending in %s, then applied. " % (
                                                        aged or " -e rotate_force=true.", where), 1)
    elif record.rotation == FINISHED:
        result["reason"] += " The new password is now the current one in %s; the one before is kept as previous." % where
    elif record.rotation == PENDING:
        result["reason"] += (" The pending password stays in %s: the next run of rotate.yml or provision.yml "
                             "finishes the rotation with it." % where)
    elif record.rotation == DISCARDED:
        result["reason"] += (" The ERP's password policy refused the generated password, so it was dropped from "
                             "%s; the next rotate.yml generates another (check the site's Security Preferences, "
                             "SM201060, against the generator's length)." % where)
    return result


# ---- report.yml: the observed state -----------------------------------------------------------

def _observed(record):
    views = _entity_views(record)
    failed = record.failed_step
    erp = _erp_view(record, failed)
    erp["user"] = user_summary(record.erp.read or {})
    if failed is not None:
        return entry("failed", "Could not read the site's state: %s." % _why(failed), erp, views)
    found = findings(record)
    user = record.erp.read or {}
    desired = record.site.user
    if user.get("exists"):
        have = {str(r).strip().casefold() for r in user.get("roles") or []}
        want = {str(r).strip().casefold() for r in desired.get("roles") or []}
        missing, extra = sorted(want - have), sorted(have - want)
        if missing:
            found.append("roles missing: %s" % ", ".join(missing))
        if extra and desired.get("roles_mode", "exact") == "exact":
            found.append("roles not in the inventory: %s" % ", ".join(extra))
        have_types = {str(t).casefold() for t in user.get("licence_types") or []}
        for licence in desired.get("licence_types") or []:
            if licence.casefold() not in have_types:
                found.append("licence type %s not assigned" % licence)
    if not found:
        connected = sum(1 for v in views.values() if v["status"] == CONNECTED and v["enabled"])
        return entry("ok", "API user %s in place; %d of %s Connected."
                     % (record.site.login, connected, _plural(len(views), "entity")), erp, views)
    return entry("degraded", "Found: %s. Run playbooks/provision.yml (or playbooks/restore_connection.yml "
                 "for a locked, reset or forced-change API user) to fix it." % "; ".join(found), erp, views)


# ---- publish_endpoint.yml ---------------------------------------------------------------------

def _endpoint(record):
    site, result, check = record.site, record.endpoint or {}, record.check_mode
    failed = record.failed_step
    # The core edition, then on a MYOB site the MYOB one (endpoint.ensure_published).
    editions = [e for e in (result, result.get("myob")) if e]
    erp = {"url": site.url, "tenant": site.tenant, "login": site.login,
           "changed": bool(result.get("changed")), "password_updated": False,
           "password_change_pending": False, "actions": [], "user": {},
           "endpoint": " and ".join(str(e.get("endpoint")) for e in editions) or None,
           "digest": result.get("digest"), "published_digest": result.get("published_digest"),
           "error": None}
    if result.get("myob"):
        erp["myob"] = {k: result["myob"].get(k) for k in ("endpoint", "digest", "published_digest")}
    if failed is not None:
        erp["error"] = _why(failed)
        return entry("failed", "Publishing the User endpoint failed: %s." % erp["error"], erp, {})

    def listed(verb):
        """Each edition the run changes (would change): `<endpoint> <verb> (digest D, was W)`."""
        return " and ".join("%s %s (digest %s, was %s)" % (
            e.get("endpoint"), verb, str(e.get("digest"))[:12],
            str(e.get("published_digest"))[:12] if e.get("published_digest") else "none")
            for e in editions if e.get("changed"))

    if result.get("changed") and not site.publish_allowed:
        return entry("failed", "%s, and erp_publish_endpoint is false: install it by hand "
                     "(customization/UserAdmin/README.md) or allow publishing."
                     % listed("is not published with this release's digest"), erp, {})
    if result.get("changed"):
        erp["actions"] = ["endpoint_published"]
        return entry("changed", "%s%s." % (PLAN if check else "", listed("would be published" if check else "published")),
                     erp, {})
    return entry("ok", "%s already published with this release's digest." % " and ".join(
        "%s (digest %s)" % (e.get("endpoint"), str(e.get("digest"))[:12]) for e in editions), erp, {})


# ---- the run's summary --------------------------------------------------------------------------

def _counts(sites):
    return {s: sum(1 for e in sites.values() if e.get("status") == s) for s in STATUSES}


def summary_lines(report):
    """One line per site for the run's summary: `site  status  reason`, then the counts."""
    sites = (report or {}).get("sites") or {}
    width = max([len(s) for s in sites] + [4])
    lines = ["%s %-8s %s" % (site.ljust(width), e.get("status"), e.get("reason"))
             for site, e in sorted(sites.items())]
    counts = _counts(sites)
    lines.append("%d site(s): %s" % (len(sites), ", ".join("%d %s" % (counts[s], s) for s in STATUSES)))
    return lines


def summary_stats(report):
    """The run's summary as a job artifact (set_stats, e.g. AWX): the counts (and a plan's),
    each site's status and reason, nothing secret (the reasons are the report's own)."""
    report = report or {}
    sites = report.get("sites") or {}
    return {"generated": report.get("generated"), "check_mode": report.get("check_mode"),
            "counts": _counts(sites), **({"plan": report["plan"]["counts"]} if report.get("plan") else {}),
            "sites": {site: {"status": e.get("status"), "reason": e.get("reason")} for site, e in sorted(sites.items())}}
