"""./run plan and ./run apply: a playbook's plan and its apply, with an exit status a pipeline
acts on (README, In a pipeline).

  ./run plan [--playbook NAME] [--report PATH] [--out FILE] [ANSIBLE-PLAYBOOK ARGS]
      ansible-playbook playbooks/NAME.yml --check --diff (provision by default); the report's
      plan section (PATH, default out/report.json) and its Markdown beside it; with --out, the
      saved plan. Exit status, like `terraform plan -detailed-exitcode` but with 20 where
      Terraform has 2, which Ansible already uses for a failed host:
        0   no change: every site was read and is as the inventory says;
        20  changes pending: every site was read, at least one would change;
        other  failed: ansible-playbook's own status (1 error, 2 a site failed or is blocked,
               4 unreachable, 99 interrupted, ...), or 1 when the report did not finish.
  ./run apply FILE [--report PATH] [ANSIBLE-PLAYBOOK ARGS]
      the saved plan's playbook with -e toolkit_plan=FILE: only what the plan said; a site that
      drifted since fails, naming what changed. Exit status: ansible-playbook's (0 applied).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_CHANGE, CHANGES_PENDING, UNFINISHED = 0, 20, 1


def plan_status(playbook_status, report):
    """The plan's exit status from ansible-playbook's and the finished report (or None)."""
    if playbook_status != 0:
        return playbook_status
    plan = (report or {}).get("plan") if (report or {}).get("status") == "finished" else None
    if plan is None:
        return UNFINISHED
    counts = plan["counts"]
    return CHANGES_PENDING if counts["unchanged"] < counts["sites"] else NO_CHANGE


def _playbook(name):
    path = ROOT / "playbooks" / (name if name.endswith(".yml") else name + ".yml")
    if not path.is_file():
        raise SystemExit("./run: no playbook %s" % path)
    return str(path)


def _run(playbook, report, *args):
    command = ["ansible-playbook", playbook, "-e", "toolkit_report_path=%s" % report, *args]
    return subprocess.run(command, check=False).returncode


def _load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("plan", "apply"):
        print(__doc__, file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="./run " + argv[0])
    if argv[0] == "apply":
        parser.add_argument("saved", metavar="FILE", help="the plan saved by ./run plan --out FILE")
    else:
        parser.add_argument("--playbook", default="provision", help="provision (default), rotate, restore_connection")
        parser.add_argument("--out", help="also save the plan to this file, for ./run apply")
    parser.add_argument("--report", default=os.path.join("out", "report.json"), help="the report (JSON)")
    args, rest = parser.parse_known_args(argv[1:])
    if any("toolkit_report_path" in arg for arg in rest):
        print("./run %s: give the report's path with --report, which the exit status is read from" % argv[0],
              file=sys.stderr)
        return 2
    report = os.path.abspath(args.report)
    if argv[0] == "apply":
        saved = _load(args.saved)
        if not isinstance(saved, dict) or not saved.get("playbook"):
            print("./run apply: %s is not a saved plan (./run plan --out FILE makes one)" % args.saved, file=sys.stderr)
            return 2
        return _run(_playbook(saved["playbook"]), report, "-e", "toolkit_plan=%s" % os.path.abspath(args.saved), *rest)
    extra = ["-e", "toolkit_plan_out=%s" % os.path.abspath(args.out)] if args.out else []
    status = _run(_playbook(args.playbook), report, "--check", "--diff", *extra, *rest)
    return plan_status(status, _load(report))


if __name__ == "__main__":
    sys.exit(main())
