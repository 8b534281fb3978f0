"""The Ocerra entities' part of a site's flow: every entity of the inventory, and every other
one that uses the site's ERP URL, tenant and API user login (from the run's one listing,
discovery.py), read; each brought to its desired settings through the connection engine
(ocerra/connection.py); switched off before a password change, and given the password and
switched on after it, once one more failed sign-in could not lock the API user out.
"""
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import CONNECTED
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import (
    ConnectionFailed, ensure_connection, plan, public)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import discovery
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import REPORT, UnlistedEntities, when

# Connection statuses that mean the entity's password is wrong (or locked out): such an
# entity is switched off again, never left enabled to fail its next sync.
PASSWORD_STATUSES = {"InvalidCredentials", "AccountLocked", "PasswordChangeRequired"}
# Settings that stay as they are when only Enable Connection is switched.
ONLY_ENABLED = {"erp_url": None, "tenant": None, "branch": None, "login": None}


class FlowEntities:
    def __init__(self, flow):
        self.flow = flow

    @property
    def runs(self):
        return list(self.flow.record.entities.values())

    def read_all(self, step, listing=None):
        """Every entity of the inventory, and every other one that uses this site, tenant and
        login, from the run's one listing of the service user's entities (given when made
        ahead); an inventory's entity the listing does not have is read on its own."""
        flow = self.flow
        site, record, ocerra = flow.site, flow.record, flow.ocerra
        listing = listing or discovery.listing(ocerra, flow.warn)
        if ocerra.selection == "auto" and listing.selection == "query_param":
            ocerra.selection = "query_param"   # proved by the listing: entities may go at once
        declared = [record.add_entity(e) for e in site.entities]
        for run in declared:
            run.seen(listing.client(run.entity["client_id"]) if run.entity.get("client_id")
                     else listing.named(run.entity["name"]))
        flow.each(step, [r for r in declared if r.connection is None], self._read_one)
        found = listing.using(site.url, site.tenant, site.login)
        record.connections = found
        unlisted = []
        for connection in found:
            if self._declared(connection) is None:
                run = record.add_entity({"client_id": connection["client_id"]}, declared=False)
                run.seen(connection)
                unlisted.append(run)
        if unlisted and site.unlisted == "fail" and flow.mode != REPORT:
            raise UnlistedEntities(
                "Ocerra entities that use this site and login are not in ocerra_entities: "
                f"{', '.join(f'{r.client_name} ({r.client_id})' for r in unlisted)}. A password change would "
                "break them, and ocerra_unlisted_entities is fail, so nothing was changed: add them to "
                "ocerra_entities (or set ocerra_unlisted_entities: include).")

    def _read_one(self, run):
        """One GET of an entity of the inventory the run's listing did not have (another
        service user's, or one that does not exist: the read says which)."""
        run.seen(public(self.flow.ocerra.get_settings(self._client_id(run))))

    def reread(self, run):
        """The entity read again after a change: enabled and Connected, else ConnectionFailed."""
        self._read_one(run)
        if not run.connected:
            status = (run.connection.get("status") or {}).get("code")
            raise ConnectionFailed(f"read again after the change, it is {status}"
                                   f"{'' if run.connection.get('enabled') else ' and switched off'}.",
                                   connection_status=status)

    def _declared(self, connection):
        """The inventory's entity this connection is, by client id or by name."""
        for run in self.runs:
            if run.declared and (
                    (run.entity.get("client_id") and str(run.entity["client_id"]).lower()
                     == str(connection.get("client_id")).lower())
                    or (run.entity.get("name") and str(run.entity["name"]).casefold()
                        == str(connection.get("client_name") or "").casefold())):
                return run
        return None

    def _client_id(self, run):
        if not run.client_id:
            run.client_id = self.flow.ocerra.find_client(run.entity["name"])["client_id"]
        return run.client_id

    def desired(self, run, enabled=True):
        site = self.flow.site
        if run.declared:
            return site.entity_desired(run.entity, enabled)
        # An entity found by discovery keeps its own branch.
        return dict(site.entity_desired({}, enabled), branch=None)

    def ensure(self, run, desired, password=None, passing=False):
        """The entity made to match `desired`; `passing`: a step of the safe order (switched off
        before the ERP's password changes), which a plan does not count as a change of its own."""
        flow = self.flow
        result = ensure_connection(flow.ocerra, self._client_id(run), desired, password=password,
                                   push_password=password is not None, verify=True, check_mode=flow.check,
                                   warn=flow.warn)
        run.seen(result["connection"])
        run.changed = run.changed or result["changed"]
        run.password_pushed = run.password_pushed or result["password_pushed"]
        flow.diff(result["diff"], "entity %s" % (run.client_name or run.key), passing)
        return result

    def needs_work(self, run):
        """The entity needs the password: a setting or Enable Connection differs, Ocerra has
        none, it is not Connected, or its last successful test predates the ERP's last
        password change (its status is stale: it holds an older password)."""
        current = dict(run.connection or {})
        current.setdefault("has_password", False)
        changes = plan(current, self.desired(run), self.flow.site.user.get("password"))
        return bool(changes) or not run.connected or self._stale(run)

    def _stale(self, run):
        checked = when((run.connection or {}).get("status", {}).get("checked"))
        changed = when((self.flow.record.erp.user or {}).get("last_password_change"))
        return bool(checked and changed and checked < changed)

    def worked_when_read(self, run):
        """As this run first read it, the entity was enabled and Connected by a test made after
        the ERP's last password change: the password it holds works."""
        read = run.read or {}
        checked = when((read.get("status") or {}).get("checked"))
        changed = when((self.flow.record.erp.user or {}).get("last_password_change"))
        return (bool(read.get("enabled")) and (read.get("status") or {}).get("code") == CONNECTED
                and checked is not None and (changed is None or checked >= changed))

    def switch_off(self, run):
        self.flow.alive()
        try:
            result = self.ensure(run, self.desired(run, enabled=False), passing=True)
        except ToolkitError as exc:
            # A save that was sent may have been applied although its answer was lost: as read back,
            # and as if it had been when nothing could be read (the roll-back then switches it on).
            if exc.details.get("changed"):
                after = exc.details.get("connection")
                run.switched_off = run.switched_off or after is None or not after.get("enabled")
            raise
        run.switched_off = run.switched_off or result["changed"]

    def connect(self, run):
        """Give one entity the site's password and switch it on, once one more failed sign-in
        could not lock the API user out; switch it off again when its test shows a wrong
        password."""
        flow = self.flow
        flow.alive()
        if not flow.check:
            flow.user.guard(flow.user.read(), f"switching on entity {run.key}, whose connection test signs in")
        self._switched_on(run, self.desired(run), flow.site.user["password"])

    def switch_back_on(self, run):
        """Enable Connection on again with the password the entity holds (it still works)."""
        flow = self.flow
        flow.alive()
        flow.user.guard(flow.user.read(), f"switching entity {run.key} back on")
        self._switched_on(run, dict(ONLY_ENABLED, enabled=True))

    def _switched_on(self, run, desired, password=None):
        try:
            self.ensure(run, desired, password=password)
        except ConnectionFailed as exc:
            if exc.details.get("connection_status") in PASSWORD_STATUSES:
                self.ensure(run, dict(desired, enabled=False))
                if password is not None:
                    exc.message += " It was switched off again, so it does not fail its next sync."
            raise
