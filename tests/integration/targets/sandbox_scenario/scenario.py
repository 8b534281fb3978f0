"""The sandbox scenario of runme.sh. ansible-test runs it from a copy of the target and names the
collection's tree in ANSIBLE_COLLECTIONS_PATH; that tree is the repository's (a checkout, not the
built collection, which leaves the sandbox out): the sandbox and its inventory come from there.
Exit 0 when every step holds, else a message naming the step."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0]) / "ansible_collections" / "ocerra" / "acumatica"
SITES = {"acme", "bravo", "charlie"}


def playbook(work, name, *args):
    """ansible-playbook playbooks/NAME.yml on the scenario's inventory: its report."""
    report = work / ("%s.json" % name)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    subprocess.run(["ansible-playbook", "-i", str(work / "inventory"), str(ROOT / "playbooks" / (name + ".yml")),
                    "-e", "toolkit_report_path=%s" % report, "-e", "toolkit_state_dir=%s" % (work / "state"), *args],
                   cwd=ROOT, env=env, check=True)
    return json.loads(report.read_text())


def expect(what, report, status):
    found = {site: entry["status"] for site, entry in report["sites"].items()}
    if found != dict.fromkeys(SITES, status):
        sys.exit("%s: expected every site %s, found %s" % (what, status, found))
    print("ok: %s, every site %s" % (what, status))


def main():
    with tempfile.TemporaryDirectory(prefix="sandbox-scenario-") as scratch:
        work = Path(scratch)
        sandbox = subprocess.Popen([sys.executable, "-m", "sandbox", "--acumatica-port", "0", "--ocerra-port", "0"],
                                   cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            urls = json.loads(sandbox.stdout.readline())
            shutil.copytree(ROOT / "inventories" / "sandbox", work / "inventory")
            for path in (work / "inventory").rglob("*.yml"):
                text = path.read_text().replace("http://127.0.0.1:8601", urls["acumatica_url"])
                path.write_text(text.replace("http://127.0.0.1:8602", urls["ocerra_url"]))
            expect("first provision", playbook(work, "provision"), "changed")
            expect("second provision", playbook(work, "provision"), "ok")
            plan = playbook(work, "provision", "--check", "--diff")
            if plan["plan"]["counts"]["unchanged"] != len(SITES):
                sys.exit("the plan after two runs is not empty: %s" % plan["plan"]["counts"])
            print("ok: the plan changes nothing")
            expect("report", playbook(work, "report"), "ok")
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
