"""The run's report: marked running when the run starts, each site's entry written as the
site finishes, the whole report written when the run ends.

`<path>` (out/report.json by default) is replaced at the start of a run by a report whose
status is `running` and whose sites are all `running`, so a report never outlives the run
that made it. Each site's entry goes to `<path>.d/<site>.json` as the site finishes (the site
action writes it); the summary merges them into `<path>` with status `finished` and removes
the folder. After a run that was killed, `<path>` still says `running`, and `<path>.d/` holds
the entries of the sites that finished.

A check-mode run's report has a `plan` section (plan.py): the counts of sites to create, change,
rotate or publish, blocked, failed and unchanged, then each site's kinds and changes.

Beside it, written with the finished report and removed when a run starts, like the report:
`<path without .json>.junit.xml` for CI systems (one test case per site, a failure for a failed
or degraded site with its reason) and `<path without .json>.md`, the report in Markdown for a
pull-request comment (the counts, then only the sites that change or failed).
"""
import json
import os
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import quote

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import plan
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.files import write_atomic, write_json

RUNNING = {"status": "running", "reason": "The run has not finished this site (yet).", "erp": {}, "entities": {}}
STOPPED = {"status": "failed", "reason": "The run stopped for this site before its outcome was recorded; "
                     "see the task that failed above.", "erp": {}, "entities": {}}


def default_path():
    """out/report.json in the current directory: never inside the collection, which may be
    installed read-only (an execution environment)."""
    return os.path.abspath(os.path.join("out", "report.json"))


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entries_dir(path):
    return str(path) + ".d"


def _entry_path(path, host):
    return os.path.join(_entries_dir(path), quote(str(host), safe="") + ".json")


def _write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_json(path, data, indent=2, mode=0o644, durable=True)


def start(path, hosts, playbook, check_mode):
    """Replace the report with one that says the run is going, for every site."""
    shutil.rmtree(_entries_dir(path), ignore_errors=True)
    os.makedirs(_entries_dir(path), exist_ok=True)
    for beside in (junit_path(path), markdown_path(path)):
        try:
            os.unlink(beside)           # a CI system must not read an earlier run's results
        except FileNotFoundError:
            pass
    _write(path, {"status": "running", "sites": {str(h): dict(RUNNING) for h in hosts}, "started": _now(),
                  "generated": _now(), "playbook": playbook, "check_mode": bool(check_mode)})


def keep(path, host, entry):
    """Write a finished site's entry next to the report."""
    _write(_entry_path(path, host), entry)


def kept(path, host):
    """The site's entry this run wrote, or None."""
    try:
        with open(_entry_path(path, host), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def finish(path, hosts, playbook, check_mode, entries=None, plan_out=None):
    """Merge every site's entry into the report (a site without one stopped before its outcome:
    failed) and mark it finished. `entries` adds entries kept elsewhere (host -> entry);
    `plan_out`: where a check-mode run saves its plan (plan.py)."""
    started = _load(path).get("started")
    sites = {}
    for host in hosts:
        found = kept(path, host) or (entries or {}).get(host)
        sites[str(host)] = found if isinstance(found, dict) and found.get("status") else dict(STOPPED)
    report = {"status": "finished", "sites": sites, "started": started or _now(), "generated": _now(),
              "playbook": playbook, "check_mode": bool(check_mode)}
    if check_mode:
        report["plan"] = plan.section(sites)
    _write(path, report)
    write_atomic(junit_path(path), junit(report), mode=0o644)
    write_atomic(markdown_path(path), plan.markdown(report).encode(), mode=0o644)
    if plan_out:
        plan.save(plan_out, report)
    shutil.rmtree(_entries_dir(path), ignore_errors=True)
    return report


def _stem(path):
    return path[:-len(".json")] if path.endswith(".json") else path


def junit_path(path):
    return _stem(path) + ".junit.xml"


def markdown_path(path):
    return _stem(path) + ".md"


def junit(report):
    """The finished report as JUnit XML (bytes): a test suite of the playbook, a test case per
    site; a failed or degraded site is a failure whose type is its status."""
    sites = sorted(report["sites"].items())
    broken = [host for host, entry in sites if entry["status"] in ("failed", "degraded")]
    name = f"ocerra.acumatica {report.get('playbook') or 'run'}{' (check mode)' if report.get('check_mode') else ''}"
    suite = ET.Element("testsuite", name=name, tests=str(len(sites)), failures=str(len(broken)), errors="0",
                       skipped="0", timestamp=str(report.get("generated") or ""))
    for host, entry in sites:
        case = ET.SubElement(suite, "testcase", classname=name, name=host)
        reason = str(entry.get("reason") or "")
        if host in broken:
            ET.SubElement(case, "failure", type=entry["status"], message=reason.split(". ", maxsplit=1)[0][:300]).text = reason
        ET.SubElement(case, "system-out").text = f"{entry['status']}: {reason}"
    root = ET.Element("testsuites", name=name, tests=str(len(sites)), failures=str(len(broken)))
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}
