"""`./run demo`: the main job against the sandbox.

Starts the fake MYOB Acumatica and fake Ocerra on their default ports (127.0.0.1:8601 and
:8602, the URLs of inventories/sandbox), runs `playbooks/provision.yml` twice (the first run
creates the API users and connects every entity, the second must change nothing), prints the
per-site report of each run, and stops the sandbox. Between runs it reads the sandbox's
counters (GET /_sandbox/counters on both servers): the second run must send no write, and
every ERP sign-in must have ended in a sign-out or in a publish's recycle, with no session
left open. Exits non-zero otherwise or if a run fails.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sandbox" / "seeds" / "default.yml"
REPORT = ROOT / "out" / "report.json"
STATE = ROOT / ".sandbox" / "state"     # the sandbox sites' journals, not the user's own


def provision(label):
    print(f"\n=== {label}: ansible-playbook playbooks/provision.yml", flush=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    if REPORT.exists():
        REPORT.unlink()
    done = subprocess.run(["ansible-playbook", "playbooks/provision.yml",
                           "-e", f"toolkit_report_path={REPORT}", "-e", f"toolkit_state_dir={STATE}"],
                          cwd=ROOT, env=env)
    if done.returncode != 0:
        sys.exit(f"{label} failed (exit {done.returncode}); see the report above and {REPORT}.")
    return json.loads(REPORT.read_text())


def counters(sandbox):
    """(ERP writes, Ocerra writes, ERP sign-ins, ERP sign-outs, ERP sessions ended by a publish,
    ERP sessions open) from the control API."""
    erp = requests.get(f"{sandbox.acumatica_url}/_sandbox/counters", timeout=10).json()
    ocerra = requests.get(f"{sandbox.ocerra_url}/_sandbox/counters", timeout=10).json()
    return (sum(c.get("writes", 0) for c in erp.values()), sum(c.get("writes", 0) for c in ocerra.values()),
            *(sum(c.get(k, 0) for c in erp.values()) for k in ("signins", "signouts", "sessions_expired",
                                                                 "sessions_open")))


def show(title, report):
    print(f"\n=== {title}")
    for site, entry in sorted(report["sites"].items()):
        print(f"  {site:<10} {entry['status']:<9} {entry['reason']}")


def main():
    try:
        sandbox = Sandbox.start(seed=str(SEED), acumatica_port=8601, ocerra_port=8602)
    except OSError as exc:
        sys.exit(f"Cannot start the sandbox on 127.0.0.1:8601/8602 ({exc.strerror}); "
                 "is another sandbox or demo running?")
    print(f"Sandbox up: MYOB Acumatica {sandbox.acumatica_url}, Ocerra {sandbox.ocerra_url}")
    try:
        first = provision("First run (creates the API users and connects every entity)")
        after_first = counters(sandbox)
        second = provision("Second run (must change nothing)")
        after_second = counters(sandbox)
    finally:
        sandbox.stop()
    show("Report of the first run", first)
    show(f"Report of the second run (also in {REPORT.relative_to(ROOT)})", second)
    writes = (after_second[0] - after_first[0]) + (after_second[1] - after_first[1])
    changed_first = sum(1 for e in first["sites"].values() if e["status"] == "changed")
    print(f"\nFirst run changed {changed_first} site(s) with {after_first[0]} ERP and {after_first[1]} Ocerra "
          f"write request(s); the second run sent {writes}.")
    signins, signouts, recycled, still_open = after_second[2:]
    print(f"ERP sign-ins {signins}, sign-outs {signouts}, sessions ended by a publish's recycle {recycled} "
          "(Ocerra's connection tests included).")
    not_ok = [s for s, e in second["sites"].items() if e["status"] != "ok"]
    if not_ok or writes:
        sys.exit(f"The second run was not a no-change run: {', '.join(not_ok) or 'writes were sent'}.")
    if still_open or signins != signouts + recycled:
        sys.exit("An ERP session was left open.")


if __name__ == "__main__":
    main()
