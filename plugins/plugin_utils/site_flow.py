"""One site's flow, in one place: provision, restore, report and publish.

A flow runs in one ERP admin session and one Ocerra client, calls the engines of
module_utils directly, and records every step in a Record before it takes it (and, for a
real run, in the site's journal on the controller, journal.py). The site's outcome
(site_outcome.py) is built from that Record, never inferred afterwards.

The password change is the safe order (design: Safe change):
  1. the new password is in the inventory before either system is touched; the journal
     records the change as started; one change at a time per site (a lock on this machine,
     and the ERP's last password change read again before the ERP is written);
  2. every entity that uses the site's URL, tenant and login, listed or not, switched off;
  3. the ERP password reset, and a sign-in as the API user with it (verify before fan-out);
  4. the first entity given the password, switched on and its connection test read before
     the others; an entity whose test fails for its password is switched off again;
  5. the journal records the change as finished.
The toolkit never brings the API user to the lock-out threshold: before any sign-in as the
API user whose outcome is not known, and before switching on an entity that will test a
password, it reads the user's failed sign-in count and stops when one more failure could lock
the user out. When a run stops before the ERP password changed, the entities it switched off
whose password still works are switched back on; the others stay off (they cannot lock the
user out) and the next run finishes the change.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as user_engine
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import PROBE_OK, AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.errors import EndpointNotPublished
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import close_all
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import (
    CONNECTED, LISTING_WORKERS, OcerraClient)
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.connection import (
    ConnectionFailed, ensure_connection, plan, public)
from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import MIN_LENGTH, generate
from ansible_collections.ocerra.acumatica.plugins.module_utils.secrets import Secrets
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import discovery
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import Journal, LockBusy, SiteLock, site_folder
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import Passwords

MODES = ("provision", "restore", "report", "publish", "rotate")
PHASES = ("prepare", "apply")
# A password change made elsewhere this recently, that not every entity has yet, may still be
# going on (another machine's run): provision leaves the site to it.
IN_FLIGHT = timedelta(minutes=15)
# Connection statuses that mean the entity's password is wrong (or locked out): such an
# entity is switched off again, never left enabled to fail its next sync.
PASSWORD_STATUSES = {"InvalidCredentials", "AccountLocked", "PasswordChangeRequired"}


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (raised by the site action's handler)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class LockoutRisk(ToolkitError):
    kind = "lockout_guard"


class ConcurrentChange(ToolkitError):
    kind = "concurrent_change"


class ControllerGone(ToolkitError):
    kind = "controller_gone"


class UnlistedEntities(ToolkitError):
    kind = "unlisted_entities"


class Step:
    """One step of a flow: started, then done, failed (with the error) or interrupted."""

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
        self.changed = self.password_pushed = self.switched_off = False
        self.needs_work = False
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
        self.read = None            # the user as first read, no secret
        self.user = None            # the latest view of the user, no secret
        self.changed = self.password_updated = self.password_change_pending = False
        self.verified = False       # a sign-in as the API user with the site's password worked
        self.server_time = None     # the ERP's clock at the end of the run
        self.password_unchanged = None   # a change stopped: True = provably not reset
        self.actions = []

    def add(self, result):
        self.changed = self.changed or result["changed"]
        self.password_updated = self.password_updated or result["password_updated"]
        self.password_change_pending = self.password_change_pending or result["password_change_pending"]
        self.verified = self.verified or result["password_verified"]
        self.actions += result["actions"]
        self.user = result["user"]


class Record:
    """Everything a run of one site's flow recorded; site_outcome.py reads only this."""

    def __init__(self, mode, check_mode, site, phase="apply"):
        self.mode, self.check_mode, self.site, self.phase = mode, check_mode, site, phase
        self.steps = []
        self.erp = ErpRun()
        self.entities = {}
        self.connections = None     # restore / report: the entities using this site and login
        self.endpoint = None        # publish: ensure_published's answer
        self.still_off = []         # entities a roll-back left switched off, with why
        self.previous = None        # an unfinished change an earlier run left (journal)
        self.unfinished_runs = []   # earlier runs of this machine that never finished (journal)
        self.live_runs = []         # other runs of this machine on this site, going on now
        self.interrupted = None     # the signal that stopped the run
        self.rotation = None        # the password store's pending password: pending, finished, ...
        self.diffs = []
        self.warnings = []

    @property
    def failed_step(self):
        return next((s for s in self.steps if s.status in ("failed", "interrupted") and s.name != "rollback"),
                    None)

    def step(self, name):
        return next((s for s in self.steps if s.name == name), None)

    def add_entity(self, entity, declared=True):
        run = EntityRun(entity, declared)
        return self.entities.setdefault(run.key, run)


class SiteFlow:
    def __init__(self, site, mode, *, check_mode=False, state_dir=None, lock_wait=60, controller_pid=None,
                 timeout=30, retry_timeout=60, phase="apply", force=False):
        if mode not in MODES or phase not in PHASES:
            raise ValueError(f"unknown flow {mode!r} or phase {phase!r}")
        self.site, self.mode, self.check = site, mode, check_mode
        self.phase, self.force = phase, force
        self.stored = None          # what the site's password store held at the start
        self.record = Record(mode, check_mode, site, phase)
        self.secrets = Secrets(*site.secrets())
        self.secrets.add(site.ocerra.get("password"), basic_user=site.ocerra.get("username"))
        self.lock_wait, self.controller_pid = lock_wait, controller_pid
        self.journal = self.lock = None
        self.other_run_changing = False
        if state_dir and not check_mode and mode != "report":
            folder = site_folder(state_dir, site.url, site.tenant, site.login)
            self.journal = Journal(folder, {"url": site.url, "tenant": site.tenant, "login": site.login},
                                   flow=mode)
            self.lock = SiteLock(folder)
            # A run of this machine changing the site right now is not an earlier run's leftover.
            self.other_run_changing = self.lock.busy()
            self.record.live_runs = self.journal.live_runs
            if not self.other_run_changing:
                self.record.previous = self.journal.unfinished_change
                self.record.unfinished_runs = self.journal.unfinished_runs
        # publish_endpoint.yml only checks a site where publishing is not allowed.
        erp_check = check_mode or (mode == "publish" and not site.publish_allowed)
        self.erp = AcumaticaClient(
            site.erp["url"], site.erp["tenant"], site.erp["user"], site.erp["password"],
            branch=site.erp.get("branch"), validate_certs=site.erp.get("validate_certs", True),
            ca_path=site.erp.get("ca_path"), timeout=timeout,
            # An API Login Limit right after a killed run is its session: waiting a minute for it
            # helps nobody, the message says when it frees.
            retry_timeout=min(retry_timeout, 5) if _recent(self.record.unfinished_runs) else retry_timeout,
            check_mode=erp_check, warn=self.warn,
            # A site whose inventory names a licence type is MYOB: its edition maps licence types.
            myob=bool(site.user.get("licence_types")))
        self.ocerra = None
        if mode != "publish":
            self.ocerra = OcerraClient(
                site.ocerra["url"], site.ocerra["username"], site.ocerra["password"],
                validate_certs=site.ocerra.get("validate_certs", True), ca_path=site.ocerra.get("ca_path"),
                timeout=timeout, retry_timeout=retry_timeout, check_mode=check_mode, warn=self.warn)
        self.own_change = None      # the ERP's last password change this run made

    def warn(self, message):
        message = self.secrets.scrub(message)
        if message not in self.record.warnings:
            self.record.warnings.append(message)

    # ---- running ---------------------------------------------------------------------------

    def run(self):
        """Run the flow; the Record, whatever happened. Sessions are closed by close()."""
        if self.journal:
            self.journal.run_started()
        try:
            if self.mode in ("provision", "restore", "rotate") and self.site.store is not None:
                self._read_store()
            getattr(self, "_" + self.mode)()
        except StepFailed:
            pass
        self.record.erp.server_time = self.erp.seam.server_time
        return self.record

    def close(self, status=None):
        """Sign out and close both clients (a failure only warns), release the lock, and
        record in the journal how the run ended (a site found in order also ends a change an
        earlier run left unfinished)."""
        for warning in close_all([c for c in (self.erp, self.ocerra) if c is not None]):
            self.warn(warning)
        if self.lock:
            self.lock.release()
        if self.journal:
            if status in ("ok", "changed"):
                self.journal.change_finished("finished")
            interrupted = self.record.interrupted is not None
            self.journal.run_finished("interrupted" if interrupted else status or "stopped")

    @contextmanager
    def _step(self, name, writes=False):
        """A recorded step; `writes`: it changes a system, so the journal records it first
        and it is not taken when the controller has gone."""
        step = Step(name)
        self.record.steps.append(step)
        if writes and self.journal:
            self.journal.step(name, "started")
        try:
            if writes:
                self._alive()
                self.erp.settle()   # a probe's sign-out ends before anything signs in as the API user
            yield step
        except ToolkitError as exc:
            self._fail(step, exc)
        except Interrupted as signal:
            step.status = "interrupted"
            self.record.interrupted = signal.signum
            if self.journal:
                self.journal.step(name, "interrupted", signal=signal.signum)
            raise StepFailed(step) from None
        step.status = "done"
        if writes and self.journal:
            self.journal.step(name, "done")

    def _fail(self, step, error):
        error.message = self.secrets.scrub(error.message)
        step.status, step.error = "failed", error
        if self.journal:
            self.journal.step(step.name, "failed", kind=error.kind)
        raise StepFailed(step) from None

    def _each(self, step, runs, act, at_once=False):
        """act(run) for every entity; the step fails after all were tried if any failed.
        `at_once`: on threads, when Ocerra selects the client by the request (a switch to a
        client is the service user's state on the server, so those go one by one)."""
        failed, stop = [], None
        if at_once and len(runs) > 1 and self.ocerra.selection == "query_param":
            with ThreadPoolExecutor(max_workers=min(len(runs), LISTING_WORKERS)) as pool:
                errors = list(pool.map(lambda run: _error_of(act, run), runs))
        else:
            errors = []
            for run in runs:
                errors.append(_error_of(act, run))
                if errors[-1] is not None and errors[-1].kind in (LockoutRisk.kind, ControllerGone.kind):
                    break               # the others would meet the same: stop here
        for run, exc in zip(runs, errors):
            if exc is None:
                run.error = None
                continue
            self._entity_failed(run, exc)
            failed.append(run)
            if exc.kind in (LockoutRisk.kind, ControllerGone.kind):
                stop = exc
        if failed:
            error = ToolkitError("; ".join(f"{r.key}: {r.error}" for r in failed))
            error.kind = stop.kind if stop else error.kind
            self._fail(step, error)

    def _entity_failed(self, run, exc):
        run.error = _first_line(self.secrets.scrub(exc.message))
        run.seen(exc.details.get("connection"))
        run.changed = run.changed or bool(exc.details.get("changed"))
        run.password_pushed = run.password_pushed or bool(exc.details.get("password_pushed"))

    def _alive(self):
        """Stop before a write when the controller that started this worker has gone."""
        if self.controller_pid and os.getppid() != self.controller_pid:
            raise ControllerGone("ansible-playbook, which started this run, has gone: this run stopped "
                                 "before its next change. Run again.")

    # ---- the ERP side ----------------------------------------------------------------------

    def _ensure_user(self, prepared=None, **overrides):
        """One erp_user run in the flow's admin session: read (publishing a missing endpoint
        when allowed), decide the password step, plan (or take `prepared`, what _prepare_user
        read ahead), write what differs (not in check mode)."""
        params = dict(self.site.user, **overrides)
        result, before = user_engine.ensure(self.erp, params, self.check, prepared)
        self.record.erp.read = self.record.erp.read or before
        self.record.erp.add(result)
        if result["password_updated"]:
            self.own_change = (result["user"] or {}).get("last_password_change")
        self._diff(result["diff"])

    def _prepare_user(self, **overrides):
        """The reads of _ensure_user (admin sign-in, the user, the verification sign-in) made
        ahead, while the entities are being listed: (Prepared or None, the error it met). None
        when the endpoint is missing: publishing it is a write, left to the ERP step."""
        params = dict(self.site.user, publish_endpoint=False, **overrides)
        try:
            return user_engine.Prepared(self.erp, params, self.check), None
        except EndpointNotPublished:
            return None, None
        except ToolkitError as exc:
            return None, exc

    def _read_user(self):
        user = user_engine.view(self.erp.get_user(self.site.login))
        self.record.erp.read = self.record.erp.read or user
        self.record.erp.user = user
        return user

    def _guard(self, user, doing):
        """Stop when one more failed sign-in could lock the API user out."""
        threshold = self.site.user.get("lockout_threshold")
        if user.get("locked") or user_engine.at_lockout_risk(user, threshold):
            raise LockoutRisk(
                f"Stopped before {doing}: '{self.site.login}' on MYOB Acumatica {self.erp.site} "
                f"{'is locked out' if user.get('locked') else 'has %s failed sign-in(s)' % user.get('failed_attempts')}"
                f" and its lock-out threshold is {threshold}, so one more failed sign-in could lock it out for "
                "every entity. Nothing was signed in. The count goes back to 0 at the next successful sign-in "
                "and restarts after the lock-out window (10 minutes by default) at the next failure; make sure "
                "nothing else signs in with a wrong password, then run again (restore_connection.yml resets the "
                "password without signing in).")

    def _verify(self, own_change):
        """Sign in as the API user with the site's password before any entity gets it. Right
        after this run set it (the ERP's last password change still the one this run made),
        the sign-in cannot fail on the password; otherwise the lock-out guard applies."""
        user = self._read_user()
        changed_at = user.get("last_password_change")
        if own_change:
            if changed_at != self.own_change:
                raise ConcurrentChange(
                    f"The password of '{self.site.login}' changed again (at {changed_at}) after this run set "
                    "it: another run or a person changed it meanwhile. This run stops; the entities it "
                    "switched off stay off. Find out which password is meant, then run again.")
        else:
            self._guard(user, "verifying the password by signing in as the API user")
        outcome = self.erp.probe_signin(self.site.login, self.site.user["password"])
        if outcome != PROBE_OK:
            raise ToolkitError(
                f"Signing in as '{self.site.login}' on MYOB Acumatica {self.erp.site} with the inventory's "
                f"password was refused ({outcome}){' right after this run set it' if own_change else ''}: "
                "no entity was given it. " + ("Check the user on Users (SM201010)." if own_change else
                                              "Run restore_connection.yml to reset it."), reason=outcome)
        self.record.erp.verified = True

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

    def _desired(self, run, enabled=True):
        if run.declared:
            return self.site.entity_desired(run.entity, enabled)
        # An entity found by discovery keeps its own branch.
        return dict(self.site.entity_desired({}, enabled), branch=None)

    def _read_entity(self, run):
        """One GET of an entity of the inventory the run's listing did not have (another
        service user's, or one that does not exist: the read says which)."""
        run.seen(public(self.ocerra.get_settings(self._client_id(run))))

    def _needs_work(self, run):
        """The entity needs the password: a setting or Enable Connection differs, Ocerra has
        none, it is not Connected, or its last successful test predates the ERP's last
        password change (its status is stale: it holds an older password)."""
        current = dict(run.connection or {})
        current.setdefault("has_password", False)
        changes = plan(current, self._desired(run), self.site.user.get("password"))
        return bool(changes) or not run.connected or self._stale(run)

    def _stale(self, run):
        checked = _when((run.connection or {}).get("status", {}).get("checked"))
        changed = _when((self.record.erp.user or {}).get("last_password_change"))
        return bool(checked and changed and checked < changed)

    def _read_entities(self, step, listing=None):
        """Every entity of the inventory, and every other one that uses this site, tenant and
        login, from the run's one listing of the service user's entities (discovery.py; given
        when made ahead); an inventory's entity the listing does not have is read on its own."""
        listing = listing or discovery.listing(self.ocerra, self.warn)
        if self.ocerra.selection == "auto" and listing.selection == "query_param":
            self.ocerra.selection = "query_param"   # proved by the listing: entities may go at once
        declared = [self.record.add_entity(e) for e in self.site.entities]
        for run in declared:
            run.seen(listing.client(run.entity["client_id"]) if run.entity.get("client_id")
                     else listing.named(run.entity["name"]))
        self._each(step, [r for r in declared if r.connection is None], self._read_entity)
        found = listing.using(self.site.url, self.site.tenant, self.site.login)
        self.record.connections = found
        unlisted = []
        for connection in found:
            if self._declared(connection) is None:
                run = self.record.add_entity({"client_id": connection["client_id"]}, declared=False)
                run.seen(connection)
                unlisted.append(run)
        if unlisted and self.site.unlisted == "fail" and self.mode != "report":
            raise UnlistedEntities(
                "Ocerra entities that use this site and login are not in ocerra_entities: "
                f"{', '.join(f'{r.client_name} ({r.client_id})' for r in unlisted)}. A password change would "
                "break them, and ocerra_unlisted_entities is fail, so nothing was changed: add them to "
                "ocerra_entities (or set ocerra_unlisted_entities: include).")

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

    def _switch_off(self, run):
        self._alive()
        result = self._ensure_entity(run, self._desired(run, enabled=False))
        run.switched_off = run.switched_off or result["changed"]

    def _connect(self, run):
        """Give one entity the site's password and switch it on, once one more failed sign-in
        could not lock the API user out; switch it off again when its test shows a wrong
        password."""
        self._alive()
        if not self.check:
            self._guard(self._read_user(), f"switching on entity {run.key}, whose connection test signs in")
        try:
            self._ensure_entity(run, self._desired(run), password=self.site.user["password"])
        except ConnectionFailed as exc:
            if exc.details.get("connection_status") in PASSWORD_STATUSES:
                self._ensure_entity(run, self._desired(run, enabled=False))
                exc.message += " It was switched off again, so it does not fail its next sync."
            raise

    def _diff(self, diff):
        if diff and (diff.get("before") or diff.get("after")):
            self.record.diffs.append(diff)

    # ---- the flows -------------------------------------------------------------------------

    def _provision(self):
        if discovery.made(self.ocerra):     # most sites: the run's listing is there to read
            with self._step("read_entities") as step:
                self._read_entities(step)
            prepared, erp_error = self._prepare_user(defer_password_change=True)
        else:
            # The run's listing of Ocerra's entities (made by the first site, waited for by the
            # first sites) and this site's ERP reads overlap: neither writes, and latency adds up.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="listing") as pool:
                listed = pool.submit(discovery.listing, self.ocerra, self.warn)
                prepared, erp_error = self._prepare_user(defer_password_change=True)
                with self._step("read_entities") as step:
                    self._read_entities(step, listed.result())
        with self._step("erp", writes=not self.check):
            if erp_error is not None:
                raise erp_error
            self._ensure_user(prepared, defer_password_change=True)
        erp = self.record.erp
        everyone = list(self.record.entities.values())
        if erp.password_change_pending:
            self._change_password(everyone)
        elif erp.password_updated:           # created with its password: every entity gets it
            self._fan_out(everyone, own_change=True)
        else:
            targets = [r for r in everyone if self._needs_work(r)]
            if targets:
                self._fan_out(targets, own_change=False)
        self._promote()

    def _restore(self):
        self._read_site()
        self._change_password(list(self.record.entities.values()))
        self._promote()

    def _report(self):
        self._read_site()

    def _read_site(self):
        """The API user and every entity that signs in to this site with its login (listed or
        not), read only."""
        with self._step("read_user"):
            self._read_user()
        with self._step("find_entities") as step:
            self._read_entities(step)

    def _publish(self):
        with self._step("publish", writes=not self.erp.seam.check_mode):
            self.record.endpoint = endpoint.ensure_published(self.erp, self.erp.seam.check_mode)

    # ---- the password store ----------------------------------------------------------------

    def _read_store(self):
        """The password every step uses: the store's pending one (a change to finish), else its
        current one, else the inventory's (a store still empty)."""
        with self._step("store"):
            stored = self.site.store.read()
            password = stored.pending or stored.current or self.site.user.get("password")
            if not password:
                raise ToolkitError(f"The site's password store ({self.site.store.path}) holds no password and "
                                   "api_user_password is not given: run playbooks/rotate.yml to create one.")
        for known in (stored.current, stored.pending, stored.previous):
            self.secrets.add(known)
        self.stored = stored
        self.site.user["password"] = password
        if stored.pending and (stored.current or self.site.user.get("password")) != stored.pending:
            self.site.user["fallback_password"] = stored.current
        self.record.rotation = "pending" if stored.pending else None

    def _promote(self):
        """Once the ERP and every entity hold the pending password (a sign-in with it worked,
        every entity is Connected), it becomes the current one."""
        pending = (self.stored and self.stored.pending)
        if not pending or self.check or self.record.failed_step is not None:
            return
        if not (self.record.erp.verified and all(r.connected for r in self.record.entities.values())):
            return
        with self._step("promote", writes=True):
            self.stored = self.site.store.promote(pending)
        self.record.rotation = "finished"

    def _rotate(self):
        """prepare: a due site (or any, forced) gets a new password, generated and stored as
        pending before either system is touched (a pending one is kept). apply: the pending
        password is applied in the safe order, verified, and promoted."""
        if self.site.store is None:
            with self._step("store"):
                raise ToolkitError("Rotating a site's password needs its password store: set "
                                   "api_user_password_store: vault_file and api_user_password_vault_id.")
        if self.stored.pending:
            if self.phase == "apply":
                self._provision()
            return
        with self._step("read_user"):
            user = self._read_user()
        age = password_age_days(user, self.erp.seam.server_time)
        due = self.site.max_age_days is not None and age is not None and age >= self.site.max_age_days
        if self.phase == "apply" or not (due or self.force):
            self.record.rotation = "not due" if self.site.max_age_days is not None and not due else "nothing pending"
            return
        with self._step("stage", writes=not self.check):
            if not self.check:
                self.stored = self.site.store.stage(generate(min_length=MIN_LENGTH), self.site.user["password"])
                self.secrets.add(self.stored.pending)
        self.record.rotation = "pending"

    # ---- the password change ---------------------------------------------------------------

    def _change_password(self, runs):
        """The safe order. Every entity off, the ERP password reset, verified, then the
        entities, first one first; a stop before the reset switches back on what still works."""
        first_read = (self.record.erp.read or {}).get("last_password_change")
        if not self.check:
            with self._step("lock"):
                self._take_lock(first_read, runs)
            self.journal and self.journal.change_started(self.site.user["password"], first_read)
        try:
            with self._step("entities_off", writes=True) as step:
                self._each(step, runs, self._switch_off, at_once=True)
            with self._step("erp_password", writes=True):
                if not self.check:
                    self._unchanged_since(first_read, "before the ERP password is written")
                self._ensure_user(update_password="always")
                self.journal and self.journal.change_note(password_changed_after=self.own_change)
        except StepFailed as stop:
            self._after_stopped_change(stop.step, first_read, runs)
            raise
        self._fan_out(runs, own_change=True)

    def _take_lock(self, first_read, runs):
        """This machine's lock on the site, and the checks that no other change is going on:
        another run on this machine (it held the lock), or on another machine (the ERP's last
        password change moved since this run read it, or is recent and not every entity has
        it yet)."""
        try:
            waited = self.lock.acquire(self.lock_wait, self.journal.run) if self.lock else 0
        except LockBusy as busy:
            raise ConcurrentChange(
                f"Another run on this machine (pid {busy.holder.get('pid', '?')}, since "
                f"{busy.holder.get('locked', '?')}) is changing this site's password; this run waited "
                f"{busy.waited:.0f}s and stopped without changing anything. Run again when it has finished.") from None
        if waited or self.other_run_changing:
            raise ConcurrentChange(
                "Another run on this machine was changing this site's password while this run read it: this run "
                "stopped without changing anything, so two runs do not both set different passwords. Run again "
                "if this inventory's password is the one meant.")
        user = self._unchanged_since(first_read, "before anything is switched off")
        if self.mode == "provision":
            self._no_change_in_flight(user, runs)

    def _unchanged_since(self, first_read, when):
        user = self._read_user()
        if user.get("last_password_change") != first_read:
            raise ConcurrentChange(
                f"The password of '{self.site.login}' changed at {user.get('last_password_change')}, after this "
                f"run read the site: another run or a person changed it. This run stopped {when}, so two runs "
                "do not both set different passwords. Find out which password is meant, then run again.")
        return user

    def _no_change_in_flight(self, user, runs):
        """Another machine may be in the middle of a change: the ERP's password changed less
        than IN_FLIGHT ago, to a value this machine's unfinished change did not see or make,
        and when this run read the entities, not every one had been tested with it."""
        changed = _when(user.get("last_password_change"))
        now = self.erp.seam.server_time
        change = self.record.previous or {}
        known = user.get("last_password_change") in (change.get("password_changed_before"),
                                                     change.get("password_changed_after"))
        if not changed or not now or known or now - changed > IN_FLIGHT:
            return
        if all(self._worked_when_read(r) for r in runs):
            return
        raise ConcurrentChange(
            f"The password of '{self.site.login}' was changed at {user.get('last_password_change')}, "
            f"{int((now - changed).total_seconds() // 60)} minute(s) ago, not by a run of this machine, and not "
            "every entity has been connected with it since: another run may still be finishing that change. "
            f"This run stopped without changing anything; run again after "
            f"{(changed + IN_FLIGHT).strftime('%H:%M UTC')}, or sooner once the other run has finished. If no "
            "other run is changing it (a person reset it by hand), restore_connection.yml repairs it now.")

    def _after_stopped_change(self, step, first_read, runs):
        """Whether the ERP password provably did not change, then switch back on what still
        works (each entity decides by its own last test, so this is safe whoever changed the
        ERP password). Not after a signal or without a controller: those stop at once."""
        erp = self.record.erp
        if self.journal:
            self.journal.change_note(stopped_at=step.name)
        if self.check or self.record.interrupted is not None or step.error_kind == ControllerGone.kind:
            return
        if step.name == "erp_password":
            try:
                erp.password_unchanged = self._read_user().get("last_password_change") == first_read
            except ToolkitError:
                return              # cannot tell which password the ERP holds: leave them off
        else:
            erp.password_unchanged = True
        self._roll_back(runs)
        if step.error_kind == "password_rejected" and erp.password_unchanged and self.stored and self.stored.pending:
            self._discard_pending()

    def _discard_pending(self):
        """The ERP's policy refused the pending password: drop it (the next prepare generates
        another) rather than try it again on every run."""
        with self._step("discard", writes=True):
            stored = self.stored
            self.stored = self.site.store.write(Passwords(stored.current, None, stored.previous), stored.version)
        self.record.rotation = "discarded"

    def _roll_back(self, runs):
        """Switch back on the entities this run switched off whose password still works: they
        were Connected, tested after the ERP's last password change. Each is guarded and
        tested; the others stay off (they hold a stale password). What stays off is recorded."""
        switched = [r for r in runs if r.switched_off]
        if not switched:
            return
        working = [r for r in switched if self._worked_when_read(r)]
        self.record.still_off = [(r.key, "holds a password older than the ERP's") for r in switched
                                 if r not in working]
        if not working:
            return
        try:
            with self._step("rollback", writes=True) as step:
                self._each(step, working, self._switch_back_on)
        except StepFailed:
            self.record.still_off += [(r.key, r.error) for r in working if r.error]
        if self.journal:
            self.journal.change_finished("rolled back")

    def _worked_when_read(self, run):
        """As this run first read it, the entity was enabled and Connected by a test made after
        the ERP's last password change: the password it holds works."""
        read = run.read or {}
        checked = _when((read.get("status") or {}).get("checked"))
        changed = _when((self.record.erp.user or {}).get("last_password_change"))
        return (bool(read.get("enabled")) and (read.get("status") or {}).get("code") == CONNECTED
                and checked is not None and (changed is None or checked >= changed))

    def _switch_back_on(self, run):
        self._alive()
        self._guard(self._read_user(), f"switching entity {run.key} back on")
        try:
            self._ensure_entity(run, {"erp_url": None, "tenant": None, "branch": None, "login": None,
                                      "enabled": True})
        except ConnectionFailed as exc:
            if exc.details.get("connection_status") in PASSWORD_STATUSES:
                self._ensure_entity(run, {"erp_url": None, "tenant": None, "branch": None, "login": None,
                                          "enabled": False})
            raise

    def _fan_out(self, runs, own_change):
        """Verify the password with the ERP (unless this run already signed in with it), then
        give it to the first entity and read its test before the others."""
        if not self.check and not self.record.erp.verified:
            with self._step("verify"):
                self._verify(own_change)
        with self._step("entities_on", writes=True) as step:
            first, rest = runs[0], runs[1:]
            try:
                self._connect(first)
            except ToolkitError as exc:
                self._entity_failed(first, exc)
                self._fail(step, ToolkitError(
                    f"{first.key}: {first.error} The other entities were not given the password."))
            first.error = None
            self._each(step, rest, self._connect)


def _error_of(act, run):
    try:
        act(run)
    except ToolkitError as exc:
        return exc
    return None


def password_age_days(user, now):
    """Whole days since the user's last password change (the ERP's clock), or None."""
    changed = _when((user or {}).get("last_password_change"))
    return (now - changed).days if changed and now else None


def _recent(runs, within=timedelta(minutes=10)):
    """Whether one of the journal's `runs` started within `within` (the ERP's idle timeout)."""
    started = [_when(r.get("started")) for r in runs]
    now = datetime.now(timezone.utc)
    return any(s is not None and now - s < within for s in started)


def _when(text):
    """An ISO 8601 time of either service as an aware datetime in whole seconds (Ocerra's
    dates have no fractions, so finer ERP times must not make a later test look earlier),
    or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).replace(microsecond=0)
    except ValueError:
        return None


def _first_line(text, limit=400):
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
