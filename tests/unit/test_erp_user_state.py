"""The user field table and plan engine: None = unmanaged, sets for roles, one plan for both modes."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import errors as ae
from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as us

FULL, LIMITED = "Full User (Full API)", "Limited API"


def record(**over):
    """A read of OcerraAPI as the endpoint returns it (labels; roles AP Clerk; Full licence)."""
    fields = dict(Username="OcerraAPI", Email="api@acme.example", FirstName="Ocerra", LastName="API",
                  LoginTypeID="API User", IsApproved=True, PasswordNeverExpires=True,
                  PasswordChangeOnNextLogin=False, AllowedSessions=None, State="Active",
                  LockedOutDate=None, FailedPasswordAttemptCount=0, LastLoginDate=None,
                  LastPasswordChangedDate="2026-01-01T00:00:00+00:00")
    roles = over.pop("roles", {"AP Clerk": True, "AR Clerk": False})
    licences = over.pop("licences", {FULL: (True, 2), LIMITED: (False, 0), "Self Service User": (False, None)})
    fields.update(over)
    rec = {"id": "u-1", "rowNumber": 1, **{k: {"value": v} for k, v in fields.items()}, "custom": {}}
    rec["Roles"] = [{"id": f"r{i}", "Rolename": {"value": n}, "Selected": {"value": s}}
                    for i, (n, s) in enumerate(roles.items())]
    rec["LicenseTypes"] = [{"LicenseType": {"value": n}, "Selected": {"value": s}, "Available": {"value": a}}
                           for n, (s, a) in licences.items()]
    return rec


def plan(rec, mode="exact", step=None, **desired):
    return us.plan_present(rec, {"login": "OcerraAPI", **desired}, mode=mode, password_step=step,
                           site="S", login="OcerraAPI")


def test_view_has_no_secret_sorted_sets_and_labels():
    view = us.view(record(Password="Secret-Canary-1x", roles={"b": True, "A": True, "c": False}))
    assert "Secret-Canary-1x" not in str(view)
    assert {k for k in view if "password" in k} == {"password_never_expires", "force_password_change",
                                                    "last_password_change"}
    assert view["roles"] == ["A", "b"] and view["licence_types"] == [FULL]
    assert view["status"] == "Active" and not view["locked"] and view["enabled"]


@pytest.mark.parametrize("state,locked_out,locked", [("L", None, True), ("Temporarily Locked", None, True),
                                                      ("A", None, False), (None, "2026-01-01", True)])
def test_view_reads_lock_from_state_code_label_or_date(state, locked_out, locked):
    view = us.view(record(State=state, LockedOutDate=locked_out))
    assert view["locked"] is locked


def test_unset_options_are_not_managed():
    p = plan(record(Email="OTHER@x", FirstName="Someone"))
    assert not p.updated and not p.password and p.diff == {"before": {}, "after": {}}


def test_equal_values_compare_like_the_site():
    p = plan(record(), email=" API@ACME.example ", user_type="api user", roles=["ap clerk"],
             licence_types=[FULL.upper()], password_never_expires=True)
    assert not p.updated


def test_create_predicts_everything_and_writes_one_insert():
    p = plan(None, step="set", email="a@x", roles=["AP Clerk"], licence_types=[FULL], user_type="API User",
             password_never_expires=True, enabled=True)
    assert p.create and p.password == "set"
    assert p.fields == {"Email": "a@x", "LoginTypeID": "API User", "PasswordNeverExpires": True,
                        "IsApproved": True, "PasswordChangeOnNextLogin": False}
    assert p.rows == {"Roles": [("AP Clerk", True)], "LicenseTypes": [(FULL, True)]}
    assert p.diff["before"]["exists"] is False and p.diff["after"]["password"] == "(changed)"
    assert p.actions == ["created", "password_set"]


def test_exact_roles_add_and_remove_additive_only_adds():
    rec = record(roles={"AP Clerk": True, "AR Clerk": False, "GL Clerk": True})
    exact = plan(rec, roles=["AR Clerk", "AP Clerk"])
    assert exact.rows == {"Roles": [("AR Clerk", True), ("GL Clerk", False)]}
    assert exact.after["roles"] == ["AP Clerk", "AR Clerk"]
    assert exact.actions == ["roles_added: AR Clerk", "roles_removed: GL Clerk"]
    additive = plan(rec, mode="additive", roles=["AR Clerk"])
    assert additive.rows == {"Roles": [("AR Clerk", True)]}
    assert additive.after["roles"] == ["AP Clerk", "AR Clerk", "GL Clerk"]


def test_role_the_user_type_does_not_allow_fails_before_writing():
    with pytest.raises(ae.RoleNotAllowed) as err:
        plan(record(), roles=["AP Clerk", "Administrator"])
    assert "Administrator" in err.value.message and "AP Clerk, AR Clerk" in err.value.message
    assert "'API User'" in err.value.message


def test_role_check_waits_for_the_site_when_the_user_type_changes():
    p = plan(record(), roles=["Administrator"], user_type="Admin")
    assert p.rows["Roles"] == [("Administrator", True), ("AP Clerk", False)]


def test_licence_without_seats_or_unknown_fails_listing_available_ones():
    with pytest.raises(ae.LicenceUnavailable) as err:
        plan(record(), licence_types=[FULL, LIMITED])
    assert LIMITED in err.value.message
    assert f"{FULL} (2 free)" in err.value.message and "Self Service User (unlimited)" in err.value.message
    with pytest.raises(ae.LicenceUnavailable):
        plan(record(), licence_types=["Nope"])


def test_lock_flag_and_enable_are_repaired_and_ordered():
    p = plan(record(State="Temporarily Locked", PasswordChangeOnNextLogin=True, IsApproved=False),
             step="reset", enabled=True)
    assert p.unlock and p.enable is True and p.password == "reset"
    assert p.fields == {"PasswordChangeOnNextLogin": False}
    assert p.actions == ["enabled", "unlocked", "password_reset", "force_password_change_cleared"]
    assert p.diff == {"before": {"locked": True, "enabled": False, "password": None,
                                 "force_password_change": True},
                      "after": {"locked": False, "enabled": True, "password": "(changed)",
                                "force_password_change": False}}
    assert p.after["status"] == "Active"


def test_password_step_alone_is_not_an_update():
    p = plan(record(), step="reset")
    assert p.password == "reset" and not p.updated


def test_absent():
    p = us.plan_absent(record())
    assert p.delete and p.actions == ["deleted"] and p.diff["after"]["exists"] is False
    assert not us.plan_absent(None).delete


def test_mismatches_compare_written_keys_only():
    p = plan(record(), roles=["AR Clerk"], email="new@x")
    actual = dict(p.after, roles=[], status="Online")
    assert us.mismatches(p, actual) == ["roles"]


class _Refusing:
    """A client whose every user action answers "The ... button is disabled."."""

    def __init__(self):
        self.sent = []

    def user_action(self, action, login, parameters=None):
        self.sent.append(action)
        error = ae.UnexpectedAnswer("refused")
        error.failure = ae.Failure(ae.ACTION_DISABLED, 500, "The Unlock User button is disabled.")
        raise error


def test_an_unlock_refused_because_the_lock_expired_is_not_an_error_but_other_refusals_are():
    client = _Refusing()
    us._act(client, "UnlockLogin", "OcerraAPI", None)
    with pytest.raises(ae.UnexpectedAnswer):
        us._act(client, "EnableLogin", "OcerraAPI", None)
    assert client.sent == ["UnlockLogin", "EnableLogin"]
    assert ae.classify(type("R", (), {"status_code": 500, "headers": {}, "text": "",
                                      "json": lambda self: {"exceptionMessage": "The Enable User button is disabled.",
                                                            "exceptionType": "PX.Data.PXActionDisabledException"}})()
                       ).code == ae.ACTION_DISABLED
