"""./run bench: the no-change run over N sites against Ansible's floor and a `uri` playbook.

One command (see bench/README.md):

  1. generates, in a temporary folder, a sandbox seed and an inventory of N sites, each its
     own fake Acumatica instance with E Ocerra entities (bench/gen.py);
  2. starts the sandbox (`python -m sandbox`) as a subprocess on free loopback ports;
  3. runs and measures, one after the other against the same inventory:
       (a) playbooks/provision.yml, first run: creates every API user, connects every entity;
       (b) playbooks/provision.yml again: the no-change run;
       (c) bench/uri_reference.yml: the same checks with ansible.builtin.uri tasks;
       (d) Ansible's floor: as many `set_fact` tasks per host as (b) executed;
     each under bench/rusage.py (wall, CPU of the whole process tree, peak RSS), reading the
     sandbox's request counters before and after; and (w), the sites' own work alone in one
     process (bench/work_floor.py: vault derivations and requests), so that (d) + (w) bounds
     what (b) can cost;
  4. prints the table, the ratios and which targets are met.

Exit status: 0 when every run succeeded (whether or not the targets are met), 1 when a run
failed, 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import configparser
import json
import math
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench import gen  # noqa: E402
sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import LISTING_WORKERS  # noqa: E402

OCERRA_PASSWORD_LENGTH = 24
REALISTIC_LATENCY = "0.3,0.15"   # seconds per request: MYOB Acumatica, Ocerra (from a partner's network)
SITE_ERP_ROUNDS = 4              # a no-change site's sequential ERP round trips (latency_limit)
LISTING_ROUNDS = 4               # the list (2 requests) and the first two settings reads, alone
SANDBOX_START_TIMEOUT = 300      # seconds to wait for the sandbox's "listening" line
CONTROL_TIMEOUT = 120            # seconds for one control-API call (the log can be large)


# ---- the sandbox as a subprocess ---------------------------------------------------------

class SandboxProcess:
    """`python -m sandbox --seed F --acumatica-port 0 --ocerra-port 0` and its control API."""

    def __init__(self, seed: Path, workdir: Path):
        self.stderr = open(workdir / "sandbox.stderr", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--seed", str(seed), "--acumatica-port", "0",
             "--ocerra-port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL,
            start_new_session=True)
        line = self._first_line(SANDBOX_START_TIMEOUT)
        try:
            urls = json.loads(line)
        except ValueError:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r} (see {workdir / 'sandbox.stderr'})") from None
        self.acumatica_url, self.ocerra_url = urls["acumatica_url"], urls["ocerra_url"]

    def _first_line(self, timeout):
        deadline = time.monotonic() + timeout
        buffer = b""
        while b"\n" not in buffer and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
            elif self.proc.poll() is not None:
                break
        return buffer.decode(errors="replace").strip()

    def _call(self, base, path, method="GET"):
        request = urllib.request.Request(f"{base}/_sandbox/{path}", method=method)
        with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as answer:
            return json.loads(answer.read() or b"null")

    def snapshot(self) -> dict:
        """Counters of both servers, the request-log sizes, the listings of Ocerra's entities
        in the log, and the sandbox's CPU seconds."""
        ocerra_log = self._call(self.ocerra_url, "log")
        return {"erp": self._call(self.acumatica_url, "counters"),
                "ocerra": self._call(self.ocerra_url, "counters"),
                "erp_log": len(self._call(self.acumatica_url, "log")),
                "ocerra_log": len(ocerra_log), "listing": _listing_share(ocerra_log),
                "cpu_s": self.cpu_seconds()}

    def set_latency(self, erp_s: float, ocerra_s: float):
        """Every product request of each fake answers after that many seconds (0: none): the
        sandbox's `latency` fault on every path, until cleared."""
        for base, seconds in ((self.acumatica_url, erp_s), (self.ocerra_url, ocerra_s)):
            self._call(base, "faults", "DELETE")
            if seconds:
                body = json.dumps({"kind": "latency", "path": ".*", "count": None, "seconds": seconds}).encode()
                request = urllib.request.Request(f"{base}/_sandbox/faults", data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT).close()

    def clear_logs(self):
        """Drop the request logs (counters stay), so the sandbox's memory stays bounded."""
        for base in (self.acumatica_url, self.ocerra_url):
            self._call(base, "log", "DELETE")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.proc.stdout.close()
        self.stderr.close()


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


def _listing_share(log: list) -> dict:
    """What the toolkit's listings of Ocerra's entities (once per run and service user: the
    current client, the others, one read of each) cost, from the sandbox's request log (cleared
    before each run): {"listings", "requests", "per_client": {client: requests}}."""
    listings = sum(1 for e in log if e["path"] == "/odata/OtherClients()")
    per_client = {}
    for e in log:
        if e["path"] == "/api/Client/Current" and e.get("site"):
            per_client[e["site"]] = per_client.get(e["site"], 0) + 1
    clients = {e["query"].get("clientId") for e in log if e["path"] == "/api/Acumatica/Settings"
               and e["method"] == "GET" and e["query"].get("clientId")}
    for client in clients:
        per_client[client] = per_client.get(client, 0) + listings
    return {"listings": listings, "per_client": per_client,
            "requests": listings + sum(per_client.values())}


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


# ---- the floor ---------------------------------------------------------------------------

def write_floor(path: Path, per_host: int, run_once: int) -> Path:
    """`per_host` set_fact tasks for every host, plus `run_once` run_once set_fact tasks (the
    no-change run's results beyond per_host x hosts, e.g. its run_once validation)."""
    lines = [
        "---",
        "# Generated by bench/run.py: Ansible's floor. As many tasks per host as the toolkit's",
        f"# no-change run executed ({per_host} per host + {run_once} run_once), each a set_fact:",
        "# pure Ansible per-task overhead, no module execution, no HTTP.",
        "- name: Ansible's floor",
        "  hosts: all",
        "  gather_facts: false",
        "  tasks:",
    ]
    for i in range(1, run_once + 1):
        lines += [f"    - name: Floor run_once task {i}",
                  "      ansible.builtin.set_fact:",
                  f"        bench_floor_once_{i}: true",
                  "      run_once: true"]
    for i in range(1, per_host + 1):
        lines += [f"    - name: Floor task {i}",
                  "      ansible.builtin.set_fact:",
                  f"        bench_floor_{i}: true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- one world: generate, start the sandbox, run ---------------------------------------

class World:
    def __init__(self, n: int, entities: int, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        self.sites = gen.make_sites(n, entities)
        ocerra_password = gen.make_password(length=OCERRA_PASSWORD_LENGTH)
        self.seed = gen.write_seed(workdir / "seed.yml", gen.make_seed(self.sites, ocerra_password))
        self.sandbox = SandboxProcess(self.seed, workdir)
        try:
            self.inventory = gen.write_inventory(workdir / "inventory", self.sites,
                                                 self.sandbox.acumatica_url, self.sandbox.ocerra_url,
                                                 ocerra_password)
        except BaseException:
            self.sandbox.stop()
            raise
        self.setup_s = round(time.perf_counter() - started, 1)

    def close(self):
        self.sandbox.stop()


def run_world(n, entities, workdir, args, playbook, with_uri=True, work_floor=True, log=print):
    log(f"N = {n} sites x {entities} entities (work folder {workdir})")
    world = World(n, entities, workdir)
    log(f"  generated the seed and inventory and started the sandbox in {world.setup_s} s "
        f"({world.sandbox.acumatica_url}, {world.sandbox.ocerra_url})")
    runs = {}
    try:
        def go(key, label, book, toolkit=False, attempt=None, more=(), forks=None):
            name = key if attempt is None else f"{key}{attempt}"
            report = workdir / f"{name}.report.json"
            extra = ["-e", f"toolkit_report_path={report}", "-e", f"toolkit_state_dir={workdir / 'state'}"] \
                if toolkit else []
            extra += list(more)
            result = measure(name, label, book, world.inventory, workdir, world.sandbox,
                             world.sites, forks or args.forks, args.timeout, extra, args.wait_idle)
            result["key"] = key
            if toolkit:
                result["outcomes"] = _outcomes(report)
            if attempt is None:
                runs[key] = result
            else:
                attempts.setdefault(key, []).append(result)
            return result["rc"] == 0

        if not go("a", "provision, first run (creates everything)", playbook, toolkit=True):
            return runs, False
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
            erp_s, ocerra_s = args.latency or _latency(REALISTIC_LATENCY)
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
        return runs, ok
    finally:
        world.close()


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
               "-e", f"toolkit_state_dir={world.workdir / 'state'}"]
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


# ---- reporting ---------------------------------------------------------------------------

def _ratio(x, y):
    return round(x / y, 2) if x and y else None


def targets(runs: dict, entities: int) -> list[dict]:
    b, c, d = runs.get("b"), runs.get("c"), runs.get("d")
    limit = 3 + entities + 2
    out = []
    if b and d:
        out.append({"target": "(b)/(d) wall <= 2.0", "value": _ratio(b["wall_s"], d["wall_s"]),
                    "met": _ratio(b["wall_s"], d["wall_s"]) is not None and b["wall_s"] / d["wall_s"] <= 2.0})
    if b and c:
        out.append({"target": "(c)/(b) wall >= 20", "value": _ratio(c["wall_s"], b["wall_s"]),
                    "met": _ratio(c["wall_s"], b["wall_s"]) is not None and c["wall_s"] / b["wall_s"] >= 20})
    b_lat, c_lat = runs.get("bL"), runs.get("cL")
    if b and b_lat:
        out.append({"target": "(bL)/(b) wall <= 1.3 (latency hidden)", "value": _ratio(b_lat["wall_s"], b["wall_s"]),
                    "met": b_lat["wall_s"] / b["wall_s"] <= 1.3})
    if b and d:
        out.append({"target": "(b)/(d) CPU <= 1.5", "value": _ratio(b["cpu_s"], d["cpu_s"]),
                    "met": b["cpu_s"] / d["cpu_s"] <= 1.5})
    if b_lat and c_lat:
        out.append({"target": "(cL)/(bL) wall >= 20", "value": _ratio(c_lat["wall_s"], b_lat["wall_s"]),
                    "met": c_lat["wall_s"] / b_lat["wall_s"] >= 20})
    if b:
        most = max([b["requests_per_site_max"]] + [a.get("requests_per_site_max") or 0
                                                    for a in b.get("attempts", [])])
        out.append({"target": f"(b) requests/site <= 3+E+2 = {limit}", "value": most, "met": most <= limit})
        out.append({"target": "(b) Ocerra's entities listed once per run", "value": b.get("listings"),
                    "met": b.get("listings") == 1})
        writes = max([b["writes"]] + [a.get("writes") or 0 for a in b.get("attempts", [])])
        out.append({"target": "(b) write requests = 0", "value": writes, "met": writes == 0})
    return out


def table(runs: dict, n: int, entities: int, forks: int = 0, latency=None) -> str:
    head = (f"{'run':<44} {'wall s':>8} {'CPU s':>8} {'user s':>8} {'sys s':>7} {'RSS MB':>7} "
            f"{'tasks/host':>10} {'req/site':>9} {'writes':>7} {'in/out':>11} {'sbx CPU':>8} {'other':>6} {'rc':>3}")
    lines = [f"Benchmark: N = {n} sites, E = {entities} entities per site", head, "-" * len(head)]
    for key in ("a", "r", "b", "bL", "c", "cL", "d"):
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
             ("(cL)/(bL)", "cL", "bL", "uri playbook vs no-change, latency")]
    for name, x, y, what in pairs:
        if x in runs and y in runs:
            lines.append(f"{name} {what:<34} wall {_ratio(runs[x]['wall_s'], runs[y]['wall_s'])}x, "
                         f"CPU {_ratio(runs[x]['cpu_s'], runs[y]['cpu_s'])}x")
    if runs.get("w") and runs.get("d"):
        lines.append(work_floor_bound(runs["w"], runs["d"]))
    if runs.get("bL") and latency:
        lines.append(latency_limit(runs["bL"], n, entities, forks, latency))
    for key in ("b", "bL", "d"):
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
    for key in ("a", "r", "b"):
        if key in runs and runs[key].get("outcomes") is not None:
            shown = ", ".join(f"{v} {k}" for k, v in sorted(runs[key]["outcomes"].items(), key=str)) or "no report"
            lines.append(f"({key}) per-site outcomes in the toolkit's report: {shown}")
    lines.append("")
    lines.append("Targets:")
    for t in targets(runs, entities):
        lines.append(f"  [{'met' if t['met'] else 'NOT met'}] {t['target']}: {t['value']}")
    return "\n".join(lines)


def work_floor_bound(work, floor) -> str:
    """The least (b)/(d) CPU any implementation can reach: the floor plus the work alone."""
    lines = [f"(w) the sites' own work alone, one warm process: {work['derivations']} vault derivations "
             f"{work['vault_cpu_s']:.2f} s CPU, then their requests; (d) + (w) is the least (b)/(d) CPU "
             f"any implementation can reach"]
    for library in ("requests", "http.client"):
        http = work[library]
        bound = floor["cpu_s"] + http["cpu_s"]
        lines.append(f"    through {library:<11}: {http['requests']} requests {http['http_cpu_s']:.2f} s CPU; "
                     f"(d) + (w) = {bound:.2f} s CPU = {_ratio(bound, floor['cpu_s'])}x (d)")
    return "\n".join(lines)


def latency_limit(run, n, entities, forks, latency):
    """What latency alone makes the no-change run last: the run's one listing of Ocerra's
    entities (the list, then LISTING_WORKERS settings reads at a time) plus N sites' critical
    paths, `forks` at a time. A site's path is SITE_ERP_ROUNDS ERP round trips one after the
    other: the admin's sign-in, the read of the API user (its failed sign-ins decide whether
    the verification may sign in), the verification sign-in, then both sign-outs at once."""
    erp_s, ocerra_s = latency
    listing_s = (LISTING_ROUNDS + math.ceil((n * entities - LISTING_ROUNDS) / LISTING_WORKERS)) * ocerra_s
    path_s = SITE_ERP_ROUNDS * erp_s
    limit = listing_s + n * path_s / forks
    return (f"(bL) latency limit: listing {listing_s:.2f} s + {n} sites x {path_s:.2f} s critical path "
            f"({SITE_ERP_ROUNDS} ERP round trips) / {forks} forks = {limit:.2f} s; (bL) is {run['wall_s'] / limit:.2f}x that")


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
    erp_s, ocerra_s = latency or _latency(REALISTIC_LATENCY)
    lines = [f"Forks series: N = {n}, latency ERP {erp_s:g} s / Ocerra {ocerra_s:g} s for (bL)", head, "-" * len(head)]
    for forks in forks_series:
        b, bl = runs.get(f"b@{forks}", {}), runs.get(f"bL@{forks}", {})
        lines.append(f"{forks:>6} {b.get('wall_s', 0):>10.2f} {b.get('cpu_s', 0):>9.2f} {b.get('tree_pss_mb', 0):>10.1f} "
                     f"{bl.get('wall_s', 0):>11.2f} {bl.get('cpu_s', 0):>10.2f} {bl.get('tree_pss_mb', 0):>11.1f} "
                     f"{bl.get('procs_max', 0):>6} {str(_ratio(bl.get('wall_s'), b.get('wall_s'))):>9}")
    return "\n".join(lines)


def _latency(text):
    try:
        erp_s, ocerra_s = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected ERP_S,OCERRA_S, e.g. 0.3,0.15") from None
    if not (0 <= erp_s <= 10 and 0 <= ocerra_s <= 10):
        raise argparse.ArgumentTypeError("latencies must be between 0 and 10 seconds")
    return erp_s, ocerra_s


def _sizes(text):
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers, e.g. 100,300,1000") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("each number must be positive")
    return sizes


def parse(argv):
    parser = argparse.ArgumentParser(prog="./run bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200, help="N, the number of sites (default 200)")
    parser.add_argument("--entities", type=int, default=2, help="Ocerra entities per site (default 2)")
    parser.add_argument("--forks", type=int, default=None,
                        help="forks for every run (default: ansible.cfg's)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of (b) and of (d), alternating; the table shows each one's median "
                             "by wall time (default 3, and 1 with --memory-series)")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each run, wait up to SECONDS for the machine to be nearly idle "
                             "(other processes under 15%% of a core); default 0 = do not wait")
    parser.add_argument("--skip-uri", action="store_true", help="do not run the uri reference (c)")
    parser.add_argument("--latency", type=_latency, nargs="?", const=_latency(REALISTIC_LATENCY),
                        metavar="ERP_S,OCERRA_S",
                        help="also run (b) and (c) with this latency on every request of the fakes "
                             f"(bL, cL); alone: the realistic {REALISTIC_LATENCY}")
    parser.add_argument("--forks-series", type=_sizes, metavar="F1,F2,...",
                        help="after (a), the no-change run with each forks value, without and with latency "
                             "(--latency, else the realistic one): wall, CPU and the tree's peak memory")
    parser.add_argument("--memory-series", type=_sizes, metavar="N1,N2,...",
                        help="instead: for each N, the first and no-change runs and the floor; "
                             "prints peak memory per N")
    parser.add_argument("--playbook", default=str(ROOT / "playbooks" / "provision.yml"),
                        help="the toolkit playbook measured in (a) and (b) (default playbooks/provision.yml)")
    parser.add_argument("--profile", action="store_true",
                        help="instead: run (a), then the no-change run under cProfile (controller and "
                             "every worker, bench/profile_run.py) and print where the time goes")
    parser.add_argument("--profile-top", type=int, default=40, help="functions shown per profile (default 40)")
    parser.add_argument("--rotate", action="store_true",
                        help="instead of (b)-(d): after (a), rotate every site's password now (rotate.yml) and "
                             "measure it")
    parser.add_argument("--json", metavar="OUT.json", help="also write every measurement as JSON")
    parser.add_argument("--workdir", help="keep the generated files, logs and measurements here "
                                          "(default: a temporary folder, removed at the end)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per run (default 3600)")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.memory_series else 3
    if args.sites < 1 or args.entities < 1 or args.repeat < 1:
        parser.error("--sites, --entities and --repeat must be at least 1")
    if not Path(args.playbook).is_file():
        parser.error(f"{args.playbook}: no such playbook")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    playbook = Path(args.playbook).resolve()
    keep = args.workdir is not None
    root_dir = Path(args.workdir).resolve() if keep else Path(tempfile.mkdtemp(prefix="bench-"))
    root_dir.mkdir(parents=True, exist_ok=True)
    forks = args.forks or _configured_forks()
    print(f"Forks: {forks}{'' if args.forks else ' (ansible.cfg)'}; CPUs: {os.cpu_count()}")
    report = {"forks": forks, "entities": args.entities, "playbook": str(playbook)}
    try:
        if args.memory_series:
            rows, ok = memory_series(args.memory_series, args, playbook, root_dir)
            text = memory_table(rows)
            report["memory_series"] = rows
        else:
            runs, ok = run_world(args.sites, args.entities, root_dir / f"n{args.sites}", args, playbook,
                                 with_uri=not args.skip_uri)
            text = ("" if args.profile else
                    forks_table(runs, args.forks_series, args.sites, args.latency) if args.forks_series else
                    table(runs, args.sites, args.entities, forks, args.latency))
            report.update(sites=args.sites, runs=runs, targets=targets(runs, args.entities))
        print()
        print(text)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
            print(f"\nMeasurements written to {args.json}")
        if not ok:
            print(f"\nA run failed; its log is kept in {root_dir}", file=sys.stderr)
            keep = True
        return 0 if ok else 1
    finally:
        if keep:
            print(f"Work folder kept: {root_dir}")
        else:
            shutil.rmtree(root_dir, ignore_errors=True)


def _configured_forks() -> int:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    return int(os.environ.get("ANSIBLE_FORKS") or config.get("defaults", "forks", fallback="5"))


if __name__ == "__main__":
    sys.exit(main())
