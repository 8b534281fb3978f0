"""The benchmark's figures: the table of runs, the ratios, the bounds ((d) + (w), the latency
limit), the targets and whether each is met, and the memory and forks series."""
from __future__ import annotations

import math

from bench.measure import REALISTIC_LATENCY

# The Ocerra listing's concurrency, as the toolkit sets it (module_utils/ocerra/client.py).
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import LISTING_WORKERS  # noqa: E402,I001

SITE_ERP_ROUNDS = 4              # a no-change site's sequential ERP round trips (latency_limit)
LISTING_ROUNDS = 4               # the list (2 requests) and the first two settings reads, alone


# ---- reporting ---------------------------------------------------------------------------

def _ratio(x, y):
    return round(x / y, 2) if x and y else None


def cpu_bound(runs):
    """(d) + (w) through requests: the least CPU any implementation of the no-change run can cost
    over this inventory on this stack (Ansible's per-task floor plus the sites' own decryptions
    and requests); None without both."""
    d, w = runs.get("d"), runs.get("w")
    return d["cpu_s"] + w["requests"]["cpu_s"] if d and w else None


def targets(runs: dict, entities: int) -> list[dict]:
    """Each target of README's performance section, its value in these runs and whether it is met."""
    b, c = runs.get("b"), runs.get("c")
    b_lat, c_lat = runs.get("bL"), runs.get("cL")
    limit = 3 + entities + 2
    out = []
    bound = cpu_bound(runs)
    if b and bound:
        out.append({"target": "(b) CPU <= 1.5 x ((d) + (w))", "value": _ratio(b["cpu_s"], bound),
                    "met": b["cpu_s"] <= 1.5 * bound})
    if b and c:
        out.append({"target": "(c)/(b) wall >= 20", "value": _ratio(c["wall_s"], b["wall_s"]),
                    "met": c["wall_s"] >= 20 * b["wall_s"]})
    if b and b_lat:
        out.append({"target": "(bL)/(b) wall <= 1.3 (latency hidden)", "value": _ratio(b_lat["wall_s"], b["wall_s"]),
                    "met": b_lat["wall_s"] <= 1.3 * b["wall_s"]})
    if b_lat and c_lat:
        out.append({"target": "(cL)/(bL) wall >= 20", "value": _ratio(c_lat["wall_s"], b_lat["wall_s"]),
                    "met": c_lat["wall_s"] >= 20 * b_lat["wall_s"]})
    if b:
        most = max([b["requests_per_site_max"]] + [a.get("requests_per_site_max") or 0
                                                    for a in b.get("attempts", [])])
        out.append({"target": f"(b) requests/site <= 3+E+2 = {limit}", "value": most, "met": most <= limit})
        out.append({"target": "(b) Ocerra's entities listed once per run", "value": b.get("listings"),
                    "met": b.get("listings") == 1})
        writes = max([b["writes"]] + [a.get("writes") or 0 for a in b.get("attempts", [])])
        out.append({"target": "(b) write requests = 0", "value": writes, "met": writes == 0})
    p = runs.get("p")
    if b and p:
        out.append({"target": "(p)/(b) wall <= 1.3 (the plan beside the no-change run)",
                    "value": _ratio(p["wall_s"], b["wall_s"]), "met": p["wall_s"] <= 1.3 * b["wall_s"]})
    if p and p.get("markdown_lines") is not None:
        out.append({"target": "(p) the plan's Markdown under 100 lines", "value": p["markdown_lines"],
                    "met": p["markdown_lines"] < 100})
    if b and "store_requests_per_site" in b:
        out.append({"target": "(b) shared store: at most 2 reads per site (passwords, the admin's sign-ins), 0 writes",
                    "value": f"{b['store_requests_per_site']}/{b['store_writes']}",
                    "met": b["store_requests_per_site"] <= 2 and b["store_writes"] == 0})
    return out


def table(runs: dict, n: int, entities: int, forks: int = 0, latency=None) -> str:
    head = (f"{'run':<44} {'wall s':>8} {'CPU s':>8} {'user s':>8} {'sys s':>7} {'RSS MB':>7} "
            f"{'tasks/host':>10} {'req/site':>9} {'writes':>7} {'in/out':>11} {'sbx CPU':>8} {'other':>6} {'rc':>3}")
    lines = [f"Benchmark: N = {n} sites, E = {entities} entities per site", head, "-" * len(head)]
    for key in ("a", "r", "b", "bL", "c", "cL", "d", "p"):
        r = runs.get(key)
        if not r:
            continue
        t = r["tasks"]
        per_host = f"{t['per_host_median']}" + (f"+{t['extra']}" if t["extra"] else "")
        req = (f"{r['requests_per_site_mean']:g}" if r["requests_per_site_mean"] == r["requests_per_site_max"]
               else f"{r['requests_per_site_mean']:g}/{r['requests_per_site_max']}")
        lines.append(
            f"{'(' + key + ') ' + r['label']:<44} {r.get('wall_s', 0):>8.2f} {r.get('cpu_s', 0):>8.2f} "
            f"{r.get('user_s', 0):>8.2f} {r.get('sys_s', 0):>7.2f} {r.get('maxrss_mb', 0):>7.1f} "
            f"{per_host:>10} {req:>9} {r['writes']:>7} {str(r['signins']) + '/' + str(r['signouts']):>11} "
            f"{r['sandbox_cpu_s']:>8.2f} {r.get('other_cpu_s', 0):>6.1f} {r['rc']:>3}")
    lines.append("")
    pairs = [("(b)/(d)", "b", "d", "no-change run vs Ansible's floor"),
             ("(c)/(b)", "c", "b", "uri playbook vs no-change run"),
             ("(a)/(d)", "a", "d", "first run vs Ansible's floor"),
             ("(bL)/(b)", "bL", "b", "no-change run, latency vs none"),
             ("(cL)/(bL)", "cL", "bL", "uri playbook vs no-change, latency"),
             ("(p)/(b)", "p", "b", "plan vs no-change run")]
    for name, x, y, what in pairs:
        if x in runs and y in runs:
            lines.append(f"{name} {what:<34} wall {_ratio(runs[x]['wall_s'], runs[y]['wall_s'])}x, "
                         f"CPU {_ratio(runs[x]['cpu_s'], runs[y]['cpu_s'])}x")
    if runs.get("w") and runs.get("d"):
        lines.append(work_floor_bound(runs["w"], runs["d"]))
        if runs.get("b"):
            lines.append(f"(b)/((d) + (w)) no-change run vs the least any implementation can cost: CPU "
                         f"{_ratio(runs['b']['cpu_s'], cpu_bound(runs))}x")
    if runs.get("bL") and latency:
        lines.append(latency_limit(runs["bL"], n, entities, forks, latency))
    fleet = runs.get("fleet") or {}
    if fleet.get("bL") and latency:
        lines.append(f"(bL{fleet['sites']}) no-change run over {fleet['sites']} sites, latency "
                     f"{latency[0]:g}/{latency[1]:g} s, forks {forks}: {fleet['bL']['wall_s']:.2f} s wall, "
                     f"{fleet['bL']['cpu_s']:.2f} s CPU, {fleet['bL']['requests_per_site_max']} requests/site, "
                     f"{fleet['bL']['writes']} writes")
        lines.append("    " + latency_limit(fleet["bL"], fleet["sites"], entities, forks, latency,
                                            f"bL{fleet['sites']}"))
    p = runs.get("p")
    if p:
        lines.append(f"(p) the plan printed {p.get('output_lines')} lines ({p.get('output_bytes')} bytes); its "
                     f"Markdown (report.md) {p.get('markdown_lines')} lines; {p['writes']} writes")
    for key in ("b", "bL", "d", "p"):
        if len(runs.get(key, {}).get("attempts", [])) > 1:
            walls = ", ".join(f"{a['wall_s']:.2f}" for a in runs[key]["attempts"])
            lines.append(f"({key}) wall times of the {len(runs[key]['attempts'])} runs: {walls} (median shown)")
    b = runs.get("b")
    if b:
        t = b["tasks"]
        lines.append(f"(b) executed {t['per_host_median']} task(s) per host (min {t['per_host_min']}, max "
                     f"{t['per_host_max']}, {t['extra']} beyond that in all), {t['items']} loop item(s) in "
                     f"all, {t['changed']} changed, {t['failed']} failed")
        lines.append("    wall s  task (start to last result, all hosts)")
        lines += [f"    {t.get('wall_s', {}).get(name, 0):>6.2f}  {name if len(name) <= 100 else name[:97] + '...'}"
                  for name in t["names"]]
        lines.append(f"(b) requests per site: max {b['requests_per_site_max']} (ERP {b['erp_requests_per_site_max']}, "
                     f"Ocerra {b['ocerra_requests_per_site_max']}); the listing of Ocerra's entities "
                     f"{b.get('listings', 0)}x per run, {b.get('listing_requests', 0)} requests; "
                     f"{b['requests_total']} logged in all; API sessions left open: {b['sessions_open']}")
        if "store_requests_per_site" in b:
            lines.append(f"(b) shared password store: max {b['store_requests_per_site']} request(s) per site, "
                         f"{b['store_writes']} write(s) in all")
    for key in ("a", "r", "b", "p"):
        if key in runs and runs[key].get("outcomes") is not None:
            shown = ", ".join(f"{v} {k}" for k, v in sorted(runs[key]["outcomes"].items(), key=str)) or "no report"
            lines.append(f"({key}) per-site outcomes in the toolkit's report: {shown}")
    lines.append("")
    lines.append("Targets:")
    for t in targets(runs, entities):
        lines.append(f"  [{'met' if t['met'] else 'NOT met'}] {t['target']}: {t['value']}")
    return "\n".join(lines)


def work_floor_bound(work, floor) -> str:
    """The least CPU any implementation of the no-change run can cost: the floor plus the work alone."""
    lines = [f"(w) the sites' own work alone, one warm process: {work['derivations']} vault derivations "
             f"{work['vault_cpu_s']:.2f} s CPU, then their requests; (d) + (w) is the least CPU any "
             f"implementation of (b) can cost"]
    for library in ("requests", "http.client"):
        http = work[library]
        bound = floor["cpu_s"] + http["cpu_s"]
        lines.append(f"    through {library:<11}: {http['requests']} requests {http['http_cpu_s']:.2f} s CPU; "
                     f"(d) + (w) = {bound:.2f} s CPU = {_ratio(bound, floor['cpu_s'])}x (d)")
    return "\n".join(lines)


def latency_limit(run, n, entities, forks, latency, label="bL"):
    """What latency alone makes the no-change run last: the run's one listing of Ocerra's
    entities (the list, then LISTING_WORKERS settings reads at a time) plus N sites' critical
    paths, `forks` at a time. A site's path is SITE_ERP_ROUNDS ERP round trips one after the
    other: the admin's sign-in, the read of the API user (its failed sign-ins decide whether
    the verification may sign in), the verification sign-in, then both sign-outs at once."""
    erp_s, ocerra_s = latency
    listing_s = (LISTING_ROUNDS + math.ceil((n * entities - LISTING_ROUNDS) / LISTING_WORKERS)) * ocerra_s
    path_s = SITE_ERP_ROUNDS * erp_s
    limit = listing_s + n * path_s / forks
    return (f"({label}) latency limit: listing {listing_s:.2f} s + {n} sites x {path_s:.2f} s critical path "
            f"({SITE_ERP_ROUNDS} ERP round trips) / {forks} forks = {limit:.2f} s; ({label}) is {run['wall_s'] / limit:.2f}x that")


def memory_table(rows) -> str:
    head = (f"{'N':>6} {'(a) wall s':>10} {'(a) RSS MB':>10} {'(b) wall s':>10} {'(b) RSS MB':>10} "
            f"{'(d) wall s':>10} {'(d) RSS MB':>10} {'(b)-(d) MB':>10} {'(b)/(d) RSS':>11} {'(b)/(d) wall':>12}")
    lines = ["Memory series: peak RSS of the no-change run (b) and of Ansible's floor (d)", head,
             "-" * len(head)]
    for row in rows:
        a, b, d = row.get("a", {}), row.get("b", {}), row.get("d", {})

        def f(r, k, fmt):
            return format(r[k], fmt) if r.get(k) is not None else "-"
        diff = (format(b["maxrss_mb"] - d["maxrss_mb"], ".1f")
                if b.get("maxrss_mb") is not None and d.get("maxrss_mb") is not None else "-")
        lines.append(f"{row['n']:>6} {f(a, 'wall_s', '.2f'):>10} {f(a, 'maxrss_mb', '.1f'):>10} "
                     f"{f(b, 'wall_s', '.2f'):>10} {f(b, 'maxrss_mb', '.1f'):>10} {f(d, 'wall_s', '.2f'):>10} "
                     f"{f(d, 'maxrss_mb', '.1f'):>10} {diff:>10} "
                     f"{str(_ratio(b.get('maxrss_mb'), d.get('maxrss_mb'))):>11} "
                     f"{str(_ratio(b.get('wall_s'), d.get('wall_s'))):>12}")
    return "\n".join(lines)


def forks_table(runs, forks_series, n, latency) -> str:
    """Per forks value: the no-change run without and with latency, CPU, and the peak memory
    of the whole process tree (PSS) with the most processes alive at once."""
    head = (f"{'forks':>6} {'(b) wall s':>10} {'(b) CPU s':>9} {'(b) PSS MB':>10} {'(bL) wall s':>11} "
            f"{'(bL) CPU s':>10} {'(bL) PSS MB':>11} {'procs':>6} {'(bL)/(b)':>9}")
    erp_s, ocerra_s = latency or REALISTIC_LATENCY
    lines = [f"Forks series: N = {n}, latency ERP {erp_s:g} s / Ocerra {ocerra_s:g} s for (bL)", head, "-" * len(head)]
    for forks in forks_series:
        b, bl = runs.get(f"b@{forks}", {}), runs.get(f"bL@{forks}", {})
        lines.append(f"{forks:>6} {b.get('wall_s', 0):>10.2f} {b.get('cpu_s', 0):>9.2f} {b.get('tree_pss_mb', 0):>10.1f} "
                     f"{bl.get('wall_s', 0):>11.2f} {bl.get('cpu_s', 0):>10.2f} {bl.get('tree_pss_mb', 0):>11.1f} "
                     f"{bl.get('procs_max', 0):>6} {str(_ratio(bl.get('wall_s'), b.get('wall_s'))):>9}")
    return "\n".join(lines)
