"""The roles' argument specs: ansible-doc reads them, and every secret option is no_log."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"api_user": {"main", "reset"}, "ocerra_entities": {"main"}, "site_report": {"main", "summary"}}
SECRETS = {"erp_admin_password", "api_user_password", "ocerra_password", "password"}


def walk(options, prefix=""):
    for name, rules in (options or {}).items():
        yield prefix + name, rules
        yield from walk(rules.get("options"), prefix + name + ".")


def test_ansible_doc_reads_every_role_entry_point():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "role", "--json",
                           *("ocerra.acumatica.%s" % r for r in ROLES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper(), done.stderr
    docs = json.loads(done.stdout)
    for role, entries in ROLES.items():
        assert set(docs["ocerra.acumatica.%s" % role]["entry_points"]) == entries


def test_every_secret_option_is_no_log_and_no_other_is():
    for role in ROLES:
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        for entry, spec in specs["argument_specs"].items():
            for option, rules in walk(spec.get("options")):
                secret = option.rsplit(".", 1)[-1] in SECRETS
                assert bool(rules.get("no_log")) == secret, (role, entry, option)
