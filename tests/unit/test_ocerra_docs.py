"""The Ocerra modules' argument specs: secrets marked no_log, documentation that matches."""
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["ocerra_connection", "ocerra_connection_info"]
SECRET_NAME = re.compile(r"pass|secret|token|key|cookie|credential", re.I)


def argument_spec(name):
    module = importlib.import_module(f"ansible_collections.ocerra.acumatica.plugins.modules.{name}")
    seen = {}

    def capture(self, argument_spec, **kw):
        seen.update(argument_spec)
        raise SystemExit(0)

    with mock.patch.object(basic.AnsibleModule, "__init__", capture), pytest.raises(SystemExit):
        module.main()
    return seen


@pytest.mark.parametrize("name", MODULES)
def test_every_secret_looking_option_says_no_log_explicitly(name):
    for option, spec in argument_spec(name).items():
        if SECRET_NAME.search(option):
            assert "no_log" in spec, f"{name}.{option} must set no_log explicitly"
            secret = spec["type"] == "str" and not option.endswith("_path")
            assert spec["no_log"] is secret, f"{name}.{option}: no_log should be {secret}"


@pytest.fixture(scope="module")
def docs():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([Path(sys.executable).parent / "ansible-doc", "--json",
                           *(f"ocerra.acumatica.{m}" for m in MODULES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper(), done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_documents_exactly_the_argument_spec(docs, name):
    doc = docs[f"ocerra.acumatica.{name}"]
    documented = doc["doc"]["options"]
    spec = argument_spec(name)
    assert set(documented) == set(spec)
    for option, rules in spec.items():
        assert documented[option]["type"] == rules.get("type", "str"), option
        assert documented[option].get("default") == rules.get("default"), option
        assert documented[option].get("choices") == rules.get("choices"), option
        assert bool(documented[option].get("required")) == bool(rules.get("required")), option
    assert doc["examples"].strip() and doc["return"]
