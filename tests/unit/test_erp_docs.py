"""Every module's argument spec masks its secrets; the ERP modules' docs match their specs."""
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
# Modules with a main(); a documentation-only module's action plugin has no argument spec here.
ALL_MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py")
                     if "\ndef main(" in p.read_text(encoding="utf-8"))
ERP_MODULES = ["erp_endpoint", "erp_user", "erp_user_info"]
SECRET_LOOKING = re.compile(r"pass|secret|token|cookie|credential|api_?key", re.I)
SECRET = re.compile(r"(^|_)(password|passwd|secret|token|api_?key)$", re.I)


def argument_spec(name):
    """The spec main() hands to AnsibleModule, captured before anything else runs."""
    module = importlib.import_module(f"ansible_collections.ocerra.acumatica.plugins.modules.{name}")
    seen = {}

    def capture(self, argument_spec, **kw):
        seen.update(argument_spec)
        raise SystemExit(0)

    with mock.patch.object(basic.AnsibleModule, "__init__", capture), pytest.raises(SystemExit):
        module.main()
    return seen


def walk(spec, prefix=""):
    for option, rules in spec.items():
        yield prefix + option, rules
        yield from walk(rules.get("options") or {}, f"{prefix}{option}.")


@pytest.mark.parametrize("name", ALL_MODULES)
def test_secret_options_have_no_log_and_lookalikes_say_no_log_false(name):
    for option, rules in walk(argument_spec(name)):
        short = option.rsplit(".", 1)[-1]
        # A free-form string named like a secret is one; a choice (update_password) is not.
        if SECRET.search(short) and rules.get("type", "str") == "str" and not rules.get("choices"):
            assert rules.get("no_log") is True, f"{name}: {option} is a secret without no_log=True"
        elif SECRET_LOOKING.search(short):
            assert "no_log" in rules, f"{name}: {option} looks secret; set no_log explicitly"


@pytest.fixture(scope="module")
def docs():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "--json",
                           *(f"ocerra.acumatica.{m}" for m in ERP_MODULES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper() and "ERROR" not in done.stderr, \
        done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ERP_MODULES)
def test_ansible_doc_documents_exactly_the_argument_spec(docs, name):
    doc = docs[f"ocerra.acumatica.{name}"]
    documented, spec = doc["doc"]["options"], argument_spec(name)
    assert set(documented) == set(spec)
    for option, rules in spec.items():
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("elements", None)):
            assert documented[option].get(key, default) == rules.get(key, default), (option, key)
        assert bool(documented[option].get("required")) == bool(rules.get("required")), option
    assert doc["examples"].strip() and doc["return"]


def test_ansible_doc_plain_text_works():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "ocerra.acumatica.erp_user"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "update_password" in done.stdout and "admin_password" in done.stdout
