"""Every module: secrets marked no_log, and ansible-doc documents exactly the argument spec."""
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
ALL_MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
# Modules with a main(); a documentation-only module's action plugin holds its ARGUMENT_SPEC.
SPEC_MODULES = [m for m in ALL_MODULES
                if "\ndef main(" in (ROOT / "plugins" / "modules" / f"{m}.py").read_text(encoding="utf-8")]
ACTION_MODULES = [m for m in ALL_MODULES if m not in SPEC_MODULES]
SECRET_LOOKING = re.compile(r"pass|secret|token|key|cookie|credential", re.I)


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


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    return subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_every_module_is_checked():
    assert {"erp_endpoint", "erp_user", "erp_user_info", "ocerra_connection",
            "ocerra_connection_info"} <= set(SPEC_MODULES)
    assert set(ACTION_MODULES) == {"import_sites", "site", "site_report", "validate_sites"}


@pytest.mark.parametrize("name", SPEC_MODULES)
def test_secret_options_have_no_log_and_lookalikes_say_no_log_false(name):
    for option, rules in walk(argument_spec(name)):
        short = option.rsplit(".", 1)[-1]
        if not SECRET_LOOKING.search(short):
            continue
        assert "no_log" in rules, f"{name}: {option} looks secret; set no_log explicitly"
        # A free-form string named like a secret is one; a choice (update_password), a flag
        # (push_password) or a file path (*_path) only contains the word.
        secret = (rules.get("type", "str") == "str" and not rules.get("choices")
                  and not short.endswith("_path"))
        assert rules["no_log"] is secret, f"{name}: {option} should say no_log={secret}"


@pytest.fixture(scope="module")
def docs():
    done = ansible_doc("--json", *(f"ocerra.acumatica.{m}" for m in ALL_MODULES))
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper() and "ERROR" not in done.stderr, \
        done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ALL_MODULES)
def test_ansible_doc_documents_every_module(docs, name):
    doc = docs[f"ocerra.acumatica.{name}"]
    assert doc["doc"]["short_description"] and doc["examples"].strip() and doc["return"]


def same_options(documented, spec, where):
    assert set(documented) == set(spec), where
    for option, rules in spec.items():
        here = f"{where}.{option}"
        assert documented[option]["type"] == rules.get("type", "str"), here
        for key in ("default", "choices", "elements"):
            assert documented[option].get(key) == rules.get(key), (here, key)
        assert bool(documented[option].get("required")) == bool(rules.get("required")), here
        same_options(documented[option].get("suboptions") or {}, rules.get("options") or {}, here)


@pytest.mark.parametrize("name", SPEC_MODULES)
def test_ansible_doc_documents_exactly_the_argument_spec(docs, name):
    same_options(docs[f"ocerra.acumatica.{name}"]["doc"]["options"], argument_spec(name), name)


@pytest.mark.parametrize("name", ACTION_MODULES)
def test_ansible_doc_documents_exactly_the_actions_argument_spec(docs, name):
    action = importlib.import_module(f"ansible_collections.ocerra.acumatica.plugins.action.{name}")
    same_options(docs[f"ocerra.acumatica.{name}"]["doc"]["options"], action.ActionModule.ARGUMENT_SPEC, name)


def test_ansible_doc_plain_text_works():
    done = ansible_doc("ocerra.acumatica.erp_user")
    assert done.returncode == 0 and "update_password" in done.stdout and "admin_password" in done.stdout


def test_ansible_doc_documents_the_lookup():
    done = ansible_doc("-t", "lookup", "--json", "ocerra.acumatica.password")
    assert done.returncode == 0 and "WARNING" not in done.stderr.upper(), done.stderr
    doc = json.loads(done.stdout)["ocerra.acumatica.password"]
    assert set(doc["doc"]["options"]) == {"length", "alphabet", "min_length"} and doc["examples"].strip()


RETURN_KEYS = {"description", "returned", "type", "elements", "sample", "contains", "version_added"}


def return_fields(fields, where):
    for name, field in (fields or {}).items():
        yield f"{where}.{name}", field
        yield from return_fields(field.get("contains"), f"{where}.{name}")


@pytest.mark.parametrize("name", ALL_MODULES)
def test_return_docs_hold_only_known_keys(docs, name):
    """A colon or comma in an unquoted description turns the rest of the sentence into a key
    (a cut-off description); validate-modules in ./run lint says so too, this says it sooner."""
    for where, field in return_fields(docs[f"ocerra.acumatica.{name}"]["return"], name):
        assert set(field) <= RETURN_KEYS and field.get("description"), (where, set(field) - RETURN_KEYS)
