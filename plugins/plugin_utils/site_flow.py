"""One site's flow, in one place: provision, restore, report and publish.

A flow runs in one ERP admin session and one Ocerra client, calls the engines of
module_utils directly, and records every step in a Record before it takes it: which step,
whether it finished, and what it read and wrote of the API user and of each entity. The
site's outcome (site_outcome.py) is built from that Record, never inferred afterwards.

The password change follows the safe order (design: Safe change): every entity switched off,
the ERP password reset, the password pushed to every entity, switched back on, verified.
When a run stops before the ERP password changed (or the ERP refused the reset), the
entities this run switched off are switched back on; when it may have changed, they stay
off (they cannot lock the API user out) and the next run finishes the change.
"""
from contextlib import contextmanager

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as user_engine
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import close_all
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import CONNECTED, OcerraClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import (
    ensure_connection, find_connections, plan, public)
from ansible_collections.ocerra.acumatica.plugins.module_utils.secrets import Secrets

# Error kinds of the reset step that prove the ERP password was not reset (refused before or
# at the reset action), so the entities switched off for it may be switched back on.
PASSWORD_UNCHANGED_KINDS = {
    "password_rejected", "invalid_credentials", "sign_in_refused", "unknown_tenant", "login_limit",
    "insufficient_rights", "account_disabled", "endpoint_not_published", "licence_unavailable",
    "role_not_allowed", "missing_option", "password_policy", "customization_failed",
}
MODES = ("provision", "restore", "report", "publish")


class Step:
    """One step of a flow: started, then done or failed (with the error)."""

    def __init__(self, name):
        self.name, self.status, self.error = name, "started", None

    @property
    def error_kind(self):
        return getattr(self.error, "kind", None)


class StepFailed(Exception):
    def __init__(self, step):
        super().__init__(step.name)
        self.step = step


class EntityRun:
    """One Ocerra entity through a run: as the inventory names it, as read, what was done."""

    def __init__(self, entity, declared=True):
        self.entity = entity
        self.declared = declared
        self.key = str(entity.get("client_id") or entity.get("name") or "?")
        self.client_id = entity.get("client_id")
        self.client_name = entity.get("name")
        self.read = None            # the settings as first read (no password)
        self.connection = None      # the latest settings read or written (no password)
        self.changed = self.password_pushed = self.switched_off = self.needs_work = False
        self.error = None           # the message of this entity's last failed step

    def seen(self, connection):
        if connection:
            self.read = self.read or connection
            self.connection = connection
            self.client_id = connection.get("client_id") or self.client_id
            self.client_name = connection.get("client_name") or self.client_name

    @property
    def connected(self):
        c = self.connection or {}
        return bool(c.get("enabled")) and (c.get("status") or {}).get("code") == CONNECTED


class ErpRun:
    """What the flow read and did to the API user."""

    def __init__(self):
        self.read = None            # the user as first read (restore, report), no secret
        self.user = None            # the latest view of the user, no secret
        self.changed = self.password_updated = self.password_change_pending = False
        self.password_unchanged = None   # the reset step failed: True = provably not reset
        self.actions = []

    def add(self, result):
        self.changed = self.changed or result["changed"]
        self.password_updated = self.password_updated or result["password_updated"]
        self.password_change_pending = self.password_change_pending or result["password_change_pending"]
        self.actions += result["actions"]
        self.user = result["user"]


class Record:
    """Everything a run of one site's flow recorded; site_outcome.py reads only this."""

    def __init__(self, mode, check_mode, site):
        self.mode, self.check_mode, self.site = mode, check_mode, site
        self.steps = []
        self.erp = ErpRun()
        self.entities = {}
        self.connections = None     # restore / report: the entities using this site and login
        self.endpoint = None        # publish: ensure_published's answer
        self.still_off = []         # entities a roll-back could not switch back on
        self.diffs = []
        self.warnings = []

    @property
    def failed_step(self):
        return next((s for s in self.steps if s.status == "failed" and s.name != "rollback"), None)

    def step(self, name):
        return next((s for s in self.steps if s.name == name), None)

    def add_entity(self, entity, declared=True):
        run = EntityRun(entity, declared)
        return self.entities.setdefault(run.key, run)


class SiteFlow:
    def __init__(self, site, mode, *, check_mode=False, timeout=30, retry_timeout=60):
        if mode not in MODES:
            raise ValueError(f"unknown flow {mode!r}")
        self.site, self.mode, self.check = site, mode, check_mode
        self.record = Record(mode, check_mode, site)
        self.secrets = Secrets(*site.secrets())
        self.secrets.add(site.ocerra.get("password"), basic_user=site.ocerra.get("username"))
        # publish_endpoint.yml only checks a site where publishing is not allowed.
        erp_check = check_mode or (mode == "publish" and not site.publish_allowed)
        self.erp = AcumaticaClient(
            site.erp["url"], site.erp["tenant"], site.erp["user"], site.erp["password"],
            branch=site.erp.get("branch"), validate_certs=site.erp.get("validate_certs", True),
            ca_path=site.erp.get("ca_path"), timeout=timeout, retry_timeout=retry_timeout,
            check_mode=erp_check, warn=self.warn)
        self.ocerra = None
        if mode in ("provision", "restore", "report"):
            self.ocerra = OcerraClient(
                site.ocerra["url"], site.ocerra["username"], site.ocerra["password"],
                validate_certs=site.ocerra.get("validate_certs", True), ca_path=site.ocerra.get("ca_path"),
                timeout=timeout, retry_timeout=retry_timeout, check_mode=check_mode, warn=self.warn)

    def warn(self, message):
        message = self.secrets.scrub(message)
        if message not in self.record.warnings:
            self.record.warnings.append(message)

    # ---- running ---------------------------------------------------------------------------

    def run(self):
        """Run the flow; the Record, whatever happened. Sessions are closed by close()."""
        try:
            getattr(self, "_" + self.mode)()
        except StepFailed:
            pass
        return self.record

    def close(self):
        """Sign out and close both clients; a failure only warns."""
        for warning in close_all([c for c in (self.erp, self.ocerra) if c is not None]):
            self.warn(warning)

    @contextmanager
    def _step(self, name):
        step = Step(name)
        self.record.steps.append(step)
        try:
            yield step
        except ToolkitError as exc:
            self._fail(step, exc)
        step.status = "done"

    def _fail(self, step, error):
        error.message = self.secrets.scrub(error.message)
        step.status, step.error = "failed", error
        raise StepFailed(step) from None

    def _each(self, step, runs, act):
        """act(run) for every entity; the step fails after all were tried if any failed."""
        failed = []
        for run in runs:
            try:
                act(run)
                run.error = None
            except ToolkitError as exc:
                run.error = _first_line(self.secrets.scrub(exc.message))
                run.seen(exc.details.get("connection"))
                run.changed = run.changed or bool(exc.details.get("changed"))
                run.password_pushed = run.password_pushed or bool(exc.details.get("password_pushed"))
                failed.append(run)
        if failed:
            self._fail(step, ToolkitError("; ".join(f"{r.key}: {r.error}" for r in failed)))

    # ---- the ERP side ----------------------------------------------------------------------

    def _ensure_user(self, **overrides):
        """One erp_user run in the flow's admin session: read (publishing a missing endpoint
        when allowed), decide the password step, plan, write what differs (not in check mode)."""
        params = dict(self.site.user, **overrides)
        record, endpoint_actions = user_engine.read(self.erp, params, self.check)
        desired = user_engine.desired_of(params)
        before = user_engine.view(record)
        step, locked, pending = user_engine.password_step(self.erp, params, before, desired)
        plan = user_engine.plan_present(record, desired, mode=params["roles_mode"], password_step=step,
                                        locked=locked, site=self.erp.site, login=params["login"])
        if plan.create:
            user_engine.require_for_create(params, self.erp.site)
        if self.check or not (plan.updated or plan.password):
            final = {k: v for k, v in plan.after.items() if k != "password"}
        else:
            final = user_engine.apply(self.erp, plan, params["login"], params["password"])
        result = user_engine.result(plan, endpoint_actions, final, pending)
        self.record.erp.add(result)
        self._diff(result["diff"])

    def _read_user(self):
        self.record.erp.read = self.record.erp.user = user_engine.view(self.erp.get_user(self.site.login))

    # ---- the Ocerra side -------------------------------------------------------------------

    def _client_id(self, run):
        if not run.client_id:
            run.client_id = self.ocerra.find_client(run.entity["name"])["client_id"]
        return run.client_id

    def _ensure_entity(self, run, desired, password=None):
        result = ensure_connection(self.ocerra, self._client_id(run), desired, password=password,
                                   push_password=password is not None, verify=True, check_mode=self.check,
                                   warn=self.warn)
        run.seen(result["connection"])
        run.changed = run.changed or result["changed"]
        run.password_pushed = run.password_pushed or result["password_pushed"]
        self._diff(result["diff"])
        return result

    def _read_entity(self, run):
        """One GET (no write, no test) that says whether the entity needs the password: a
        setting or Enable Connection differs, Ocerra has none, or it is not Connected."""
        current = self.ocerra.get_settings(self._client_id(run))
        run.seen(public(current))
        changes = plan(current, self.site.entity_desired(run.entity), self.site.user.get("password"))
        run.needs_work = bool(changes) or not run.connected

    def _switch_off(self, run):
        result = self._ensure_entity(run, self.site.entity_desired(run.entity, enabled=False))
        run.switched_off = run.switched_off or result["changed"]

    def _connect(self, run):
        self._ensure_entity(run, self.site.entity_desired(run.entity), password=self.site.user["password"])

    def _switch_back_on(self, run):
        self._ensure_entity(run, {"erp_url": None, "tenant": None, "branch": None, "login": None,
                                  "enabled": True})

    def _find_connections(self):
        wanted = {"erp_url": self.site.url, "tenant": self.site.tenant, "login": self.site.login}
        connections, _ = find_connections(self.ocerra, wanted, self.warn)
        self.record.connections = connections
        return connections

    def _diff(self, diff):
        if diff and (diff.get("before") or diff.get("after")):
            self.record.diffs.append(diff)

    # ---- the flows -------------------------------------------------------------------------

    def _provision(self):
        erp = self.record.erp
        with self._step("erp"):
            self._ensure_user(defer_password_change=True)
        runs = [self.record.add_entity(e) for e in self.site.entities]
        if not (erp.password_updated or erp.password_change_pending):
            with self._step("read_entities") as step:
                self._each(step, runs, self._read_entity)
        if erp.password_change_pending:
            self._safe_order(runs)
        else:
            targets = runs if erp.password_updated else [r for r in runs if r.needs_work]
            if targets:
                with self._step("connect") as step:
                    self._each(step, targets, self._connect)

    def _restore(self):
        self._read_site()
        self._safe_order(list(self.record.entities.values()))

    def _report(self):
        self._read_site()

    def _read_site(self):
        """The API user and every entity that signs in to this site with its login (listed or
        not), read only."""
        with self._step("read_user"):
            self._read_user()
        with self._step("find_entities"):
            connections = self._find_connections()
        for entity in self.site.entities:
            self.record.add_entity(entity)
        for connection in connections:
            run = self._declared(connection) or self.record.add_entity(
                {"client_id": connection["client_id"]}, declared=False)
            run.seen(connection)

    def _publish(self):
        with self._step("publish"):
            self.record.endpoint = dict(endpoint.ensure_published(self.erp, self.erp.seam.check_mode),
                                        endpoint=f"{endpoint.ENDPOINT}/{endpoint.VERSION}")

    def _declared(self, connection):
        """The inventory's entity this connection is, by client id or by name."""
        for run in self.record.entities.values():
            if run.declared and (
                    (run.entity.get("client_id") and str(run.entity["client_id"]).lower()
                     == str(connection.get("client_id")).lower())
                    or (run.entity.get("name") and str(run.entity["name"]).casefold()
                        == str(connection.get("client_name") or "").casefold())):
                return run
        return None

    def _safe_order(self, runs):
        """Every entity off, the ERP password reset, pushed to every entity and switched on."""
        try:
            with self._step("entities_off") as step:
                self._each(step, runs, self._switch_off)
            with self._step("erp_password") as step:
                self._ensure_user(update_password="always")
        except StepFailed as stop:
            if stop.step.name == "entities_off" or stop.step.error_kind in PASSWORD_UNCHANGED_KINDS:
                self.record.erp.password_unchanged = True
                self._roll_back(runs)
            raise
        with self._step("entities_on") as step:
            self._each(step, runs, self._connect)

    def _roll_back(self, runs):
        """Switch back on the entities this run switched off (the ERP password is unchanged,
        so the password Ocerra holds still works). Failures stay in the Record."""
        switched = [r for r in runs if r.switched_off]
        if not switched:
            return
        try:
            with self._step("rollback") as step:
                self._each(step, switched, self._switch_back_on)
        except StepFailed:
            self.record.still_off = [r.key for r in switched if r.error]


def _first_line(text, limit=400):
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
