# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""What an inventory's YAML files say, read without Ansible: which file and line defines each
variable of each host or group (so that site_schema's errors name them), and the problems of
the files themselves: YAML syntax, keys written twice, files too large or too deep to load,
secrets written as plain text instead of `!vault` or `{{ ... }}`.
"""

from __future__ import annotations

import os

import yaml

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_schema import (
    SiteError, Source, display_path, is_secret, load_schema, pointer)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.site_values import PREFIXES, references

_VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
_INVENTORY_EXTENSIONS = (".yml", ".yaml", ".json")
_IGNORED = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry")


class _VarsBlock:
    """The variables one file gives one inventory name (host or group)."""

    def __init__(self, path, kind, owner, origin, node, vaulted=False):
        self.path, self.kind, self.owner, self.origin = path, kind, owner, origin
        self.node, self.vaulted = node, vaulted  # node: the YAML mapping node (None if opaque)

    def keys(self):
        return [_key(k) for k, _value in self.node.value] if _is_mapping(self.node) else []

    def lines(self, var):
        lines = {}
        if _is_mapping(self.node):
            for k, v in self.node.value:
                if _key(k) == var:
                    _record_lines(v, "/" + var, lines)
                    lines["/" + var] = k.start_mark.line + 1
        return lines


# libyaml's parser when PyYAML has it (~10x faster over hundreds of files); the same node tree.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What a vars or inventory file may hold before any node is built: YAML bombs (aliases that
# expand to billions of nodes) hang a loader, and very deep nesting exhausts its stack.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000


def yaml_guard(text):
    """Why `text` must not be loaded as YAML (None if it may be): too large, nested too deep,
    or aliases that expand beyond MAX_NODES. Reads the event stream only (libyaml's parser
    keeps its own stack, so depth cannot crash it), counting each anchored node's expanded
    size, in a bounded time."""
    if len(text) > MAX_FILE_BYTES:
        return "the file is larger than %d MB" % (MAX_FILE_BYTES // (1024 * 1024))
    sizes, frames, total = {}, [[None, 0]], 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            frames.append([event.anchor, 1])
            if len(frames) - 1 > MAX_DEPTH:
                return "nesting deeper than %d levels" % MAX_DEPTH
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = frames.pop()
            if anchor:
                sizes[anchor] = size
            grown = size
        elif isinstance(event, yaml.ScalarEvent):
            grown = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            grown = sizes.get(event.anchor, 1)
        else:
            continue
        frames[-1][1] += grown
        total += grown
        if total > MAX_NODES or frames[-1][1] > MAX_NODES:
            return "more than %d values once its aliases (*name) are expanded: a YAML bomb?" % MAX_NODES
    return None


def _duplicate_keys(node, path=(), depth=0):
    """(path, key, line) of every key written twice in one mapping (Ansible keeps the last one
    silently, or warns quoting the line: with its value)."""
    found = []
    if isinstance(node, yaml.MappingNode) and depth <= MAX_DEPTH:
        seen = set()
        for key, value in node.value:
            name = _key(key)
            if name in seen and name != "<<":
                found.append((path, name, key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, path + (name,), depth + 1)
    elif isinstance(node, yaml.SequenceNode) and depth <= MAX_DEPTH:
        for i, value in enumerate(node.value):
            found += _duplicate_keys(value, path + (i,), depth + 1)
    return found


def _is_mapping(node):
    return isinstance(node, yaml.MappingNode)


def _key(node):
    # Keys are scalars in any sane vars file; a complex key is kept as text, never crashes us.
    return node.value if isinstance(node, yaml.ScalarNode) else str(node.start_mark)


def _record_lines(node, ptr, lines):
    lines[ptr] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _record_lines(v, ptr + pointer([_key(k)]), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _record_lines(v, "%s/%d" % (ptr, i), lines)


def _walk(node, path):
    """(path, node) for every node under a vars mapping."""
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield from _walk(v, path + (_key(k),))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _walk(v, path + (i,))


class InventoryScan:
    """What an inventory's YAML files say, read without Ansible: which file defines which
    variable for which host or group (and on which line), group depths, and the errors found
    in the files themselves (YAML syntax, secrets written as plain text)."""

    def __init__(self, path, decrypt_text=None):
        self.path = path
        self.blocks = []
        self.depth = {"all": 0}
        self.errors = []
        self._decrypt_text = decrypt_text
        basedir = path if os.path.isdir(path) else os.path.dirname(path) or "."
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                                 not (root == path and d in ("group_vars", "host_vars")))
                for name in sorted(files):
                    if name.endswith(_INVENTORY_EXTENSIONS) and not name.startswith("."):
                        self._scan_inventory_file(os.path.join(root, name))
        elif path.endswith(_INVENTORY_EXTENSIONS):
            self._scan_inventory_file(path)
        for kind, folder in (("group", "group_vars"), ("host", "host_vars")):
            self._scan_vars_dir(kind, os.path.join(basedir, folder))
        self.errors += self._plaintext_errors()

    @property
    def syntax_ok(self):
        return not any(e.host is None for e in self.errors)

    def _load(self, path):
        """The file's YAML node tree, None for an empty file; records syntax errors."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            vaulted = text.lstrip().startswith("$ANSIBLE_VAULT;")
            if vaulted:
                if self._decrypt_text is None:
                    return None, True
                text = self._decrypt_text(text)
            refused = yaml_guard(text)
            if refused:
                self.errors.append(SiteError(None, None, "refused before loading it: %s" % refused,
                                             display_path(path)))
                return None, vaulted
            node = yaml.compose(text, Loader=_LOADER)
            for where, key, line in _duplicate_keys(node):
                self.errors.append(SiteError(
                    None, pointer(list(where) + [key]), "the key '%s' is written twice: Ansible would use the "
                    "last one (and may print the line); keep one" % key, display_path(path), line))
            return node, vaulted
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = " ".join(p for p in (exc.context, exc.problem) if p)
            self.errors.append(SiteError(None, None, "YAML syntax error: %s" % problem,
                                         display_path(path), mark.line + 1 if mark else None))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            self.errors.append(SiteError(None, None, "cannot read: %s" % exc, display_path(path)))
        except Exception:  # a vault secret that does not fit: the file stays opaque
            return None, True
        return None, False

    def _scan_inventory_file(self, path):
        node, vaulted = self._load(path)
        if not _is_mapping(node):
            return
        shown = display_path(path)

        def group(name, gnode, depth):
            self.depth[name] = max(self.depth.get(name, depth), depth)
            if not _is_mapping(gnode):
                return
            for key, value in gnode.value:
                if key.value == "vars":
                    self.blocks.append(_VarsBlock(shown, "group", name, "inventory", value, vaulted))
                elif key.value == "hosts" and _is_mapping(value):
                    for hkey, hvalue in value.value:
                        self.blocks.append(_VarsBlock(shown, "host", str(hkey.value), "inventory",
                                                      hvalue, vaulted))
                elif key.value == "children" and _is_mapping(value):
                    for ckey, cvalue in value.value:
                        group(str(ckey.value), cvalue, depth + 1)

        for key, value in node.value:
            group(str(key.value), value, 0 if key.value == "all" else 1)

    def _scan_vars_dir(self, kind, folder):
        if not os.path.isdir(folder):
            return
        for entry in sorted(os.listdir(folder)):
            full = os.path.join(folder, entry)
            if entry.startswith("."):
                continue
            if os.path.isdir(full):
                files = sorted(os.path.join(r, f) for r, _dirs, fs in os.walk(full) for f in fs
                               if not f.startswith(".") and os.path.splitext(f)[1] in _VARS_EXTENSIONS
                               and not f.endswith(_IGNORED))
                owner = entry
            else:
                owner, ext = os.path.splitext(entry)
                if ext not in _VARS_EXTENSIONS or entry.endswith(_IGNORED):
                    continue
                files = [full]
            for file in files:
                node, vaulted = self._load(file)
                self.blocks.append(_VarsBlock(display_path(file), kind, owner, "dir", node, vaulted))

    def _plaintext_errors(self):
        schema = load_schema()
        # Secrets are the schema's secret paths and every variable a secret refers to by
        # `{{ name }}`: a literal behind one level of indirection is still a literal.
        secret_names, errors = set(), []
        for _attempt in range(5):
            before = len(secret_names)
            for block in self.blocks:
                for path, node in _walk(block.node, ()) if _is_mapping(block.node) else ():
                    if path and (is_secret(path, schema) or path[0] in secret_names) \
                            and isinstance(node, yaml.ScalarNode):
                        secret_names.update(references(node.value) or ())
            if len(secret_names) == before:
                break
        for block in self.blocks:
            if block.vaulted or not _is_mapping(block.node):
                continue
            for path, node in _walk(block.node, ()):
                if not path or not isinstance(path[0], str):
                    continue
                prefixed = path[0].startswith(PREFIXES)
                if not ((prefixed and is_secret(path, schema)) or (len(path) == 1 and path[0] in secret_names)):
                    continue
                if isinstance(node, yaml.ScalarNode) and node.tag != "!vault" \
                        and node.tag != "tag:yaml.org,2002:null" and not _whole_template(node.value):
                    errors.append(SiteError(
                        block.owner, pointer(path),
                        "secret written as plain text in a committed file: encrypt it with "
                        "'ansible-vault encrypt_string' (a !vault value) or take it from a "
                        "lookup or variable ('{{ ... }}')",
                        block.path, node.start_mark.line + 1))
        return errors

    def sources_for(self, host, group_names):
        """{variable: Source} following Ansible's precedence: inventory-file group vars (all,
        then groups by depth and name), group_vars/ (same order), then the host's own."""
        groups = sorted((g for g in group_names if g != "all"), key=lambda g: (self.depth.get(g, 1), g))
        order = [("group", g, origin) for origin in ("inventory", "dir") for g in ["all"] + groups]
        order += [("host", host, "inventory"), ("host", host, "dir")]
        rank = {key: i for i, key in enumerate(order)}
        sources = {}
        blocks = [b for b in self.blocks if (b.kind, b.owner, b.origin) in rank]
        for block in sorted(blocks, key=lambda b: rank[(b.kind, b.owner, b.origin)]):
            for var in block.keys():
                sources[var] = Source(block.path, block.lines(var))
        return sources


def _whole_template(text):
    text = text.strip() if isinstance(text, str) else ""
    return text.startswith("{{") and text.endswith("}}")
