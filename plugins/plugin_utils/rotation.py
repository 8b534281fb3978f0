"""The site's password store in a flow, and the rotation (rotate.yml), in the order the AWS
rotation template and Vault's write-ahead log follow:

  prepare  a site that is due (its password older than api_user_password_max_age_days, or any
           with `force`) gets a new password, generated to the site's policy and stored as
           pending, durably, before either system is touched (a pending one is kept: a
           rotation in progress is finished, never restarted with another password);
  apply    the safe change (safe_change.py) with the pending password;
  promote  once the ERP and every entity hold it: pending becomes current, current previous.

Every flow that changes the site uses the store's pending password when there is one, else its
current one (a store still empty: the inventory's). A site whose store is empty and whose
inventory gives no password (an adopted site: the partner knows the admin, nobody the API
user's password) is taken over: a password generated to the policy is stored as pending before
anything is written, then set in the ERP as the admin (never a sign-in with a password nobody
knows), verified, given to every entity and promoted: the safe change of any other new password.
"""
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import MIN_LENGTH, generate
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import (
    APPLY, DISCARD, DISCARDED, DUE, FINISHED, NOT_DUE, NOTHING_PENDING, PENDING, PROMOTE, READ_USER, REPORT, STAGE, STORE,
    STORE_CHECK, PasswordNowhere, password_age_days)
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import Passwords, StoreError


class Rotation:
    def __init__(self, flow):
        self.flow = flow
        self.stored = None          # what the site's password store holds (as read or written)

    @property
    def store(self):
        return self.flow.site.store

    def read_store(self):
        """The password every step uses: the store's pending one (a change to finish), else its
        current one, else the inventory's (a store still empty)."""
        flow = self.flow
        user = flow.site.user
        with flow.step(STORE):
            try:
                stored = self.store.read()
            except StoreError as exc:
                raise StoreError(f"The site's password store cannot be read, so nothing was sent to either service: "
                                 f"{exc.message}. Restore it from its copy (a checkout of the inventory) and run "
                                 "again; if it is lost, run playbooks/restore_connection.yml with a new "
                                 "api_user_password, which sets one password in the ERP and every entity.") from None
            password = stored.pending or stored.current or user.get("password")
            if not password and flow.mode == REPORT:
                raise StoreError(f"Nobody knows the API user's password: the site's password store "
                                 f"({self.store.where}) holds none and api_user_password is not given. Nothing was "
                                 "sent; provision.yml or rotate.yml takes the site over (a new password in the store, "
                                 "the ERP and every entity).")
        if not password:
            stored = self.take_over(stored)
            password = stored.pending
        elif not (stored.current or user.get("password")):
            self.taking_over()        # a take-over staged earlier (rotate's prepare, a killed run)
        for known in (stored.current, stored.pending, stored.previous):
            flow.secrets.add(known)
        self.stored = stored
        user["password"] = password
        if stored.pending and (stored.current or user.get("password")) != stored.pending:
            user["fallback_password"] = stored.current
        flow.record.rotation = PENDING if stored.pending else None

    def take_over(self, stored):
        """A new password for a site whose API password nobody knows, stored as pending (in a plan,
        held in memory only); the ERP password is then reset as the admin, never checked by a
        sign-in."""
        flow = self.flow
        with flow.step(STAGE, writes=not flow.check):
            password = generate(min_length=MIN_LENGTH)
            flow.secrets.add(password)
            stored = Passwords(pending=password) if flow.check else self.store.stage(password)
        self.taking_over()
        return stored

    def taking_over(self):
        """The ERP password is reset as the admin: a sign-in with the pending password, which the
        ERP has not been given yet, would only count a failure against the API user."""
        self.flow.site.user["update_password"] = "always"
        self.flow.record.taken_over = True

    def require_store(self):
        if self.store is None:
            with self.flow.step(STORE):
                raise ToolkitError("Rotating a site's password needs its password store: set api_user_password_store "
                                   "(vault_file with api_user_password_vault_id, or a shared store such as "
                                   "ocerra.acumatica.hashi_vault; README, Choosing a store).")

    def prepare(self):
        """A new password, stored as pending, for a site that is due (or any, forced); nothing
        else is touched. In the apply phase (nothing pending) only whether it is due."""
        flow = self.flow
        with flow.step(READ_USER):
            user = flow.user.read()
        age = password_age_days(user, flow.erp.seam.server_time)
        max_age = flow.site.max_age_days
        due = max_age is not None and age is not None and age >= max_age
        if flow.check and flow.phase == APPLY and (due or flow.force):
            self.plan_rotation()
            return
        if flow.phase == APPLY or not (due or flow.force):
            flow.record.rotation = NOT_DUE if max_age is not None and not due else NOTHING_PENDING
            return
        with flow.step(STAGE, writes=not flow.check):
            if not flow.check:
                self.stored = self.store.stage(generate(min_length=MIN_LENGTH), flow.site.user["password"])
                flow.secrets.add(self.stored.pending)
        flow.record.rotation = PENDING

    def plan_rotation(self):
        """A plan of a due site (rotate.yml --check): the prepare's password held in memory and
        the apply planned with it; the ERP is reset as the admin, as after a real prepare the
        pending password is never tried by a sign-in the ERP would count."""
        flow, stored = self.flow, self.stored
        password = generate(min_length=MIN_LENGTH)
        flow.secrets.add(password)
        self.stored = Passwords(stored.current, password, stored.previous, stored.version)
        flow.site.user.update(password=password, update_password="always")
        flow.record.rotation = DUE

    def promote(self):
        """Once the ERP and every entity hold the pending password (a sign-in with it worked,
        every entity is Connected), it becomes the current one."""
        flow = self.flow
        pending = self.stored and self.stored.pending
        if not pending or flow.check or flow.record.failed_step is not None:
            return
        if not (flow.record.erp.verified and all(r.connected for r in flow.record.entities.values())):
            return
        with flow.step(PROMOTE, writes=True):
            self.stored = self.store.promote(pending)
        flow.record.rotation = FINISHED

    def ensure_durable(self, moment):
        """I-durable: the password the ERP gets (before the reset) or holds (after the fan-out) is
        readable back from the store when it came from there. One that vanished or can no longer
        be read (a workspace reset, a checkout) is written back with what this run read, and the
        run says so; when even that fails, or another run replaced the store, the site fails."""
        flow, stored = self.flow, self.stored
        password = flow.site.user["password"]
        if self.store is None or flow.check or stored is None or password not in (stored.current, stored.pending):
            return
        with flow.step(STORE_CHECK):
            try:
                now = self.store.read()
            except StoreError:
                now = None
            if now is not None and password in (now.current, now.pending):
                return
            if now is not None and now.version:
                raise StoreError(f"The site's password store ({self.store.where}) no longer holds the password this run "
                                 f"is applying, {moment}: another run replaced it (version {now.version}). This run "
                                 "stops; find out which password is meant, then run again.")
            try:
                self.stored = self.store.write(Passwords(stored.current, stored.pending, stored.previous),
                                               0 if now is not None else stored.version, over_damaged=now is None)
            except ToolkitError as exc:
                raise PasswordNowhere(f"The site's password store ({self.store.where}) was {'gone' if now else 'unreadable'} "
                                      f"{moment} and could not be written back ({exc.message}). The API user's password "
                                      "is held only by the ERP and the entities now: restore the store from its copy, "
                                      "or run playbooks/restore_connection.yml with a new api_user_password, which sets "
                                      "one password in the ERP and every entity.") from None
            flow.record.store_written_back = f"The site's password store ({self.store.where}) was " \
                f"{'gone' if now else 'unreadable'} {moment}; this run wrote back the passwords it holds (encrypted, " \
                "as before)."

    def discard_pending(self):
        """The ERP's policy refused the pending password: drop it (the next prepare generates
        another) rather than try it again on every run."""
        stored = self.stored
        if not (stored and stored.pending):
            return
        with self.flow.step(DISCARD, writes=True):
            self.stored = self.store.write(Passwords(stored.current, None, stored.previous), stored.version)
        self.flow.record.rotation = DISCARDED
