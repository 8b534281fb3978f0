"""The safe change of the API user's password (design: Safe change):

  1. the new password is in the inventory or the store before either system is touched; the
     journal records the change as started; one change at a time per site (a lock on this
     machine, and the ERP's last password change read again before the ERP is written);
  2. every entity that uses the site's URL, tenant and login, listed or not, switched off;
  3. the ERP password reset, and a sign-in as the API user with it (verify before fan-out);
  4. the first entity given the password, switched on and its connection test read before the
     others; an entity whose test fails for its password is switched off again;
  5. the journal records the change as finished.

When a change stops before the ERP password changed, the entities it switched off whose
password still works are switched back on; the others stay off (they cannot lock the user
out) and the next run finishes the change.
"""
from datetime import timedelta

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.journal import LockBusy, fingerprint
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.lease import LeaseBusy
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    CONFIRM, CONTROLLER_GONE, ENTITIES_OFF, ENTITIES_ON, ERP_PASSWORD, LOCK, PASSWORD_REJECTED, PROVISION, ROLLBACK,
    VERIFY, ConcurrentChange, StepFailed, when)

# A password change made elsewhere this recently, that not every entity has yet, may still be
# going on (another machine's run): provision leaves the site to it.
IN_FLIGHT = timedelta(minutes=15)


class SafeChange:
    def __init__(self, flow):
        self.flow = flow

    def run(self, runs):
        """Every entity off, the ERP password reset, verified, then the entities, first one
        first; a stop before the reset switches back on what still works."""
        flow = self.flow
        first_read = (flow.record.erp.read or {}).get("last_password_change")
        if not flow.check:
            with flow.step(LOCK):
                self._take_lock(first_read, runs)
            flow.journal and flow.journal.change_started(flow.site.user["password"], first_read)
        try:
            with flow.step(ENTITIES_OFF, writes=True) as step:
                flow.each(step, runs, flow.entities.switch_off, at_once=True)
            flow.rotation.ensure_durable("before the ERP password is written")
            with flow.step(ERP_PASSWORD, writes=True), flow.user.admin():
                if not flow.check:
                    self._unchanged_since(first_read, "before the ERP password is written")
                flow.user.ensure(update_password="always")
                flow.journal and flow.journal.change_note(password_changed_after=flow.user.own_change)
        except StepFailed as stop:
            self._after_stopped(stop.step, first_read, runs)
            raise
        self.fan_out(runs, own_change=True)

    def fan_out(self, runs, own_change):
        """Verify the password with the ERP (unless this run already signed in with it), then
        give it to the first entity and read its test before the others."""
        flow = self.flow
        if not flow.check and not flow.record.erp.verified:
            with flow.step(VERIFY):
                flow.user.verify(own_change)
        with flow.step(ENTITIES_ON, writes=True) as step:
            first, rest = runs[0], runs[1:]
            try:
                flow.entities.connect(first)
            except ToolkitError as exc:
                flow.entity_failed(first, exc)
                flow.fail(step, ToolkitError(f"{first.key}: {first.error} The other entities were not given "
                                             "the password."))
            first.error = None
            flow.each(step, rest, flow.entities.connect)
        if not flow.check and flow.record.erp.password_updated:
            with flow.step(CONFIRM) as step:
                self._confirm(step, runs)
        if flow.record.erp.password_updated or any(r.password_pushed for r in runs):
            flow.rotation.ensure_durable("after the password was given to the ERP and the entities")

    def _confirm(self, step, runs):
        """After this run changed the ERP password and gave it to every entity: the ERP's last
        password change is still this run's (two runs on two machines never both report success),
        and every entity, read again, is enabled and Connected."""
        flow = self.flow
        changed_at = flow.user.read().get("last_password_change")
        if changed_at != flow.user.own_change:
            raise ConcurrentChange(
                f"The password of '{flow.site.login}' was changed again at {changed_at}, after this run set it (at "
                f"{flow.user.own_change}) and gave it to the entities: another run (on another machine?) or a person "
                "changed it meanwhile, so an entity may hold a password the ERP no longer takes. Find out which "
                "password is meant, then run again: the next run reads both systems and sets one password everywhere.")
        flow.each(step, runs, flow.entities.reread, at_once=True)

    def _take_lock(self, first_read, runs):
        """This machine's lock on the site, and the checks that no other change is going on:
        another run on this machine (it held the lock), or on another machine (the ERP's last
        password change moved since this run read it, or is recent and not every entity has
        it yet)."""
        flow = self.flow
        try:
            waited = flow.lock.acquire(flow.lock_wait, flow.journal.run) if flow.lock else 0
        except LockBusy as busy:
            raise ConcurrentChange(
                f"Another run on this machine (pid {busy.holder.get('pid', '?')}, since "
                f"{busy.holder.get('locked', '?')}) is changing this site's password; this run waited "
                f"{busy.waited:.0f}s and stopped before changing the password. Run again when it has finished.") from None
        if flow.lease:
            self._take_lease()
        if waited or flow.other_run_changing:
            raise ConcurrentChange(
                "Another run on this machine was changing this site's password while this run read it: this run "
                "stopped before changing the password, so two runs do not both set different passwords. Run again "
                "if this inventory's password is the one meant.")
        user = self._unchanged_since(first_read, "before anything is switched off")
        if flow.mode == PROVISION:
            self._no_change_in_flight(user, runs)

    def _take_lease(self):
        """The shared store's lease: one change at a time across machines, and what a run on
        another machine left unfinished in it (finished by this run like one of this machine's;
        one that stopped renewing it without release may have left its ERP session open). A run
        that waited for another's lease stops like one that waited for this machine's lock: the
        site it read is no longer the site."""
        flow = self.flow
        try:
            other = flow.lease.take(None, wait=flow.lock_wait)
        except LeaseBusy as busy:
            raise ConcurrentChange(
                f"Another run ({_holder(busy.holder)}) holds this site's lease in {flow.site.store.where} until "
                f"{busy.expires or '?'}: it is changing this site's password. This run waited {busy.waited:.0f}s "
                "and stopped before changing the password. Run again when it has finished (a run that was killed "
                "lets its lease expire at that time).") from None
        flow.note_left(flow.lease.left)
        if other:
            raise ConcurrentChange(
                f"Another run ({_holder(other)}) held this site's lease in {flow.site.store.where} and was changing "
                "its password while this run read it: this run stopped before changing the password, so two runs do "
                "not both change it. Run again if a change is still due.")

    def _unchanged_since(self, first_read, when_stopped):
        user = self.flow.user.read()
        if user.get("last_password_change") != first_read:
            raise ConcurrentChange(
                f"The password of '{self.flow.site.login}' changed at {user.get('last_password_change')}, after "
                f"this run read the site: another run or a person changed it. This run stopped {when_stopped}, so "
                "two runs do not both set different passwords. Find out which password is meant, then run again.")
        return user

    def _no_change_in_flight(self, user, runs):
        """Another machine may be in the middle of a change: the ERP's password changed less
        than IN_FLIGHT ago, to a value no change of this machine saw or made (nor the lease's),
        and when this run read the entities, not every one had been tested with it."""
        flow = self.flow
        changed = when(user.get("last_password_change"))
        now = flow.erp.seam.server_time
        change = flow.record.previous or {}
        # This machine's changes, the last one finished or not (a restore that just ran is known).
        last = (flow.journal and flow.journal.data.get("change")) or {}
        known = user.get("last_password_change") in {c.get(k) for c in (change, last) for k in (
            "password_changed_before", "password_changed_after")} - {None}
        if not changed or not now or known or now - changed > IN_FLIGHT or self._finishing(change):
            return
        if all(flow.entities.worked_when_read(r) for r in runs):
            return
        raise ConcurrentChange(
            f"The password of '{flow.site.login}' was changed at {user.get('last_password_change')}, "
            f"{int((now - changed).total_seconds() // 60)} minute(s) ago, not by a run of this machine, and not "
            "every entity has been connected with it since: another run may still be finishing that change. "
            "Run again after "
            f"{(changed + IN_FLIGHT).strftime('%H:%M UTC')}, or sooner once the other run has finished. If no "
            "other run is changing it (a person reset it by hand), restore_connection.yml repairs it now.")

    def _finishing(self, change):
        """Whether this run finishes `change`, an unfinished one (this machine's journal, or what
        the lease kept of another machine's) that reached the ERP's reset with the very password
        this run applies: the ERP's recent change is then its own, whose answer was lost."""
        flow = self.flow
        salt = change.get("salt") or (flow.journal and flow.journal.data["salt"])
        reached = any(s.get("step") == ERP_PASSWORD for s in change.get("steps") or [])
        return bool(reached and salt and change.get("fingerprint") == fingerprint(flow.site.user["password"], salt))

    def _after_stopped(self, step, first_read, runs):
        """Whether the ERP password provably did not change, then switch back on what still
        works (each entity decides by its own last test, so this is safe whoever changed the
        ERP password). Not after a signal or without a controller: those stop at once."""
        flow = self.flow
        erp = flow.record.erp
        if flow.journal:
            flow.journal.change_note(stopped_at=step.name)
        if flow.check or flow.record.interrupted is not None or step.error_kind == CONTROLLER_GONE:
            return
        if step.name == ERP_PASSWORD:
            try:
                erp.password_unchanged = flow.user.read().get("last_password_change") == first_read
            except ToolkitError:
                return              # cannot tell which password the ERP holds: leave them off
        else:
            erp.password_unchanged = True
        self._roll_back(runs)
        if step.error_kind == PASSWORD_REJECTED and erp.password_unchanged:
            flow.rotation.discard_pending()

    def _roll_back(self, runs):
        """Switch back on the entities this run switched off whose password still works: they
        were Connected, tested after the ERP's last password change. Each is guarded and
        tested; the others stay off (they hold a stale password). What stays off is recorded."""
        flow = self.flow
        switched = [r for r in runs if r.switched_off]
        if not switched:
            return
        working = [r for r in switched if flow.entities.worked_when_read(r)]
        flow.record.still_off = [(r.key, "holds a password older than the ERP's") for r in switched
                                 if r not in working]
        if not working:
            return
        try:
            with flow.step(ROLLBACK, writes=True) as step:
                flow.each(step, working, flow.entities.switch_back_on)
        except StepFailed:
            # As read back: a switch-on whose answer was lost may have been applied all the same.
            flow.record.still_off += [(r.key, r.error) for r in working
                                      if r.error and not (r.connection and r.connection.get("enabled"))]
        if flow.journal:
            flow.journal.change_finished("rolled back")


def _holder(holder):
    return f"on {holder.get('controller', '?')}, pid {holder.get('pid', '?')}, since {holder.get('started', '?')}"
