"""The benchmark's measurements: each run of a playbook under bench/rusage.py (wall, CPU of the
whole process tree, peak memory) with the sandbox's request counters read before and after,
the sequences of runs of one world (first run, no-change runs and the floor alternating, the
uri reference, latency, forks), and (w), the sites' own work alone (bench/work_floor.py).
"""
from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.paths import BENCH, ROOT
from bench.world import World, write_floor

REALISTIC_LATENCY = (0.3, 0.15)  # seconds per request: MYOB Acumatica, Ocerra (from a partner's network)


# ---- the rest of the machine ------------------------------------------------------------

def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(limit_s: float, log=print) -> float:
    """Wait (at most limit_s) until the machine is nearly idle: under 15% of one core busy
    over 2 s. Other developers' test runs on a 2-core machine distort wall times."""
    if limit_s <= 0:
        return 0.0
    waited, step = 0.0, 2.0
    while waited < limit_s:
        before = machine_busy_seconds()
        time.sleep(step)
        waited += step
        if (machine_busy_seconds() - before) / step < 0.15:
            return waited
    log(f"    (machine still busy after waiting {limit_s:.0f} s; measuring anyway)")
    return waited


# ---- one measured ansible-playbook run ---------------------------------------------------

def _callbacks_enabled() -> str:
    """ansible.cfg's callbacks plus the benchmark's task counter."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    configured = config.get("defaults", "callbacks_enabled", fallback="") or \
        config.get("defaults", "callback_whitelist", fallback="")
    names = [n.strip() for n in configured.split(",") if n.strip()]
    return ",".join(names + ["bench_task_count"])


def _ansible_playbook() -> str:
    local = Path(sys.executable).parent / "ansible-playbook"
    return str(local) if local.exists() else (shutil.which("ansible-playbook") or "ansible-playbook")


def _env(count_file: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join(
            p for p in (str(BENCH / "callback_plugins"), env.get("ANSIBLE_CALLBACK_PLUGINS")) if p),
        "ANSIBLE_CALLBACKS_ENABLED": _callbacks_enabled(),
        "BENCH_TASK_COUNT_FILE": str(count_file),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    })
    return env


def _site_deltas(before: dict, after: dict, sites: list[dict]) -> dict:
    """Requests / writes / sign-ins / sign-outs per site (ERP site + its entities); the
    listing of Ocerra's entities, once per run for all sites, is counted apart."""
    per_site = {}
    for site in sites:
        key = f"{site['instance']}/{site['tenant']}"
        erp_b, erp_a = before["erp"].get(key, {}), after["erp"].get(key, {})
        row = {c: erp_a.get(c, 0) - erp_b.get(c, 0)
               for c in ("requests", "writes", "signins", "signouts", "failed_signins")}
        row["erp_requests"] = row["requests"]
        row["sessions_open"] = erp_a.get("sessions_open", 0)
        row["ocerra_requests"] = 0
        for cid in site["entities"]:
            oc_b, oc_a = before["ocerra"].get(cid, {}), after["ocerra"].get(cid, {})
            row["ocerra_requests"] += (oc_a.get("requests", 0) - oc_b.get("requests", 0)
                                       - after["listing"]["per_client"].get(cid, 0))
            row["writes"] += oc_a.get("writes", 0) - oc_b.get("writes", 0)
        row["requests"] += row["ocerra_requests"]
        per_site[site["host"]] = row
    return per_site


def measure(key, label, playbook, inventory, workdir, sandbox, sites, forks, timeout, extra=(),
            wait_idle=0.0):
    """Run one playbook under bench/rusage.py and collect everything the table needs."""
    out, log = workdir / f"{key}.rusage.json", workdir / f"{key}.log"
    count_file = workdir / f"{key}.tasks.json"
    command = [sys.executable, str(BENCH / "rusage.py"), str(out), str(log), "--",
               _ansible_playbook(), "-i", str(inventory), *extra, str(playbook)]
    if forks:
        command[-1:-1] = ["--forks", str(forks)]
    sandbox.clear_logs()
    waited = wait_until_idle(wait_idle)
    print(f"  {key}) {label}: ansible-playbook {Path(playbook).name} ...", end="", flush=True)
    before = sandbox.snapshot()
    busy_before = machine_busy_seconds()
    proc = subprocess.Popen(command, cwd=ROOT, env=_env(count_file), start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        raise RuntimeError(f"run {key} took more than {timeout}s; see {log}") from None
    busy = machine_busy_seconds() - busy_before
    after = sandbox.snapshot()
    usage = json.loads(out.read_text()) if out.exists() else {"rc": proc.returncode}
    counts = json.loads(count_file.read_text()) if count_file.exists() else {"hosts": {}, "task_names": []}
    per_site = _site_deltas(before, after, sites)
    requests = [r["requests"] for r in per_site.values()]
    result = {
        "key": key, "label": label, "playbook": str(playbook), "log": str(log), **usage,
        "sandbox_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
        # CPU the rest of the machine used meanwhile (other processes; /proc/stat minus this
        # run's tree and the sandbox): the contention behind a noisy wall time.
        "other_cpu_s": round(max(busy - usage.get("cpu_s", 0) - (after["cpu_s"] - before["cpu_s"]), 0), 1),
        "waited_idle_s": waited,
        "requests_total": after["erp_log"] + after["ocerra_log"],
        "listings": after["listing"]["listings"], "listing_requests": after["listing"]["requests"],
        "requests_per_site_mean": round(statistics.fmean(requests), 2) if requests else 0,
        "requests_per_site_max": max(requests, default=0),
        "erp_requests_per_site_max": max((r["erp_requests"] for r in per_site.values()), default=0),
        "ocerra_requests_per_site_max": max((r["ocerra_requests"] for r in per_site.values()), default=0),
        "writes": sum(r["writes"] for r in per_site.values()),
        "signins": sum(r["signins"] for r in per_site.values()),
        "signouts": sum(r["signouts"] for r in per_site.values()),
        "failed_signins": sum(r["failed_signins"] for r in per_site.values()),
        "sessions_open": sum(r["sessions_open"] for r in per_site.values()),
        "tasks": _task_summary(counts, [s["host"] for s in sites]),
    }
    status = "ok" if result["rc"] == 0 else f"FAILED (rc {result['rc']}, see {log})"
    print(f" {result.get('wall_s', '?')} s wall, {result.get('cpu_s', '?')} s CPU "
          f"(other processes: {result['other_cpu_s']} s CPU): {status}", flush=True)
    return result


def _task_summary(counts: dict, hosts: list[str]) -> dict:
    per_host = counts.get("hosts", {})
    tasks = [per_host.get(h, {}).get("tasks", 0) for h in hosts]
    total = sum(entry.get("tasks", 0) for entry in per_host.values())
    median = int(statistics.median(tasks)) if tasks else 0
    return {
        "per_host_median": median,
        "per_host_min": min(tasks, default=0),
        "per_host_max": max(tasks, default=0),
        "total": total,
        # Results beyond median x hosts: run_once tasks, a play on localhost, ...
        "extra": total - median * len(hosts),
        "changed": sum(e.get("changed", 0) for e in per_host.values()),
        "skipped": sum(e.get("skipped", 0) for e in per_host.values()),
        "failed": sum(e.get("failed", 0) + e.get("unreachable", 0) for e in per_host.values()),
        "items": sum(e.get("items", 0) for e in per_host.values()),
        "names": counts.get("task_names", []),
        "wall_s": counts.get("task_wall_s", {}),
    }


def _outcomes(report: Path) -> dict:
    """{status: count} of the toolkit's per-site report (out/report.json's format)."""
    try:
        sites = json.loads(report.read_text(encoding="utf-8")).get("sites", {})
    except (OSError, ValueError):
        return {}
    return dict(Counter(entry.get("status") for entry in sites.values()))


PLANNED_CHANGES = 3             # sites the plan run (p) finds different from the inventory


def run_world(n, entities, workdir, args, playbook, with_uri=True, work_floor=True, fleet=False, log=print):
    """The runs of one world of n sites: {key: measurement} and whether all succeeded. `fleet`:
    only the first run, then one no-change run with the services' latency (args.latency)."""
    log(f"N = {n} sites x {entities} entities (work folder {workdir})")
    world = World(n, entities, workdir, getattr(args, "store", "inventory"))
    log(f"  generated the seed and inventory and started the sandbox in {world.setup_s} s "
        f"({world.sandbox.acumatica_url}, {world.sandbox.ocerra_url})")
    runs = {}
    try:
        def go(key, label, book, toolkit=False, attempt=None, more=(), forks=None):
            name = key if attempt is None else f"{key}{attempt}"
            report = workdir / f"{name}.report.json"
            extra = ["-e", f"toolkit_report_path={report}", "-e", f"toolkit_state_dir={workdir / 'state'}"] \
                if toolkit else []
            extra += list(more) + (world.store_args or [] if toolkit else [])
            before = world.store_requests()
            result = measure(name, label, book, world.inventory, workdir, world.sandbox,
                             world.sites, forks or args.forks, args.timeout, extra, args.wait_idle)
            result["key"] = key
            if world.sandbox.vault_url:
                after = world.store_requests()
                result["store_requests_per_site"] = max(
                    (r - before.get(site, (0, 0))[0] for site, (r, _w) in after.items()), default=0)
                result["store_writes"] = sum(w - before.get(site, (0, 0))[1] for site, (_r, w) in after.items())
            if toolkit:
                result["outcomes"] = _outcomes(report)
            if attempt is None:
                runs[key] = result
            else:
                attempts.setdefault(key, []).append(result)
            return result["rc"] == 0

        if not go("a", "provision, first run (creates everything)", playbook, toolkit=True):
            return runs, False
        if fleet:
            erp_s, ocerra_s = args.latency
            world.sandbox.set_latency(erp_s, ocerra_s)
            return runs, go("bL", f"no-change run, latency {erp_s:g}/{ocerra_s:g} s", playbook, toolkit=True)
        if getattr(args, "rotate", False):
            # Every site's password moved to its store (empty: the inventory's is the current one),
            # then rotated now: generated, stored, applied in the safe order, promoted.
            if not go("r", "rotate.yml, every site now (-e rotate_force=true)", ROOT / "playbooks" / "rotate.yml",
                      toolkit=True, more=["-e", "rotate_force=true", "-e", "api_user_password_store=vault_file",
                                          "-e", "api_user_password_vault_id=sandbox"]):
                return runs, False
            return runs, True
        if getattr(args, "profile", False):
            return runs, profile_no_change(world, playbook, args, log)
        if getattr(args, "forks_series", None):
            erp_s, ocerra_s = args.latency or REALISTIC_LATENCY
            for forks in args.forks_series:
                world.sandbox.set_latency(0, 0)
                ok = go(f"b@{forks}", f"no-change run, forks {forks}", playbook, toolkit=True, forks=forks)
                world.sandbox.set_latency(erp_s, ocerra_s)
                ok = go(f"bL@{forks}", f"no-change run, latency, forks {forks}", playbook, toolkit=True,
                        forks=forks) and ok
                world.sandbox.set_latency(0, 0)
                if not ok:
                    return runs, False
            return runs, True
        # (b) and (d) alternate, `repeat` times each, so a slow spell of the machine hits both;
        # the table shows each one's median run (by wall time).
        attempts, ok = {}, True
        for attempt in range(1, args.repeat + 1):
            if not go("b", "provision, no-change run", playbook, toolkit=True, attempt=attempt):
                ok = False
                break
            if attempt == 1:
                tasks = attempts["b"][0]["tasks"]
                floor = write_floor(workdir / "floor.yml", tasks["per_host_median"], max(tasks["extra"], 0))
            if not go("d", "Ansible's floor (set_fact only)", floor, attempt=attempt):
                ok = False
                break
        for key, results in attempts.items():
            runs[key] = _median_run(results)
        if not ok:
            return runs, False
        if work_floor:
            runs["w"] = measure_work_floor(world, args.timeout)
            if runs["w"] is None:
                return runs, False
        if with_uri:
            ok = go("c", "uri reference playbook", BENCH / "uri_reference.yml")
        if ok and args.latency:
            erp_s, ocerra_s = args.latency
            world.sandbox.set_latency(erp_s, ocerra_s)
            label = f"latency {erp_s:g}/{ocerra_s:g} s"
            for attempt in range(1, args.repeat + 1):
                ok = ok and go("bL", f"no-change run, {label}", playbook, toolkit=True, attempt=attempt)
            runs["bL"] = _median_run(attempts["bL"])
            if ok and with_uri:
                ok = go("cL", f"uri reference, {label}", BENCH / "uri_reference.yml")
            world.sandbox.set_latency(0, 0)
        if ok and not getattr(args, "skip_plan", False):
            # (p) the plan of a fleet where PLANNED_CHANGES sites differ from the inventory: last,
            # since the runs above expect no change.
            for site in world.sites[:PLANNED_CHANGES]:
                with open(world.inventory / "host_vars" / f"{site['host']}.yml", "a", encoding="utf-8") as handle:
                    handle.write("api_user_first_name: Planned\n")
            for attempt in range(1, args.repeat + 1):
                ok = ok and go("p", f"provision --check --diff, {PLANNED_CHANGES} sites to change", playbook,
                               toolkit=True, attempt=attempt, more=["--check", "--diff"])
            runs["p"] = _median_run(attempts["p"])
            runs["p"].update(_plan_size(runs["p"]))
        return runs, ok
    finally:
        world.close()


def _plan_size(run) -> dict:
    """The plan's output: the lines ansible-playbook printed and those of its Markdown."""
    log = Path(run["log"])
    markdown = log.with_name(log.name.replace(".log", ".report.md"))
    return {"output_lines": _lines(log), "output_bytes": log.stat().st_size if log.exists() else None,
            "markdown_lines": _lines(markdown)}


def _lines(path):
    return len(path.read_text(encoding="utf-8", errors="replace").splitlines()) if path.exists() else None


def measure_work_floor(world, timeout) -> dict | None:
    """(w): the no-change run's own work alone, in one warm process (bench/work_floor.py);
    None when it failed (its log is kept)."""
    out, log = world.workdir / "w.json", world.workdir / "w.log"
    print("  w) the sites' own work alone (vault derivations and requests, one process) ...", end="", flush=True)
    with open(log, "wb") as sink:
        done = subprocess.run([sys.executable, str(BENCH / "work_floor.py"), str(world.inventory), str(out)],
                              cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode != 0:
        print(f" FAILED (rc {done.returncode}, see {log})", flush=True)
        return None
    result = json.loads(out.read_text(encoding="utf-8"))
    print(f" {result['requests']['cpu_s']} s CPU (http.client: {result['http.client']['cpu_s']} s)", flush=True)
    return result


def _median_run(results: list[dict]) -> dict:
    """The run of median wall time, with every attempt's wall and CPU times attached."""
    ordered = sorted(results, key=lambda r: r.get("wall_s", float("inf")))
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["attempts"] = [{k: r.get(k) for k in ("wall_s", "cpu_s", "maxrss_mb", "rc", "writes",
                                                   "requests_per_site_max")} for r in results]
    chosen["failed_attempts"] = [r["log"] for r in results if r.get("rc") != 0]
    if chosen["failed_attempts"]:
        chosen["rc"] = next(r["rc"] for r in results if r.get("rc") != 0)
    return chosen


def profile_no_change(world, playbook, args, log=print) -> bool:
    """The no-change run under bench/profile_run.py (cProfile in the controller and workers)."""
    outdir = world.workdir / "profile"
    command = [sys.executable, str(BENCH / "profile_run.py"), str(outdir), "--top", str(args.profile_top),
               "--", "ansible-playbook", "-i", str(world.inventory), str(playbook),
               "-e", f"toolkit_state_dir={world.workdir / 'state'}", *(world.store_args or [])]
    if args.forks:
        command += ["--forks", str(args.forks)]
    log(f"  b) provision, no-change run, profiled (profiles in {outdir})")
    with open(world.workdir / "b.profiled.log", "wb") as sink:
        proc = subprocess.run(command, cwd=ROOT, env=_env(world.workdir / "b.profiled.tasks.json"),
                              stdout=subprocess.PIPE, stderr=sink, timeout=args.timeout)
    text = proc.stdout.decode(errors="replace")
    (world.workdir / "profile.txt").write_text(text, encoding="utf-8")
    # The playbook's own output comes first on stdout; the report starts at the worker count.
    start = text.find(" worker(s); CPU time inside")
    log(text[text.rfind("\n", 0, start) + 1:] if start >= 0 else text)
    return proc.returncode == 0


def memory_series(sizes, args, playbook, root_dir, log=print):
    rows = []
    ok = True
    for n in sizes:
        runs, good = run_world(n, args.entities, root_dir / f"n{n}", args, playbook, with_uri=False,
                               work_floor=False, log=log)
        ok = ok and good
        row = {"n": n}
        for key in ("a", "b", "d"):
            if key in runs:
                row[key] = {k: runs[key].get(k) for k in ("wall_s", "cpu_s", "maxrss_mb", "rc",
                                                          "requests_per_site_max", "writes")}
        rows.append(row)
        if not good:
            break
    return rows, ok
