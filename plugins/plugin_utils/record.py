"""What one run of a site's flow recorded: its steps (each started, then done, failed or
interrupted), what it read of the API user and of every entity, and what it did to them.
site_outcome.py builds the site's report entry from a Record alone; the names of steps, error
kinds and rotation states below are the words the two share.
"""
from datetime import datetime

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica.errors import LoginLimitReached, PasswordRejected
from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import ToolkitError
from ansible_collections.ocerra.acumatica.plugins.module_utils.ocerra.client import CONNECTED

# The flows (the site task's `flow`) and the phases of a rotation.
PROVISION, RESTORE, REPORT, PUBLISH, ROTATE = "provision", "restore", "report", "publish", "rotate"
FLOWS = (PROVISION, RESTORE, REPORT, PUBLISH, ROTATE)
PREPARE, APPLY = "prepare", "apply"
PHASES = (PREPARE, APPLY)

# Steps, roughly in the order a flow takes them.
STORE = "store"                     # the password store read (or, for a rotation, found missing)
READ_USER = "read_user"             # the API user read
FIND_ENTITIES = "find_entities"     # restore, report: the entities that use the site and login
READ_ENTITIES = "read_entities"     # provision: the inventory's entities and the others found
ERP = "erp"                         # provision: the API user made to match (its password aside)
LOCK = "lock"                       # one change at a time: this machine's lock, the ERP unchanged
ENTITIES_OFF = "entities_off"       # every entity switched off before the ERP password changes
ERP_PASSWORD = "erp_password"       # the ERP password reset
VERIFY = "verify"                   # a sign-in as the API user with the password
ENTITIES_ON = "entities_on"         # the password given to each entity, switched on, tested
CONFIRM = "confirm"                 # after a change: the ERP's last change still this run's, entities read again
STORE_CHECK = "store_check"         # the password the ERP gets readable back from the store (written back if gone)
ROLLBACK = "rollback"               # a stopped change: what still works switched back on
STAGE = "stage"                     # rotate prepare: a new password stored as pending
PROMOTE = "promote"                 # the pending password made the current one
DISCARD = "discard"                 # a pending password the ERP's policy refused, dropped
PUBLISH_ENDPOINT = "publish"        # the User endpoint published

# Error kinds (ToolkitError.kind) the outcome tells apart.
LOCKOUT_GUARD = "lockout_guard"
CONCURRENT_CHANGE = "concurrent_change"
CONTROLLER_GONE = "controller_gone"
UNLISTED_ENTITIES = "unlisted_entities"
PASSWORD_NOWHERE = "password_nowhere"
DRIFTED = "drifted"
LOGIN_LIMIT = LoginLimitReached.kind
PASSWORD_REJECTED = PasswordRejected.kind

# What a site with a password store did with its pending password (Record.rotation).
PENDING, FINISHED, NOT_DUE, NOTHING_PENDING, DISCARDED = "pending", "finished", "not due", "nothing pending", "discarded"
DUE = "due"                         # a plan (check mode): a rotation would be prepared and applied


class LockoutRisk(ToolkitError):
    kind = LOCKOUT_GUARD


class ConcurrentChange(ToolkitError):
    kind = CONCURRENT_CHANGE


class ControllerGone(ToolkitError):
    kind = CONTROLLER_GONE


class UnlistedEntities(ToolkitError):
    kind = UNLISTED_ENTITIES


class PasswordNowhere(ToolkitError):
    """The password the ERP holds could not be made readable from the site's store."""

    kind = PASSWORD_NOWHERE


class Drifted(ToolkitError):
    """The site is not what the saved plan read or intended (plan.py)."""

    kind = DRIFTED


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (raised by the site action's handler)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


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

    def __init__(self, mode, check_mode, site, phase=APPLY):
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
        self.rotation = None        # the password store's pending password: PENDING, FINISHED, ...
        self.store_written_back = None  # what the run said when it wrote a vanished store back
        self.taken_over = False     # a site whose API password nobody knew: a new one generated
        self.diffs = []
        self.passing = []           # the indexes of diffs that are steps of the safe order
        self.warnings = []

    @property
    def failed_step(self):
        return next((s for s in self.steps if s.status in ("failed", "interrupted") and s.name != ROLLBACK),
                    None)

    def step(self, name):
        return next((s for s in self.steps if s.name == name), None)

    def add_entity(self, entity, declared=True):
        run = EntityRun(entity, declared)
        return self.entities.setdefault(run.key, run)


def password_age_days(user, now):
    """Whole days since the user's last password change (the ERP's clock), or None."""
    changed = when((user or {}).get("last_password_change"))
    return (now - changed).days if changed and now else None


def when(text):
    """An ISO 8601 time of either service as an aware datetime in whole seconds (Ocerra's
    dates have no fractions, so finer ERP times must not make a later test look earlier),
    or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).replace(microsecond=0)
    except ValueError:
        return None
