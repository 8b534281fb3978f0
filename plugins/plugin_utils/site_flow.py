"""One site's flow, in one place: the five flows first, then the machinery they share.

A flow runs in one ERP admin session and one Ocerra client, calls the engines of module_utils
through its parts (flow_user.py: the API user; flow_entities.py: the Ocerra entities;
safe_change.py: a password change; rotation.py: the password store), and records every step
in a Record (record.py) before it takes it; for a real run the site's journal on the
controller (journal.py) gets each writing step first. The site's outcome (site_outcome.py) is
built from that Record, never inferred afterwards.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import endpoint
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import AcumaticaClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.password_step import DEFAULT_LOCKOUT_THRESHOLD
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import close_all
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import LISTING_WORKERS, OcerraClient
from ansible_collections.ocerra.acumatica.plugins.module_utils.secrets import Secrets
from ansible_collections.ocerra.acumatica.plugins.module_utils.sign_in_guard import UNGUARDED
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import discovery, plan, sign_ins
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.flow_entities import FlowEntities
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.flow_user import FlowUser
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import Journal, SiteLock, site_folder
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.lease import Lease
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    APPLY, CONTROLLER_GONE, DUE, ERP, FIND_ENTITIES, FLOWS, LOCKOUT_GUARD, PHASES, PROVISION, PUBLISH, PUBLISH_ENDPOINT,
    READ_ENTITIES, READ_USER, REPORT, RESTORE, ROTATE, STORE, ControllerGone, Interrupted, Record, Step, StepFailed, when)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.rotation import Rotation
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.safe_change import SafeChange

NOT_HELD = object()     # no saved plan: the run does what it finds needed

# ---- the five flows -------------------------------------------------------------------------


def provision(flow):
    """The API user made to match the inventory (created with its password, or its password
    checked by one sign-in and changed in the safe order), then every entity that needs it
    connected; a pending password in the store becomes the current one once all hold it."""
    prepared = flow.read_site_ahead()
    with flow.step(ERP, writes=not flow.check):
        flow.user.ensure(prepared, defer_password_change=True)
    erp, everyone = flow.record.erp, flow.entities.runs
    if erp.password_change_pending:
        flow.change.run(everyone)
    elif erp.password_updated:              # created with its password: every entity gets it
        flow.change.fan_out(everyone, own_change=True)
    else:
        targets = [r for r in everyone if flow.entities.needs_work(r)]
        if targets:
            flow.change.fan_out(targets, own_change=False)
    flow.rotation.promote()


def restore(flow):
    """What is wrong read (the user, every entity using the site and login), then the password
    reset in the safe order whatever was found: the repair for a reset, locked or forced-change
    API user, or a dropped Enable Connection."""
    flow.read_site()
    flow.change.run(flow.entities.runs)
    flow.rotation.promote()


def report(flow):
    """Both systems read; nothing written."""
    flow.read_site()


def publish(flow):
    """The User endpoint published when this release's digest is not the published one."""
    with flow.step(PUBLISH_ENDPOINT, writes=not flow.erp.seam.check_mode):
        flow.record.endpoint = endpoint.ensure_published(flow.erp, flow.erp.seam.check_mode)


def rotate(flow):
    """rotate.yml's two phases (rotation.py): prepare stores a new pending password for a due
    site; apply finishes a pending one with provision's flow."""
    flow.rotation.require_store()
    if flow.rotation.stored.pending:
        if flow.phase == APPLY:
            provision(flow)
        return
    flow.rotation.prepare()
    if flow.record.rotation == DUE:     # a plan: the apply that prepare leads to, planned too
        provision(flow)


RUNS = {PROVISION: provision, RESTORE: restore, REPORT: report, PUBLISH: publish, ROTATE: rotate}

# ---- what the flows share ----------------------------------------------------------------------


class SiteFlow:
    def __init__(self, site, mode, *, check_mode=False, state_dir=None, lock_wait=60, controller_pid=None,
                 timeout=30, retry_timeout=60, phase=APPLY, force=False, lease_seconds=600, planned=NOT_HELD):
        if mode not in FLOWS or phase not in PHASES:
            raise ValueError(f"unknown flow {mode!r} or phase {phase!r}")
        self.site, self.mode, self.check = site, mode, check_mode
        self.phase, self.force = phase, force
        self.planned = planned      # the site's entry of a saved plan the run is held to (plan.py)
        self.record = Record(mode, check_mode, site, phase)
        self.secrets = Secrets(*site.secrets())
        self.lock_wait, self.controller_pid = lock_wait, controller_pid
        self.journal = self.lock = self.lease = None
        self.other_run_changing = False
        if state_dir and not check_mode and mode != REPORT:
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
            if site.store is not None and site.store.shared:
                run = self.journal.run
                self.lease = Lease(site.store, {k: run[k] for k in ("run", "controller", "pid", "started")},
                                   lease_seconds)
        # publish_endpoint.yml only checks a site where publishing is not allowed.
        erp_check = check_mode or (mode == PUBLISH and not site.publish_allowed)
        # Failed sign-ins of the accounts whose password may be wrong, remembered across runs
        # (plans included: the state folder is the controller's, not a system the plan changes).
        admin_guard = UNGUARDED if not state_dir else sign_ins.erp_admin(
            state_dir, site.erp["url"], site.erp["tenant"], site.erp["user"],
            site.user.get("lockout_threshold") or DEFAULT_LOCKOUT_THRESHOLD, site.store)
        self.erp = AcumaticaClient(
            site.erp["url"], site.erp["tenant"], site.erp["user"], site.erp["password"],
            branch=site.erp.get("branch"), validate_certs=site.erp.get("validate_certs", True),
            ca_path=site.erp.get("ca_path"), timeout=timeout,
            # An API Login Limit right after a killed run is its session: waiting a minute for it
            # helps nobody, the message says when it frees.
            retry_timeout=min(retry_timeout, 5) if _recent(self.record.unfinished_runs) else retry_timeout,
            check_mode=erp_check, warn=self.warn,
            # A site whose inventory names a licence type is MYOB: its edition maps licence types.
            myob=bool(site.user.get("licence_types")), guard=admin_guard)
        self.ocerra = None
        if mode != PUBLISH:
            self.ocerra = OcerraClient(
                site.ocerra["url"], site.ocerra["username"], self._ocerra_password,
                validate_certs=site.ocerra.get("validate_certs", True), ca_path=site.ocerra.get("ca_path"),
                timeout=timeout, retry_timeout=retry_timeout, check_mode=check_mode, warn=self.warn,
                guard=sign_ins.ocerra_user(state_dir, site.ocerra["url"], site.ocerra["username"])
                if state_dir else UNGUARDED)
        self.user, self.entities = FlowUser(self), FlowEntities(self)
        self.change, self.rotation = SafeChange(self), Rotation(self)

    def _ocerra_password(self):
        """The Ocerra service user's password, when the first request to Ocerra needs it (it may
        be decrypted only then: site_vars.WHEN_USED), known to the flow's scrubber from then on."""
        password = self.site.ocerra["password"]
        password = password() if callable(password) else password
        self.secrets.add(password, basic_user=self.site.ocerra["username"])
        return password

    def run(self):
        """Run the flow; the Record, whatever happened. Sessions are closed by close()."""
        if self.journal:
            self.journal.run_started()
        try:
            if self.mode != PUBLISH and self.site.store is not None:
                self.rotation.read_store()
                if self.lease and self.rotation.stored.pending:    # a change in flight: whose?
                    with self.step(STORE):
                        self.lease.peek()
                    self.note_left(self.lease.left)
            RUNS[self.mode](self)
        except StepFailed:
            pass
        self.record.erp.server_time = self.erp.seam.server_time
        return self.record

    def note_left(self, left):
        """What a run on another machine left in the shared store's lease: its unfinished change
        (finished by this run like one of this machine's), and, when it stopped renewing the lease
        without releasing it, that run (its ERP session may still be open)."""
        change, gone = left
        if change and not self.record.previous:
            self.record.previous = change
        if gone and gone not in self.record.unfinished_runs:
            self.record.unfinished_runs = self.record.unfinished_runs + [gone]

    def journal_change(self):
        """This run's change as the journal has it, for the lease (with the journal's salt, which
        its fingerprint needs), or None."""
        change = self.journal and self.journal.data.get("change")
        return {**change, "salt": self.journal.data["salt"], "controller": self.journal.run["controller"]} \
            if change else None

    def close(self, status=None):
        """Sign out and close both clients (a failure only warns), release the lock, and
        record in the journal how the run ended (a site this run read in order, the API user and
        every entity, also ends a change an earlier run left unfinished)."""
        for warning in close_all([c for c in (self.erp, self.ocerra) if c is not None]):
            self.warn(warning)
        if self.lock:
            self.lock.release()
        if self.journal:
            read = self.record.erp.read is not None and self.record.connections is not None
            if status in ("ok", "changed") and read:
                self.journal.change_finished("finished")
            interrupted = self.record.interrupted is not None
            self.journal.run_finished("interrupted" if interrupted else status or "stopped")
        if self.lease:
            try:
                self.lease.release(self.journal_change())
            except ToolkitError as exc:
                self.warn(f"The site's lease was not released ({exc.message}); it expires by itself.")

    # ---- reading the site ---------------------------------------------------------------------

    def read_site(self):
        """The API user and every entity that signs in to this site with its login (listed or
        not), read only."""
        with self.step(READ_USER):
            self.user.read()
        with self.step(FIND_ENTITIES) as step:
            self.entities.read_all(step)

    def read_site_ahead(self):
        """Provision's reads: the entities and the API user (Prepared, its password step
        decided). The run's listing of Ocerra's entities (made by the first site, waited for by
        the first sites) and this site's ERP reads overlap when the listing is not there yet:
        neither writes, and latency adds up. An error of the ERP reads is raised in the ERP step."""
        if discovery.made(self.ocerra):
            with self.step(READ_ENTITIES) as step:
                self.entities.read_all(step)
            prepared, erp_error = self.user.prepare(defer_password_change=True)
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="listing") as pool:
                listed = pool.submit(discovery.listing, self.ocerra, self.warn)
                prepared, erp_error = self.user.prepare(defer_password_change=True)
                with self.step(READ_ENTITIES) as step:
                    self.entities.read_all(step, listed.result())
        if erp_error is not None:
            with self.step(ERP, writes=not self.check):
                raise erp_error
        return prepared

    # ---- steps ---------------------------------------------------------------------------------

    @contextmanager
    def step(self, name, writes=False):
        """A recorded step; `writes`: it changes a system, so the journal records it first
        and it is not taken when the controller has gone."""
        step = Step(name)
        self.record.steps.append(step)
        if writes and self.journal:
            self.journal.step(name, "started")
        try:
            if writes:
                if self.planned is not NOT_HELD:
                    plan.hold(self.planned, self.record, name)
                self.alive()
                if self.lease:      # still this run's, and it keeps where the change is
                    self.lease.renew(self.journal_change())
                self.erp.settle()   # a probe's sign-out ends before anything signs in as the API user
            yield step
        except ToolkitError as exc:
            self.fail(step, exc)
        except Interrupted as signal:
            step.status = "interrupted"
            self.record.interrupted = signal.signum
            if self.journal:
                self.journal.step(name, "interrupted", signal=signal.signum)
            raise StepFailed(step) from None
        step.status = "done"
        if writes and self.journal:
            self.journal.step(name, "done")

    def fail(self, step, error):
        error.message = self.secrets.scrub(error.message)
        step.status, step.error = "failed", error
        if self.journal:
            self.journal.step(step.name, "failed", kind=error.kind)
        raise StepFailed(step) from None

    def each(self, step, runs, act, at_once=False):
        """act(run) for every entity; the step fails after all were tried if any failed.
        `at_once`: on threads, when Ocerra selects the client by the request (a switch to a
        client is the service user's state on the server, so those go one by one)."""
        if at_once and len(runs) > 1 and self.ocerra.selection == "query_param":
            with ThreadPoolExecutor(max_workers=min(len(runs), LISTING_WORKERS)) as pool:
                errors = list(pool.map(lambda run: _error_of(act, run), runs))
        else:
            errors = []
            for run in runs:
                errors.append(_error_of(act, run))
                if errors[-1] is not None and errors[-1].kind in (LOCKOUT_GUARD, CONTROLLER_GONE):
                    break               # the others would meet the same: stop here
        failed, stop = [], None
        for run, exc in zip(runs, errors):
            if exc is None:
                run.error = None
                continue
            self.entity_failed(run, exc)
            failed.append(run)
            if exc.kind in (LOCKOUT_GUARD, CONTROLLER_GONE):
                stop = exc
        if failed:
            error = ToolkitError("; ".join(f"{r.key}: {r.error}" for r in failed))
            error.kind = stop.kind if stop else error.kind
            self.fail(step, error)

    def entity_failed(self, run, exc):
        run.error = _first_line(self.secrets.scrub(exc.message))
        if "connection" in exc.details and exc.details["connection"] is None:
            run.connection = None       # written, then not readable: its state is not known
        run.seen(exc.details.get("connection"))
        run.changed = run.changed or bool(exc.details.get("changed"))
        run.password_pushed = run.password_pushed or bool(exc.details.get("password_pushed"))

    def alive(self):
        """Stop before a write when the controller that started this worker has gone."""
        if self.controller_pid and os.getppid() != self.controller_pid:
            raise ControllerGone("ansible-playbook, which started this run, has gone: this run stopped "
                                 "before its next change. Run again.")

    def warn(self, message):
        message = self.secrets.scrub(message)
        if message not in self.record.warnings:
            self.record.warnings.append(message)

    def diff(self, diff, what, passing=False):
        """Ansible's diff of `what` (the API user, an entity), headed with the site and it;
        `passing`: a step of the safe order, not a change the site keeps."""
        if diff and (diff.get("before") or diff.get("after")):
            header = "%s: %s" % (self.site.host, what)
            self.record.diffs.append(dict(diff, before_header=header, after_header=header))
            if passing:
                self.record.passing.append(len(self.record.diffs) - 1)


def _error_of(act, run):
    try:
        act(run)
    except ToolkitError as exc:
        return exc
    return None


def _recent(runs, within=timedelta(minutes=10)):
    """Whether one of the journal's `runs` started within `within` (the ERP's idle timeout)."""
    started = [when(r.get("started")) for r in runs]
    now = datetime.now(timezone.utc)
    return any(s is not None and now - s < within for s in started)


def _first_line(text, limit=400):
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
