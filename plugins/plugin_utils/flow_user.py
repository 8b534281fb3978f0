"""The API user's part of a site's flow, as the ERP admin: read it, make it match the inventory
(acumatica/user.py), guard it against lock-out, verify its password by signing in as it. Every
sign-in as the API user whose outcome is not known is preceded by a read of its failed sign-in
count: one more failure must never reach the site's lock-out threshold.

The admin is signed out after each of these, before the flow writes to Ocerra or waits: a run
killed meanwhile then holds no ERP session (MYOB allows the admin one by default, and the ERP
frees an abandoned one only after ten minutes), so the next run can sign in at once.
"""
from contextlib import contextmanager

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as user_engine
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.client import PROBE_OK
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.errors import EndpointNotPublished
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.password_step import at_lockout_risk
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.record import ConcurrentChange, LockoutRisk


class FlowUser:
    def __init__(self, flow):
        self.flow = flow
        self.own_change = None      # the ERP's last password change this run made
        self._admin_uses = 0        # nested admin() blocks share one session

    @property
    def login(self):
        return self.flow.site.login

    def ensure(self, prepared=None, **overrides):
        """One erp_user run in the flow's admin session: read (publishing a missing endpoint
        when allowed), decide the password step, plan (or take `prepared`, what prepare()
        read ahead), write what differs (not in check mode)."""
        flow = self.flow
        params = dict(flow.site.user, **overrides)
        with self.admin():
            result, before = user_engine.ensure(flow.erp, params, flow.check, prepared)
        flow.record.erp.read = flow.record.erp.read or before
        flow.record.erp.add(result)
        if result["password_updated"]:
            self.own_change = (result["user"] or {}).get("last_password_change")
        flow.diff(result["diff"], "API user %s" % self.login)

    def prepare(self, **overrides):
        """The reads of ensure() (admin sign-in, the user, the verification sign-in) made ahead,
        while the entities are being listed: (Prepared or None, the error it met). None when
        the endpoint is missing: publishing it is a write, left to the ERP step."""
        flow = self.flow
        params = dict(flow.site.user, publish_endpoint=False, **overrides)
        try:
            with self.admin():
                return user_engine.Prepared(flow.erp, params, flow.check), None
        except EndpointNotPublished:
            return None, None
        except ToolkitError as exc:
            return None, exc

    def read(self):
        erp = self.flow.record.erp
        with self.admin():
            user = user_engine.view(self.flow.erp.get_user(self.login))
        erp.read = erp.read or user
        erp.user = user
        return user

    @contextmanager
    def admin(self):
        """The admin's session for what runs inside (one session for nested blocks: a check and
        the write it guards go in one), signed out after it (a failure warns)."""
        self._admin_uses += 1
        try:
            yield
        finally:
            self._admin_uses -= 1
            if not self._admin_uses:
                try:
                    self.flow.erp.sign_out()
                except ToolkitError as exc:
                    self.flow.warn(exc.message)

    def guard(self, user, doing):
        """Stop when one more failed sign-in could lock the API user out."""
        threshold = self.flow.site.user.get("lockout_threshold")
        if user.get("locked") or at_lockout_risk(user, threshold):
            raise LockoutRisk(
                f"Stopped before {doing}: '{self.login}' on MYOB Acumatica {self.flow.erp.site} "
                f"{'is locked out' if user.get('locked') else 'has %s failed sign-in(s)' % user.get('failed_attempts')}"
                f" and its lock-out threshold is {threshold}, so one more failed sign-in could lock it out for "
                "every entity. Nothing was signed in. The count goes back to 0 at the next successful sign-in "
                "and restarts after the lock-out window (10 minutes by default) at the next failure; make sure "
                "nothing else signs in with a wrong password, then run again (restore_connection.yml resets the "
                "password without signing in).")

    def verify(self, own_change):
        """Sign in as the API user with the site's password before any entity gets it. Right
        after this run set it (the ERP's last password change still the one this run made),
        the sign-in cannot fail on the password; otherwise the lock-out guard applies."""
        flow = self.flow
        user = self.read()
        changed_at = user.get("last_password_change")
        if own_change:
            if changed_at != self.own_change:
                raise ConcurrentChange(
                    f"The password of '{self.login}' changed again (at {changed_at}) after this run set "
                    "it: another run or a person changed it meanwhile. This run stops; the entities it "
                    "switched off stay off. Find out which password is meant, then run again.")
        else:
            self.guard(user, "verifying the password by signing in as the API user")
        outcome = flow.erp.probe_signin(self.login, flow.site.user["password"])
        if outcome != PROBE_OK:
            raise ToolkitError(
                f"Signing in as '{self.login}' on MYOB Acumatica {flow.erp.site} with the inventory's "
                f"password was refused ({outcome}){' right after this run set it' if own_change else ''}: "
                "no entity was given it. " + ("Check the user on Users (SM201010)." if own_change else
                                              "Run restore_connection.yml to reset it."), reason=outcome)
        flow.record.erp.verified = True
