"""The role's argument spec: ansible-doc reads it, and it holds no secret option (the site's
variables, secrets among them, are checked by validate_sites against the schema, which never
echoes a value; a role argument spec would)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_ansible_doc_reads_the_roles_entry_point():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "role", "--json",
                           "ocerra.acumatica.toolkit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper(), done.stderr
    docs = json.loads(done.stdout)
    assert set(docs["ocerra.acumatica.toolkit"]["entry_points"]) == {"main"}


def test_the_role_takes_no_secret():
    specs = yaml.safe_load((ROOT / "roles" / "toolkit" / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(options) == {"toolkit_flow", "toolkit_report_path", "toolkit_report_playbook",
                            "toolkit_state_dir", "toolkit_lock_wait", "toolkit_lease_seconds", "toolkit_plan_out",
                            "toolkit_plan"}
    assert not any(rules.get("no_log") for rules in options.values())
