# -*- coding: utf-8 -*-
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Action for ocerra.acumatica.import_sites: a starting inventory from what Ocerra and the
ERPs already have (plugin_utils/adopt.py reads, plugin_utils/starting_inventory.py writes).

Reads only: the Ocerra service user's entities and, where admin credentials match, each
site's API user. Writes only a new folder (never an existing inventory); in check mode
nothing. Progress goes to the terminal as the sites are read.
"""
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.utils.display import Display
from ansible.vars.manager import VariableManager

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import OcerraClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import site_key
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import adopt, sign_ins, starting_inventory, store
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import default_state_dir

display = Display()

ADMIN = {"url": {"type": "str", "required": True}, "tenant": {"type": "str", "default": "*"},
         "user": {"type": "str", "required": True}, "password": {"type": "str", "required": True, "no_log": True},
         "validate_certs": {"type": "bool", "default": True}, "ca_path": {"type": "path"}}


class ActionModule(ControllerAction):
    NEEDS_HTTP = True
    ARGUMENT_SPEC = {
        "dest": {"type": "path", "required": True},
        "existing": {"type": "path"},
        "ocerra_url": {"type": "str", "required": True},
        "ocerra_username": {"type": "str", "required": True},
        "ocerra_password": {"type": "str", "required": True, "no_log": True},
        "ocerra_validate_certs": {"type": "bool", "default": True},
        "ocerra_ca_path": {"type": "path"},
        "erp_admins": {"type": "list", "elements": "dict", "default": [], "options": ADMIN},
        "password_store": {"type": "str"},
        "password_store_options": {"type": "dict"},
        "password_vault_id": {"type": "str"},
        "state_dir": {"type": "path"},
        "timeout": {"type": "int", "default": 30},
    }
    VARIABLES = {"state_dir": "toolkit_state_dir"}

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars or {})
        state_dir = args["state_dir"] or default_state_dir()
        ocerra = OcerraClient(args["ocerra_url"], args["ocerra_username"], args["ocerra_password"],
                              validate_certs=args["ocerra_validate_certs"], ca_path=args["ocerra_ca_path"],
                              timeout=args["timeout"], retry_timeout=args["timeout"], warn=display.warning,
                              guard=sign_ins.ocerra_user(state_dir, args["ocerra_url"], args["ocerra_username"]))
        try:
            # What would refuse the import at the end is refused before anything signs in.
            starting_inventory.check_dest(args["dest"])
            chosen_store = self._store(args)
            known = self._known(args["existing"]) if args["existing"] else {}
            sites, unusable, unreadable, differences = adopt.survey(
                ocerra, args["erp_admins"], known, progress=lambda text: display.display("import: " + text),
                state_dir=state_dir)
            files = starting_inventory.render(sites, unusable, unreadable, differences,
                                              {"url": args["ocerra_url"], "username": args["ocerra_username"]},
                                              args["erp_admins"], chosen_store)
            if not self._task.check_mode:
                starting_inventory.write(args["dest"], files)
        except (ToolkitError, starting_inventory.Refused, AnsibleError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            result.update(failed=True, msg=ocerra.secrets.scrub(message))
            return result
        finally:
            ocerra.close()
        result.update(
            changed=not self._task.check_mode, dest=args["dest"], files=sorted(files),
            sites={s.host: {"erp_url": s.url, "tenant": s.tenant, "login": s.login,
                            "entities": len(s.entities), "user_read": bool(s.user and s.user.get("exists")),
                            "flags": s.flags} for s in sites},
            differences=differences, left_out=len(unusable) + len(unreadable),
            lines=[f"{s.host}: {s.url}, tenant {s.tenant}, {len(s.entities)} entities"
                   + (f"; {len(s.flags)} flag(s)" if s.flags else "") for s in sites]
            + [f"existing inventory: {d}" for d in differences]
            + [f"{len(sites)} new site(s) written to {args['dest']}" if not self._task.check_mode
               else f"{len(sites)} new site(s) would be written to {args['dest']} (check mode)"])
        return result

    @staticmethod
    def _store(args):
        """The store variables every imported site gets, its plugin found and its options valid
        (StoreError otherwise); None without a store."""
        name = args["password_store"]
        if store.plugin_name(name) is None:
            return None
        options = args["password_store_options"] or {}
        checked = ArgumentSpecValidator(store.store_class(name).OPTIONS).validate(options)
        if checked.error_messages:
            raise store.StoreError(f"password_store_options of {store.plugin_name(name)}: "
                                   + "; ".join(checked.error_messages))
        chosen = {"api_user_password_store": name}
        if options:
            chosen["api_user_password_store_options"] = options
        if args["password_vault_id"]:
            chosen["api_user_password_vault_id"] = args["password_vault_id"]
        return chosen

    def _known(self, path):
        """Site key -> {host, login, client_ids, names} of an existing inventory's hosts (its
        own loader, without vault secrets: the values compared are not secret)."""
        loader = DataLoader()
        inventory = InventoryManager(loader, sources=[path])
        variables = VariableManager(loader, inventory)
        if not inventory.get_hosts():
            raise AnsibleError(f"no hosts found in the existing inventory {path}")
        known = {}
        for host in inventory.get_hosts():
            hostvars = variables.get_vars(host=host, include_hostvars=False)
            templar = self._templar.copy_with_new_env(available_variables=hostvars)
            try:
                url, tenant = (str(templar.template(hostvars.get(k))) for k in ("erp_url", "erp_tenant"))
                login = str(templar.template(hostvars.get("api_user_login", adopt.DEFAULT_LOGIN)))
            except AnsibleError as exc:
                raise AnsibleError(f"the existing inventory's host {host.name} cannot be read: {exc.message}") from exc
            entities = [e for e in hostvars.get("ocerra_entities") or [] if isinstance(e, dict)]
            known[site_key({"erp_url": url, "tenant": tenant, "login": ""})] = {
                "host": host.name, "login": login,
                "client_ids": {str(e.get("client_id")).casefold() for e in entities if e.get("client_id")},
                "names": {str(e.get("name")).strip().casefold() for e in entities if e.get("name")}}
        return known
