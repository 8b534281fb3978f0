"""The plan: what a check-mode run would do to each site, counted, rendered in Markdown for a
pull request, and saved so that an apply can be held to it (Terraform's `plan -out` and
`apply FILE`).

A site's plan names its kinds of change: create (the API user), change (settings, entities),
rotate (the API user's password: due, taken over or differing), publish (the User endpoint),
or why it cannot be planned: blocked (a guard refuses the change: a lock-out risk, another run
changing it, unlisted entities) or failed. Its changes are the run's diffs, each naming its
object; a secret shows only as a placeholder.

The saved plan holds, per site, its kinds and digests of what the plan read (each attribute of
the API user and of every entity, and the site's inventory settings), never a secret. An apply
given it stops a site, before its first write, when something read differs (naming what), when
the site was not planned, or when the apply would change a password the plan did not.
"""
import hashlib
import json

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_json
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    CONCURRENT_CHANGE, DUE, ENTITIES_OFF, ERP_PASSWORD, LOCKOUT_GUARD, STAGE, UNLISTED_ENTITIES, Drifted)

FORMAT = 1
KINDS = ("create", "change", "rotate", "publish", "blocked", "failed")
BLOCKING = (LOCKOUT_GUARD, CONCURRENT_CHANGE, UNLISTED_ENTITIES)
PASSWORD_STEPS = (STAGE, ENTITIES_OFF, ERP_PASSWORD)
# What a read holds that changes without anyone changing the site: the sign-in times and
# counters (the plan's own probe moves them), Ocerra's test times and texts.
VOLATILE_USER = ("last_login", "failed_attempts", "locked_out_date")
USER = "API user"
RUNTIME = ("password", "fallback_password", "update_password")


# ---- one site's plan ------------------------------------------------------------------------

def of_site(record, status):
    """The site's plan from its check-mode Record: kinds, changes, and what was read."""
    return {"kinds": kinds(record, status), "changes": changes(record), "read": read_digests(record)}


def changes(record):
    """Each object's net change over the run's diffs (the safe order's passing steps left out):
    every attribute's first value before and last value after, where they differ."""
    prefix = "%s: " % record.site.host
    merged = {}
    for index, diff in enumerate(record.diffs):
        if index in record.passing:
            continue
        name = str(diff.get("before_header") or "").replace(prefix, "", 1)
        before, after = merged.setdefault(name, ({}, {}))
        for key, value in (diff.get("before") or {}).items():
            before.setdefault(key, value)
        after.update(diff.get("after") or {})
    return [{"object": name, "before": {k: before.get(k) for k in after if before.get(k) != after[k]},
             "after": {k: after[k] for k in after if before.get(k) != after[k]}}
            for name, (before, after) in merged.items() if any(before.get(k) != after[k] for k in after)]


def kinds(record, status):
    failed = record.failed_step
    if status in ("failed", "degraded"):
        return ["blocked" if failed is not None and failed.error_kind in BLOCKING else "failed"]
    if status == "ok":
        return []
    actions = set(record.erp.actions)
    found = []
    if "created" in actions:
        found.append("create")
    if record.taken_over or record.rotation == DUE or record.erp.password_change_pending or (
            record.erp.password_updated and "created" not in actions):
        found.append("rotate")
    if "endpoint_published" in actions:
        found.append("publish")
    others = actions - {"created", "endpoint_published", "password_set", "password_reset"}
    if others or any(r.changed and not r.password_pushed for r in record.entities.values()) or not found:
        found.append("change")
    return [k for k in KINDS if k in found]


def read_digests(record):
    """{object: {attribute: digest}} of what the run read: the API user, each entity, and the
    site's inventory settings (secrets excluded: a password's digest would be guessable)."""
    read = {}
    if record.erp.read is not None:
        read[USER] = {k: _digest(v) for k, v in record.erp.read.items() if k not in VOLATILE_USER}
    for key, run in record.entities.items():
        if run.read is not None:
            seen = {k: v for k, v in run.read.items() if k not in ("status", "updated")}
            seen["status"] = (run.read.get("status") or {}).get("code")
            read["entity %s" % key] = {k: _digest(v) for k, v in seen.items()}
    site = record.site
    inventory = {"erp": _public(site.erp), "ocerra": _public(site.ocerra), "user": _public(site.user),
                 "entities": site.entities, "store": site.store.where if site.store is not None else None}
    read["inventory"] = {"settings": _digest(inventory)}
    return read


def _public(settings):
    """Inventory settings without the secrets and what a run sets on them as it goes."""
    return {k: v for k, v in settings.items() if k not in RUNTIME}


def _digest(value):
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---- the run's plan -----------------------------------------------------------------------------

def section(sites):
    """The report's `plan` section from the sites' entries (each entry's plan taken out of it):
    the counts, then each site's kinds, changes and read digests (what save() keeps)."""
    planned, counts = {}, dict.fromkeys(("sites",) + KINDS + ("unchanged",), 0)
    for host, entry in sites.items():
        site = entry.pop("plan", None) or {"kinds": [] if entry["status"] == "ok" else ["failed"], "changes": []}
        planned[host] = {"kinds": site["kinds"], "changes": site["changes"], "read": site.get("read", {})}
        counts["sites"] += 1
        for kind in site["kinds"]:
            counts[kind] += 1
        counts["unchanged"] += not site["kinds"]
    return {"counts": counts, "sites": planned}


def save(path, report):
    """The saved plan: per site its kinds and read digests (no change's before/after, no secret)."""
    plan = report["plan"]
    write_json(path, {"format": FORMAT, "playbook": report.get("playbook"), "made": report.get("generated"),
                      "sites": {h: {"kinds": s["kinds"], "read": s["read"]} for h, s in plan["sites"].items()}},
               indent=1, mode=0o644, durable=True)


def load(path):
    """The saved plan, or ValueError naming what is wrong with the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            plan = json.load(handle)
    except OSError as exc:
        raise ValueError("cannot read the saved plan %s: %s" % (path, exc.strerror or exc)) from None
    except ValueError:
        raise ValueError("the saved plan %s is not JSON" % path) from None
    if not isinstance(plan, dict) or plan.get("format") != FORMAT or not isinstance(plan.get("sites"), dict):
        raise ValueError("%s is not a saved plan of this toolkit (format %s)" % (path, FORMAT))
    return plan


def hold(saved, record, step_name):
    """Raise Drifted when the site, as read so far, or the write about to be made, is not what
    the saved plan said. `saved`: the site's entry of the saved plan (None: not in it)."""
    if saved is None:
        raise Drifted("The site is not in the saved plan, so nothing was applied to it. Make a new plan.")
    if any(k in saved["kinds"] for k in ("blocked", "failed")):
        raise Drifted("The saved plan could not plan this site (%s), so nothing was applied to it. Make a new "
                      "plan once it is fixed." % saved["kinds"][0])
    now = read_digests(record)
    drift = []
    for name, attributes in now.items():
        before = saved["read"].get(name)
        if before is None:
            drift.append("%s is new" % name)
            continue
        changed = sorted(k for k in set(attributes) | set(before) if attributes.get(k) != before.get(k))
        if changed:
            drift.append("%s: %s" % (name, ", ".join(changed)))
    if drift:
        raise Drifted("The site changed since the saved plan was made (%s), so nothing more was applied to it. "
                      "Review a new plan." % "; ".join(drift))
    if step_name in PASSWORD_STEPS and not {"rotate", "create"} & set(saved["kinds"]):
        raise Drifted("Applying would change the API user's password, which the saved plan did not, so nothing "
                      "more was applied to it. Review a new plan.")


# ---- Markdown ----------------------------------------------------------------------------------

def markdown(report):
    """The report as Markdown for a pull-request comment: the counts first, then a section per
    site that changes (or would), is blocked or failed; unchanged sites are only counted."""
    sites = report["sites"]
    plan = report.get("plan")
    title = "Plan" if report.get("check_mode") else "Run"
    lines = ["## %s: %s (%s)" % (title, report.get("playbook") or "run", report.get("generated") or ""), ""]
    if plan:
        counts = plan["counts"]
        lines.append("**%d site(s): %s, %d unchanged.**" % (counts["sites"], ", ".join(
            "%d %s" % (counts[k], _WORDS[k]) for k in KINDS), counts["unchanged"]))
    else:
        statuses = [s["status"] for s in sites.values()]
        lines.append("**%d site(s): %s.**" % (len(sites), ", ".join(
            "%d %s" % (statuses.count(s), s) for s in ("ok", "changed", "degraded", "failed"))))
    for host, entry in sorted(sites.items()):
        planned = (plan or {}).get("sites", {}).get(host)
        if entry["status"] == "ok":
            continue
        what = ", ".join(planned["kinds"]) if planned else entry["status"]
        lines += ["", "### %s: %s" % (host, what), "", _cell(entry["reason"], 1200)]
        changes = [(c["object"], k, c["before"].get(k), c["after"].get(k))
                   for c in (planned or {}).get("changes", []) for k in sorted(c["after"] or {})]
        if changes:
            lines += ["", "| object | attribute | before | after |", "|---|---|---|---|"]
            lines += ["| %s | %s | %s | %s |" % (_cell(o), k, _cell(_value(b)), _cell(_value(a)))
                      for o, k, b, a in changes]
    return "\n".join(lines) + "\n"


_WORDS = {"create": "to create", "change": "to change", "rotate": "to rotate", "publish": "to publish",
          "blocked": "blocked", "failed": "failed"}


def _value(value):
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def _cell(text, limit=200):
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"
