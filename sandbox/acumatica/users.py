"""SM201010 (Users) seen through one endpoint's User entity: records (§6), upsert (§5, §7)
and actions (§5.3). Works on DAC fields; contract names come from the endpoint definition,
so only what the endpoint maps is readable or writable."""
import copy
import uuid
from dataclasses import replace
from functools import partial

from . import security, texts
from .endpoint import USERS, VALUE_TYPES
from .errors import (ActionFailed, BadRequest, EntityHasErrors, KeyNotFound, NoEntity,
                     PreconditionFailed)
from .query import evaluate
from .state import User

LABELS = {"Username": "Login", "Email": "Email", "Password": "Password",
          "NewPassword": "New Password", "ConfirmPassword": "Confirm Password"}
ROW_KEYS = {"id", "rowNumber", "note", "custom", "_links", "delete"}
RECORD_KEYS = ROW_KEYS | {"error"}
_PY_TYPES = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}
# What cf.Type(f='View.Field') may name in a $filter: every field of the screen's main view,
# mapped or not (the password is never readable).
CUSTOM_FIELDS = {"UserList": {k: v for k, v in USERS["UserList"].items() if k != "Password"}}


def _iso(when):
    return when.isoformat() if when else None


def state_code(user, sec, now, online) -> str:
    """A, O (signed in), D, L or P (§5.1); `online`: casefolded usernames with a session."""
    if user.pending:
        return "P"
    if not user.is_approved:
        return "D"
    if security.is_locked(user, sec, now):
        return "L"
    return "O" if user.username.casefold() in online else "A"


def allowed_sessions(tenant, user, default) -> int:
    """The user's concurrent-session cap as the Users form shows it: the user's own, else
    its type's, else the instance's default."""
    user_type = tenant.user_types.get(user.user_type)
    return user.allowed_sessions or (user_type and user_type.max_sessions) or default


def _row_id(user, kind, name):
    return str(uuid.uuid5(uuid.UUID(user.id), f"{kind}:{name}"))


class Users:
    """One request's view of a tenant's users through `entity` (an SM201010 entity)."""

    def __init__(self, tenant, entity, endpoint, switches, now, online=frozenset(),
                 sessions_default=3, url=""):
        self.tenant, self.entity, self.endpoint = tenant, entity, endpoint
        self.switches, self.now, self.online = switches, now, online
        self.sessions_default = sessions_default
        self.url = url          # /{instance}/entity/{endpoint}/{version}/{entity}: for _links
        self.sec = tenant.security

    # ---- reading ----------------------------------------------------------------------------
    def value(self, user, source):
        if source == "State":
            code = state_code(user, self.sec, self.now, self.online)
            return code if self.switches["state_format"] == "codes" else texts.STATE_LABELS[code]
        return {"Username": user.username, "FirstName": user.first_name,
                "LastName": user.last_name, "Email": user.email, "LoginTypeID": user.user_type,
                "IsApproved": user.is_approved, "GeneratePassword": False,
                "PasswordNeverExpires": user.password_never_expires,
                "PasswordChangeOnNextLogin": user.force_change,
                "AllowedSessions": allowed_sessions(self.tenant, user, self.sessions_default),
                "LockedOutDate": _iso(user.locked_out_date),
                "FailedPasswordAttemptCount": user.failed_count,
                "LastLoginDate": _iso(user.last_login),
                "LastPasswordChangedDate": _iso(user.password_changed)}[source]

    def rows(self, user, field):
        """Detail rows: every role the user type allows, or every licence type (§5.2)."""
        detail = self.endpoint.details[field.detail]
        if field.view == "AllowedRoles":
            items = [("role", name, {"Rolename": name, "Selected": name in user.roles})
                     for name in self.tenant.allowed_roles(user.user_type)]
        else:
            items = [("licence", lt.name, {"LicenseType": lt.name,
                                           "Selected": lt.name in user.licence_types,
                                           "Description": lt.description,
                                           "Available": self.tenant.seats_left(lt.name)})
                     for lt in self.tenant.licence_types.values()]
        out = []
        for number, (kind, name, values) in enumerate(items, 1):
            row = {"id": _row_id(user, kind, name), "rowNumber": number}
            row.update({f.name: {"value": values[f.source]} for f in detail.fields.values()})
            out.append({**row, "custom": {}})
        return out

    def record(self, user, select=None, expand=(), number=1, only=None):
        """The record JSON; `only` limits scalars to those names (a PUT answers what it got)."""
        rec = {"id": user.id, "rowNumber": number, "note": {"value": user.note}}
        for name, f in self.entity.fields.items():
            if f.detail:
                if name in expand:
                    rec[name] = self.rows(user, f)
            elif f.source != "Password" and (select is None or name in select) and (
                    only is None or name in only):
                rec[name] = {"value": self.value(user, f.source)}
        rec["custom"] = {}
        if "files" in expand:
            rec["files"] = [{"id": file_id, "filename": name, "href": f"{self.files_url}/{file_id}"}
                            for name, (file_id, _) in sorted(user.files.items())]
        rec["_links"] = {"self": f"{self.url}/{user.id}", "files:put": f"{self.url}/{user.id}/files/{{filename}}"}
        return rec

    @property
    def files_url(self):
        return self.url.split("/entity/", 1)[0] + "/entity/files"

    def attach(self, key, filename, content):
        """PUT {ids}/files/{filename}: attach (or replace) a file on the record."""
        user = self.by_url_key(key)
        if user is None:
            raise NoEntity()
        old = user.files.get(filename)
        user.files[filename] = (old[0] if old else str(uuid.uuid4()), bytes(content))

    def file(self, file_id):
        """The content of an attached file, by its id."""
        for user in self.tenant.users.values():
            for found, content in user.files.values():
                if found == file_id:
                    return content
        raise NoEntity()

    def matching(self, expr):
        """The tenant's users that satisfy a parsed $filter (None: all), in key order."""
        def value_of(user, ref):
            source = ref.dac or self.entity.fields[ref.name].source
            return self.value(user, source)
        return [u for u in self.tenant.users.values()
                if evaluate(expr, lambda ref, u=u: value_of(u, ref))]

    def find(self, key=None, id_=None):
        if id_ is not None:
            return next((u for u in self.tenant.users.values() if u.id == str(id_)), None)
        return self.tenant.users.get(str(key).casefold()) if key is not None else None

    def by_url_key(self, key):
        try:
            return self.find(id_=str(uuid.UUID(key))) or self.find(key=key)
        except ValueError:
            return self.find(key=key)

    def ad_hoc_schema(self):
        rec = {"id": None, "rowNumber": 1, "note": {"value": None}}
        for name, f in self.entity.fields.items():
            if f.detail:
                detail = self.endpoint.details[f.detail]
                rec[name] = [{"id": None, "rowNumber": 1, "custom": {},
                              **{d: {"value": None} for d in detail.fields}}]
            else:
                rec[name] = {"value": None}
        return {**rec, "custom": {}}

    # ---- writing ----------------------------------------------------------------------------
    def _scalars(self, body):
        """{DAC field: value} of the scalars sent; KeyNotFound for unmapped names."""
        given = {}
        for name, wrapped in body.items():
            if name in RECORD_KEYS:
                continue
            f = self.entity.fields.get(name)
            if f is None:
                raise KeyNotFound(name)
            if f.detail:
                if not isinstance(wrapped, list):
                    raise BadRequest(f"The value of '{name}' must be an array of records.")
                continue
            if not isinstance(wrapped, dict) or "value" not in wrapped:
                raise BadRequest(f"The value of '{name}' must be an object with a 'value'.")
            value = wrapped["value"]
            kind = _PY_TYPES.get(VALUE_TYPES[f.type][0])
            if value is not None and kind and (not isinstance(value, kind) or
                                               (kind is int and isinstance(value, bool))):
                raise BadRequest(f"Cannot convert the value of '{name}' to {f.type}.")
            given[f.source] = value
        return given

    def put(self, body, if_match=None, if_none_match=None, select=None, expand=(), where=None,
            update_only=False):
        """Upsert by `id` or key, or update the record a $filter (`where`) selects (§7);
        returns (user, record). Nothing changes on an error."""
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        given = self._scalars(body)
        key = given.get("Username")
        if where is not None:
            existing = next(iter(self.matching(where)), None)
            if existing is None:
                raise NoEntity()     # assumed: a filter that selects nothing inserts nothing
        else:
            existing = self.find(id_=body["id"]) if body.get("id") else self.find(key=key)
        if (body.get("id") or update_only) and existing is None:
            raise NoEntity()
        if if_none_match == "*" and existing is not None:
            raise PreconditionFailed(texts.PRECONDITION_EXISTS)
        if if_match == "*" and existing is None:
            raise PreconditionFailed(texts.PRECONDITION_MISSING)
        inserting = existing is None
        user = (copy.deepcopy(existing) if existing else
                User(key or "", None, None, force_change=self._type_forces_change(given)))
        if isinstance(body.get("note"), dict):
            user.note = body["note"].get("value")
        errors, row_errors = {}, {}
        self._apply_scalars(user, given, inserting, existing, errors)
        self._apply_rows(user, body, row_errors)
        if errors or row_errors:
            raise EntityHasErrors(self._error_record(user, body, errors, row_errors, inserting))
        stored = user
        if not self.switches["roles_membership_durable"]:
            # The PUT answers with the new roles, but they do not persist (§5.2, 3P).
            stored = replace(user, roles=set(existing.roles) if existing else set())
        if existing is not None:
            del self.tenant.users[existing.username.casefold()]
        self.tenant.users[stored.username.casefold()] = stored
        # Contract v4 answers with the fields sent; detail rows only when in $expand.
        sent = {n for n in body if n in self.entity.fields} | {self.entity.contract("Username")}
        return stored, self.record(user, select, set(expand), only=None if select else sent)

    def _type_forces_change(self, given):
        user_type = self.tenant.user_types.get(given.get("LoginTypeID"))
        return bool(user_type and user_type.password_change_on_next_login)

    def _apply_scalars(self, user, given, inserting, existing, errors):
        """Writable scalars onto `user`; read-only ones (State, dates, counters) are ignored."""
        contract = self.entity.contract
        name = given.get("Username", user.username)
        if not name:
            errors[contract("Username")] = texts.EMPTY.format(LABELS["Username"])
        else:
            clash = self.find(key=name)
            if clash is not None and clash is not existing:
                errors[contract("Username")] = texts.LOGIN_EXISTS
            user.username = name
        if "Email" in given or inserting:
            if not given.get("Email"):
                errors[contract("Email") or "Email"] = texts.EMPTY.format(LABELS["Email"])
            user.email = given.get("Email")
        if given.get("LoginTypeID") is not None and given["LoginTypeID"] not in self.tenant.user_types:
            errors[contract("LoginTypeID")] = texts.NOT_FOUND_IN_SYSTEM.format(given["LoginTypeID"])
        elif "LoginTypeID" in given:
            typed = inserting or given["LoginTypeID"] != user.user_type
            user.user_type = given["LoginTypeID"]
            user.roles &= set(self.tenant.allowed_roles(user.user_type))
            if typed and given["LoginTypeID"]:     # the type's IsDefault roles (PX.SM.Access)
                user.roles |= set(self.tenant.user_types[user.user_type].default_roles)
        for source, attr in (("FirstName", "first_name"), ("LastName", "last_name"),
                             ("AllowedSessions", "allowed_sessions")):
            if source in given:
                setattr(user, attr, given[source])
        confirm = self.switches["never_expires_confirmation"]
        if given.get("PasswordNeverExpires") is True and not user.password_never_expires and confirm != "applied":
            if confirm == "refused":
                errors[contract("PasswordNeverExpires") or "PasswordNeverExpires"] = texts.CONFIRM_NEVER_EXPIRES
            given = {k: v for k, v in given.items() if k != "PasswordNeverExpires"}
        for source, attr in (("IsApproved", "is_approved"),
                             ("PasswordNeverExpires", "password_never_expires"),
                             ("PasswordChangeOnNextLogin", "force_change")):
            if given.get(source) is not None:      # a checkbox cannot be emptied
                setattr(user, attr, given[source])
        self._apply_password(user, given, inserting, errors)

    def _apply_password(self, user, given, inserting, errors):
        """On insert GeneratePassword (default true) wins over Password; on update Password
        is silently ignored unless no password is stored (§5.4), or switch says applied."""
        field = self.entity.contract("Password") or "Password"
        if inserting and given.get("GeneratePassword", True) is not False:
            new = security.generated_password(self.sec)
        else:
            takes = (inserting or not user.password_hash or
                     self.switches["password_on_update"] == "applied")
            new = given.get("Password") if takes else None
            if not new:
                if inserting:
                    errors[field] = texts.EMPTY.format(LABELS["Password"])
                return
            problem = security.policy_error(new, self.sec)
            if problem:
                errors[field] = problem
                return
        user.password_hash = security.hash_password(new)
        user.password_changed = self.now

    def _apply_rows(self, user, body, row_errors):
        for name, f in self.entity.fields.items():
            if f.detail and name in body:
                for index, row in enumerate(body[name]):
                    problem = self._apply_row(user, f, row)
                    if problem:
                        row_errors[(name, index)] = problem

    def _apply_row(self, user, f, row):
        """None, or (contract field of the row, error text)."""
        detail = self.endpoint.details[f.detail]
        names = {d.source: d.name for d in detail.fields.values()}
        if not isinstance(row, dict):
            raise BadRequest(f"The rows of '{f.name}' must be objects.")
        is_role = f.view == "AllowedRoles"
        key_name = names.get("Rolename" if is_role else "LicenseType")
        if row.get("delete"):
            return key_name, texts.ROW_NOT_DELETABLE.format(f.name)
        unknown = set(row) - ROW_KEYS - set(names.values())
        if unknown:
            raise KeyNotFound(sorted(unknown)[0])
        keys = self.tenant.allowed_roles(user.user_type) if is_role else list(
            self.tenant.licence_types)
        by_id = {_row_id(user, "role" if is_role else "licence", k): k for k in keys}
        key = by_id.get(row.get("id")) or (row.get(key_name) or {}).get("value")
        selected = (row.get(names.get("Selected")) or {}).get("value")
        if is_role:
            allowed = {r.casefold(): r for r in keys}
            role = allowed.get(str(key).casefold())
            if role is None:
                return key_name, texts.ROLE_NOT_ALLOWED.format(key, user.user_type or "")
            if selected is not None:
                (user.roles.add if selected else user.roles.discard)(role)
            return None
        licence = next((n for n in keys if n.casefold() == str(key).casefold()), None)
        if licence is None:
            return key_name, texts.UNKNOWN_LICENCE.format(key)
        if selected and licence not in user.licence_types:
            left = self.tenant.seats_left(licence)
            if left is not None and left <= 0:
                return names.get("Selected"), texts.NO_SEATS.format(licence)
            user.licence_types.add(licence)
        elif selected is False:
            user.licence_types.discard(licence)
        return None

    def _error_record(self, user, body, errors, row_errors, inserting):
        """The record as sent, never echoing a password, with the errors on it (§7)."""
        rec = {"id": user.id, "rowNumber": 1, "note": {"value": user.note}}
        for name, value in body.items():
            if name in RECORD_KEYS:
                continue
            f = self.entity.fields[name]
            if f.detail:
                rec[name] = [copy.deepcopy(r) for r in value]
            else:
                rec[name] = {"value": None if f.source == "Password" else value.get("value")}
        for name, text in errors.items():
            rec.setdefault(name, {"value": None})["error"] = text
        for (name, index), (field, text) in row_errors.items():
            row = rec[name][index]
            if field:
                row.setdefault(field, {"value": None})
                row[field]["error"] = text
            else:
                row["error"] = text
        rec["custom"] = {}
        rec["error"] = texts.RECORD_ERRORS.format("Inserting" if inserting else "Updating")
        return rec

    # ---- actions (§5.3) -------------------------------------------------------------------
    def action_target(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("entity"), dict):
            raise BadRequest("The body must be {\"entity\": {...}, \"parameters\": {...}}.")
        entity = body["entity"]
        if entity.get("id"):
            user = self.find(id_=entity["id"])
        else:
            key = (entity.get(self.entity.contract("Username") or "Username") or {}).get("value")
            user = self.find(key=key)
        if user is None:
            raise NoEntity()
        return user

    def prepare(self, action, body, actor):
        """Check an action now; returns a callable that performs it."""
        user = self.action_target(body)
        params = body.get("parameters") or {}
        by_source = {}
        for name, wrapped in params.items():
            p = action.parameters.get(name)
            if p is None:
                raise KeyNotFound(name)
            by_source[p.source] = (wrapped or {}).get("value") if isinstance(wrapped, dict) else None
        graph = action.mapped_to
        if graph == "ResetPasswordOK":
            new, confirm = by_source.get("NewPassword"), by_source.get("ConfirmPassword")
            if not new:
                raise ActionFailed(texts.EMPTY.format(LABELS["NewPassword"]))
            if new != confirm:
                raise ActionFailed(texts.PASSWORD_MISMATCH)
            if security.is_locked(user, self.sec, self.now):
                raise ActionFailed(texts.RESET_REFUSED)
            problem = security.policy_error(new, self.sec)
            if problem:
                raise ActionFailed(problem)
            hashed = security.hash_password(new)
            effect = partial(_reset, hashed=hashed)
        elif graph == "DisableLogin" and actor.casefold() == user.username.casefold():
            raise ActionFailed(texts.DISABLE_SELF)
        else:
            if state_code(user, self.sec, self.now, self.online) not in ENABLED_IN[graph]:
                raise ActionFailed(texts.BUTTON_DISABLED.format(texts.BUTTONS[graph]),
                                   "PX.Data.PXActionDisabledException")
            effect = EFFECTS[graph]
        tenant, user_id = self.tenant, user.id

        def perform(now):
            # Looked up again: a 202 action completes later, after other writes.
            target = next((u for u in tenant.users.values() if u.id == user_id), None)
            if target is not None:
                effect(target, now)
        return perform


def _reset(user, now, hashed):
    user.password_hash, user.password_changed, user.force_change = hashed, now, False


def _unlock(user, _now):
    user.locked_out_date = None
    user.failed_count, user.failed_window_start = 0, None


def _enable(user, _now):
    user.is_approved = True


def _disable(user, _now):
    user.is_approved = False


def _activate(user, _now):
    user.is_approved, user.pending = True, False


EFFECTS = {"UnlockLogin": _unlock, "EnableLogin": _enable, "DisableLogin": _disable, "ActivateLogin": _activate}
# The states (state_code) in which each button is enabled (PX.SM.Users, code); otherwise
# PXActionDisabledException.
ENABLED_IN = {"UnlockLogin": "L", "EnableLogin": "D", "DisableLogin": "AO", "ActivateLogin": "P"}
