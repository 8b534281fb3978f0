"""plugins/ uses only ansible-core's public interfaces: no import of a private module or name,
no private attribute of anything but the action plugin's own documented members, no mock."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "plugins").rglob("*.py"))
# What ActionBase documents for action plugins (Developing plugins: action plugins).
ACTION_MEMBERS = {"_task", "_templar", "_VALID_ARGS", "_requires_connection", "_supports_check_mode"}
# What callback plugins are shown to use (Developing plugins: callback plugins): the callback's
# display, and a result's task and data (ansible-core before 2.19 has no public name for them).
CALLBACK_MEMBERS = {"_display", "_task", "_result"}


def private(name):
    return name.startswith("_") and not name.startswith("__")


def violations(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ansible":
            if any(private(part) for part in node.module.split(".")):
                found.append(f"{node.lineno}: from {node.module}")
            found += [f"{node.lineno}: import {a.name}" for a in node.names if private(a.name)]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ansible" and any(private(p) for p in alias.name.split(".")):
                    found.append(f"{node.lineno}: import {alias.name}")
                if alias.name.split(".")[0] == "unittest":
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if path.parent.name == "callback" and owner in ("self", "result") and node.attr in CALLBACK_MEMBERS:
                continue
            if owner not in ("self", "cls") or node.attr not in ACTION_MEMBERS | _own_members(tree):
                found.append(f"{node.lineno}: .{node.attr}")
    if "mock" in path.read_text(encoding="utf-8"):
        found.append("mentions mock")
    return found


def _own_members(tree):
    """Private names the file defines itself (methods and attributes of its own classes)."""
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names |= {t.attr for t in node.targets if isinstance(t, ast.Attribute)}
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_no_private_ansible_interface_in_plugins():
    bad = {str(p.relative_to(ROOT)): v for p in SOURCES if (v := violations(p))}
    assert not bad, bad


def test_the_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "action" / "x.py"
    sample.parent.mkdir()
    sample.write_text("from ansible.module_utils import _internal\nfrom ansible.module_utils.basic import _ANSIBLE_ARGS\n"
                      "import ansible._internal.x\nfrom unittest import mock\n"
                      "def f(module, self):\n    module._name\n    self._execute_module()\n    self._task.args\n")
    found = violations(sample)
    assert len(found) == 6, found   # self._task is ActionBase's documented member
