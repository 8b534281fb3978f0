"""./run validate [INVENTORY ...]: check inventories offline against schemas/site.schema.json.

Exit 0 with one summary line per host when every site is valid; 1 with one line per error
(`file:line: host: /pointer: message`) otherwise; 2 when the command itself is misused.
Nothing here touches the network: Jinja lookups are not run, only `{{ name }}` references
are followed. Vaulted values are decrypted with the vault ids of ansible.cfg and those given
here; the ones nothing decrypts are reported once as present but unchecked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _parse(argv):
    parser = argparse.ArgumentParser(prog="./run validate", description=__doc__.split("\n")[0])
    parser.add_argument("inventories", nargs="*", metavar="INVENTORY",
                        help="inventory directory or file (default: the inventory in ansible.cfg); "
                             "each is validated on its own")
    parser.add_argument("--vault-id", action="append", default=[],
                        help="ID@FILE of a vault password, as for ansible-playbook (repeatable)")
    parser.add_argument("--vault-password-file", action="append", default=[],
                        help="a vault password file (repeatable)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[],
                        help="variables as ansible-playbook takes them (key=value, YAML/JSON or @FILE; "
                             "repeatable): what a run would get from AWX or CI besides the inventory")
    return parser.parse_args(argv)


def _vault(loader, args):
    """The vault secrets: ansible.cfg's (skipped with a note when unavailable, so the command
    works without them) and the command line's (an error when unavailable)."""
    from ansible import constants as C
    from ansible.cli import CLI
    from ansible.errors import AnsibleError

    secrets = []
    configured = [v for v in C.DEFAULT_VAULT_IDENTITY_LIST or [] if v]
    if configured or C.DEFAULT_VAULT_PASSWORD_FILE:
        try:
            secrets += CLI.setup_vault_secrets(loader, configured, [], ask_vault_pass=False,
                                               auto_prompt=False, initialize_context=False)
        except AnsibleError as exc:
            print("note: the vault password of ansible.cfg is unavailable (%s)" % exc.message,
                  file=sys.stderr)
    if args.vault_id or args.vault_password_file:
        secrets += CLI.setup_vault_secrets(loader, list(args.vault_id), list(args.vault_password_file),
                                           ask_vault_pass=False, auto_prompt=False,
                                           initialize_context=False)
    return secrets


def _extra_vars(values):
    """Hand the extra vars to Ansible's variable manager as ansible-playbook does; a file of
    them is checked like an inventory file first (a YAML bomb would hang Ansible's loader)."""
    from ansible import context
    from ansible.errors import AnsibleOptionsError
    from ansible.module_utils.common.collections import ImmutableDict
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inventory_scan import yaml_guard

    for value in values:
        if value.startswith("@"):
            try:
                with open(value[1:], encoding="utf-8") as f:
                    refused = yaml_guard(f.read())
            except (OSError, UnicodeDecodeError) as exc:
                raise AnsibleOptionsError("cannot read the extra vars file %s: %s" % (value[1:], exc)) from exc
            if refused:
                raise AnsibleOptionsError("the extra vars file %s is refused: %s" % (value[1:], refused))
    context.CLIARGS = ImmutableDict(extra_vars=tuple(values))


def _decrypters(secrets):
    """(decrypt a vaulted value, decrypt a vaulted file's text), cached: each try costs a KDF."""
    from ansible.module_utils.common.text.converters import to_text
    from ansible.parsing.vault import VaultHelper, VaultLib

    vault, cache = VaultLib(secrets), {}

    def decrypt_text(ciphertext):
        if ciphertext not in cache:
            try:
                cache[ciphertext] = to_text(vault.decrypt(ciphertext))
            except Exception as exc:  # wrong or missing secret: remember, do not retry
                cache[ciphertext] = exc
        if isinstance(cache[ciphertext], Exception):
            raise cache[ciphertext]
        return cache[ciphertext]

    def decrypt(value):
        ciphertext = VaultHelper.get_ciphertext(value, with_tags=False)
        if ciphertext is None:
            raise TypeError("not a vaulted value: %s" % type(value).__name__)
        return decrypt_text(ciphertext)

    return decrypt, (decrypt_text if secrets else None)


def _summary(v):
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_schema as sv
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_values as values
    entities = v.get("ocerra_entities")
    count = len(entities) if isinstance(entities, list) else "?"

    def shown(x):  # an Unchecked value renders as ?, a vaulted one (or an environment's) as such
        return "(%s)" % x.shown if isinstance(x, values.Vaulted) else x if isinstance(x, str) else "?"

    return "ok (%s, tenant %s, API user %s, %s entit%s)" % (
        shown(v.get("erp_url")), shown(v.get("erp_tenant")),
        shown(v.get("api_user_login", sv.DEFAULT_LOGIN)), count, "y" if count == 1 else "ies")


def validate_path(path, loader, decrypt, decrypt_text, secrets=()):
    """(errors, unchecked, warnings, summary lines) of one inventory."""
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inventory_scan import InventoryScan
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import store_errors
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_schema as sv
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_values as values
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.vars.manager import VariableManager

    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    if not os.path.exists(path):
        return [sv.SiteError(None, None, "no such inventory", shown)], [], [], []
    scan = InventoryScan(path, decrypt_text)
    if not scan.syntax_ok:  # Ansible would stop at the first broken file with a long trace
        return scan.errors, [], [], []
    try:
        inventory = InventoryManager(loader, sources=[path])
        variables = VariableManager(loader, inventory)
        hosts = {h.name: variables.get_vars(host=h, include_hostvars=False)
                 for h in inventory.get_hosts()}
    except AnsibleError as exc:
        first = str(exc.message).strip().splitlines()[0]
        return [sv.SiteError(None, None, "Ansible cannot load it: %s" % first, shown)], [], [], []
    if not hosts:
        return [sv.SiteError(None, None, "no hosts found in this inventory", shown)], [], [], []
    errors, unchecked, warnings = sv.validate_inventory(hosts, [scan], decrypt=decrypt,
                                                        extra_vars=variables.extra_vars)
    errors += store_errors(hosts, list(secrets))
    summary = []
    for name in sorted(hosts):
        raw = hosts[name]
        file = raw.get("inventory_file")
        where = os.path.relpath(file) if file else shown
        summary.append("%s: %s: %s" % (where, name, _summary(values.with_env_fallbacks(values.site_variables(raw, decrypt))[0])))
    return errors, unchecked, warnings, summary


def main(argv=None):
    args = _parse(argv)
    from ansible import constants as C
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(ROOT / "collections")])
    from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_values as values

    loader = DataLoader()
    try:
        secrets = _vault(loader, args)
        _extra_vars(args.extra_vars)
    except AnsibleError as exc:
        print("error: %s" % exc.message, file=sys.stderr)
        return 2
    decrypt, decrypt_text = _decrypters(secrets)

    all_errors, all_unchecked, all_warnings, summaries = [], [], [], []
    for path in args.inventories or list(C.DEFAULT_HOST_LIST):
        errors, unchecked, warnings, summary = validate_path(path, loader, decrypt, decrypt_text, secrets)
        all_errors += errors
        all_unchecked += unchecked
        all_warnings += warnings
        summaries += summary

    for line in map(str, all_errors) if all_errors else summaries:
        print(line)
    for warning in all_warnings:
        print("warning: %s" % warning, file=sys.stderr)
    vaulted = sum(1 for *_, reason in all_unchecked if reason == values.VAULT)
    templated = len(all_unchecked) - vaulted
    if vaulted:
        print("note: %d vaulted value(s) are present but unchecked: no vault password at hand "
              "decrypts them (use --vault-password-file or --vault-id to check them)" % vaulted,
              file=sys.stderr)
    if templated:
        print("note: %d value(s) are Jinja expressions evaluated only at run time; they are "
              "present but unchecked" % templated, file=sys.stderr)
    if all_errors:
        print("%d error(s)" % len(all_errors), file=sys.stderr)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
