"""The benchmark's world: a generated inventory of N sites and the sandbox they point at.

bench/gen.py writes, in a work folder, a sandbox seed and an inventory of N sites, each its own
fake Acumatica instance with E Ocerra entities; the sandbox (`python -m sandbox`) runs as a
subprocess on free loopback ports, with its control API for counters, logs and latency; the
floor is a generated playbook of as many `set_fact` tasks per host as the no-change run ran.
With a shared password store (`store="hashi_vault"`) the sandbox also serves its fake Vault, each
site's current password is stored in it through its KV v2 API, and every toolkit run is pointed at it.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import gen
from bench.paths import ROOT
from sandbox import vault as sandbox_vault

OCERRA_PASSWORD_LENGTH = 24
SANDBOX_START_TIMEOUT = 300      # seconds to wait for the sandbox's "listening" line
CONTROL_TIMEOUT = 120            # seconds for one control-API call (the log can be large)


# ---- the sandbox as a subprocess ---------------------------------------------------------

class SandboxProcess:
    """`python -m sandbox --seed F --acumatica-port 0 --ocerra-port 0` (with `--vault-port 0`:
    and the fake Vault) and its control API."""

    def __init__(self, seed: Path, workdir: Path, vault=False):
        self.stderr = open(workdir / "sandbox.stderr", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--seed", str(seed), "--acumatica-port", "0",
             "--ocerra-port", "0"] + (["--vault-port", "0"] if vault else []),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL,
            start_new_session=True)
        line = self._first_line(SANDBOX_START_TIMEOUT)
        try:
            urls = json.loads(line)
        except ValueError:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r} (see {workdir / 'sandbox.stderr'})") from None
        self.acumatica_url, self.ocerra_url = urls["acumatica_url"], urls["ocerra_url"]
        self.vault_url = urls.get("vault_url")

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

    def vault_write(self, path: str, data: dict):
        """A KV v2 write to the fake Vault's `secret` mount, as any Vault client sends it."""
        request = urllib.request.Request(
            f"{self.vault_url}/v1/secret/data/{path}", data=json.dumps({"data": data}).encode(), method="POST",
            headers={"X-Vault-Token": sandbox_vault.DEFAULT_TOKEN, "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT).close()

    def vault_counters(self) -> dict:
        return self._call(self.vault_url, "counters")

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


# ---- the floor ---------------------------------------------------------------------------

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


STORES = ("inventory", "vault_file", "hashi_vault")


class World:
    def __init__(self, n: int, entities: int, workdir: Path, store: str = "inventory"):
        self.workdir, self.store = workdir, store
        self.store_args = None
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        self.sites = gen.make_sites(n, entities)
        ocerra_password = gen.make_password(length=OCERRA_PASSWORD_LENGTH)
        self.seed = gen.write_seed(workdir / "seed.yml", gen.make_seed(self.sites, ocerra_password))
        self.sandbox = SandboxProcess(self.seed, workdir, vault=store == "hashi_vault")
        try:
            self.inventory = gen.write_inventory(workdir / "inventory", self.sites,
                                                 self.sandbox.acumatica_url, self.sandbox.ocerra_url,
                                                 ocerra_password)
            self._open_store()
        except BaseException:
            self.close()
            raise
        self.setup_s = round(time.perf_counter() - started, 1)

    def _open_store(self):
        """The extra variables that keep every site's password in the chosen store."""
        if self.store == "vault_file":
            self.store_args = ["-e", "api_user_password_store=vault_file", "-e", f"api_user_password_vault_id={gen.VAULT_ID}"]
        elif self.store == "hashi_vault":
            for site in self.sites:
                self.sandbox.vault_write(f"ocerra-acumatica/{site['host']}",
                                         {"current": site["api_password"], "pending": None, "previous": None})
            os.environ["VAULT_TOKEN"] = sandbox_vault.DEFAULT_TOKEN      # what the runs inherit
            self.store_args = ["-e", json.dumps({"api_user_password_store": "ocerra.acumatica.hashi_vault",
                                                 "api_user_password_store_options": {"url": self.sandbox.vault_url}})]

    def store_requests(self) -> dict:
        """{site: (requests, writes)} the shared password store has answered so far, its
        passwords and its records (the lease, the admin's sign-ins) together; {} for a store
        that is not shared."""
        if not self.sandbox.vault_url:
            return {}
        found = {}
        for key, counts in self.sandbox.vault_counters().items():
            site = re.sub(r"\.(lease|sign-ins)$", "", key.rsplit("/", 1)[-1])
            requests, writes = found.get(site, (0, 0))
            found[site] = (requests + counts.get("requests", 0), writes + counts.get("writes", 0))
        return found

    def close(self):
        self.sandbox.stop()
