"""User actions (§5.3): ResetPasswordOK, UnlockLogin, EnableLogin, DisableLogin, ActivateLogin,
each enabled only in the states the real graph allows; 204 with Location; 202 mode."""
import pytest

from tests.sandbox.acumatica_helpers import (ADMIN_PW, API_PW, NEW_PW, Client, admin, site_seed,
                                             user)

LOCKED = "Your account is locked out. Please contact your system administrator."


@pytest.fixture
def seed():
    return site_seed(installed=True, users=[
        user("Locked", locked=True), user("MustChange", force_change=True),
        user("Disabled", is_approved=False), user("Pending", pending=True)])


def login_status(sandbox, name, password):
    client = Client(sandbox)
    answer = client.login(name, password)
    if answer.status_code == 204:
        client.logout()
        return 204
    return answer.json()["exceptionMessage"]


def user_state(sandbox, name):
    users = sandbox.erp.state()["instances"][0]["tenants"][0]["users"]
    return next(u for u in users if u["username"] == name)


def test_reset_password_sets_it_and_clears_forced_change(sandbox):
    client = admin(sandbox)
    before = user_state(sandbox, "MustChange")["password_changed"]
    sandbox.clock.advance(60)
    answer = client.action("ResetPasswordOK", "MustChange", NewPassword=NEW_PW,
                           ConfirmPassword=NEW_PW)
    assert answer.status_code == 204 and answer.content == b""
    assert login_status(sandbox, "MustChange", NEW_PW) == 204
    assert login_status(sandbox, "MustChange", API_PW) == "Invalid credentials. Please try again."
    state = user_state(sandbox, "MustChange")
    assert not state["force_change"] and state["password_changed"] > before
    # The Statistics tab's Last Password Change, read through an endpoint that maps it.
    read = client.users("/MustChange").json()["LastPasswordChangedDate"]["value"]
    assert read == state["password_changed"] and read > before


@pytest.mark.parametrize("params,text", [
    ({"NewPassword": "", "ConfirmPassword": ""}, "'New Password' cannot be empty."),
    ({"NewPassword": NEW_PW, "ConfirmPassword": NEW_PW + "x"},
     "The entered password doesn't match the confirmation."),
    ({"NewPassword": "short", "ConfirmPassword": "short"},
     "The password length must be at least 14 characters.")])
def test_reset_password_refusals(sandbox, params, text):
    answer = admin(sandbox).action("ResetPasswordOK", "OcerraAPI", **params)
    assert answer.status_code == 500
    assert answer.json()["exceptionMessage"] == text
    assert login_status(sandbox, "OcerraAPI", API_PW) == 204


def test_reset_refuses_a_locked_user_until_unlocked(sandbox):
    client = admin(sandbox)
    refused = client.action("ResetPasswordOK", "Locked", NewPassword=NEW_PW,
                            ConfirmPassword=NEW_PW)
    assert refused.status_code == 500
    assert refused.json()["exceptionMessage"] == \
        "The user has not been found or is locked out. The password has not been reset."
    assert client.action("UnlockLogin", "Locked").status_code == 204
    state = user_state(sandbox, "Locked")
    assert not state["locked"] and state["failed_attempts"] == 0
    assert client.action("ResetPasswordOK", "Locked", NewPassword=NEW_PW,
                         ConfirmPassword=NEW_PW).status_code == 204
    assert login_status(sandbox, "Locked", NEW_PW) == 204


def test_enable_and_disable(sandbox):
    client = admin(sandbox)
    assert client.action("EnableLogin", "Disabled").status_code == 204
    assert client.action("ActivateLogin", "Pending").status_code == 204
    assert login_status(sandbox, "Disabled", API_PW) == 204
    assert login_status(sandbox, "Pending", API_PW) == 204
    assert client.action("DisableLogin", "OcerraAPI").status_code == 204
    assert "disabled" in login_status(sandbox, "OcerraAPI", API_PW)


def test_cannot_disable_own_account(sandbox):
    answer = admin(sandbox).action("DisableLogin", "admin")
    assert answer.status_code == 500
    assert answer.json()["exceptionMessage"] == "You cannot disable your own user account."
    assert login_status(sandbox, "admin", ADMIN_PW) == 204


def test_action_by_id_unknown_user_and_unknown_action(sandbox):
    client = admin(sandbox)
    rec = client.users("/Disabled").json()
    answer = client.post("entity/UserAdmin/1.0.0/User/EnableLogin", {"entity": {"id": rec["id"]}})
    assert answer.status_code == 204
    assert client.action("UnlockLogin", "Nobody").status_code == 500
    assert client.action("Explode", "OcerraAPI").status_code == 404
    unknown_param = client.action("ResetPasswordOK", "OcerraAPI", Whatever="x")
    assert unknown_param.status_code == 500


def test_action_mode_202_completes_on_the_last_poll(sandbox):
    sandbox.erp.set_switches({"action_mode": 202, "action_polls": 2})
    client = admin(sandbox)
    answer = client.action("UnlockLogin", "Locked")
    assert answer.status_code == 202
    location = answer.headers["Location"]
    assert location.startswith("/acme/entity/UserAdmin/1.0.0/User/UnlockLogin/status/")
    poll = f"{sandbox.acumatica_url}{location}"
    assert client.http.get(poll).status_code == 202
    assert user_state(sandbox, "Locked")["locked"]          # still running
    assert client.http.get(poll).status_code == 202
    assert client.http.get(poll).status_code == 204
    assert not user_state(sandbox, "Locked")["locked"]
    assert client.http.get(poll).status_code == 500         # gone once reported done


def test_action_mode_202_still_checks_up_front(sandbox):
    sandbox.erp.set_switches({"action_mode": 202})
    answer = admin(sandbox).action("DisableLogin", "admin")
    assert answer.status_code == 500


@pytest.mark.parametrize("action,name,button", [
    ("UnlockLogin", "OcerraAPI", "Unlock User"),        # active, not locked
    ("UnlockLogin", "Disabled", "Unlock User"),
    ("EnableLogin", "OcerraAPI", "Enable User"),
    ("EnableLogin", "Pending", "Enable User"),           # pending: Activate, not Enable
    ("DisableLogin", "Locked", "Disable User"),
    ("DisableLogin", "Pending", "Disable User"),
    ("ActivateLogin", "OcerraAPI", "Activate User"),
    ("ActivateLogin", "Disabled", "Activate User")])
def test_an_action_the_state_does_not_allow_is_refused_as_a_disabled_button(sandbox, action, name, button):
    before = user_state(sandbox, name)
    answer = admin(sandbox).action(action, name)
    assert answer.status_code == 500
    assert answer.json()["exceptionMessage"] == f"The {button} button is disabled."
    assert answer.json()["exceptionType"] == "PX.Data.PXActionDisabledException"
    assert user_state(sandbox, name) == before


def test_a_locked_and_disabled_user_is_enabled_first_then_unlocked(sandbox):
    sandbox.erp.upsert_user("acme", "Company", {"username": "Locked", "is_approved": False})
    client = admin(sandbox)
    assert client.action("UnlockLogin", "Locked").status_code == 500     # state D hides the lock
    assert client.action("EnableLogin", "Locked").status_code == 204
    assert client.action("UnlockLogin", "Locked").status_code == 204
    assert login_status(sandbox, "Locked", API_PW) == 204


def test_a_done_action_answers_204_with_the_record_location(sandbox):
    client = admin(sandbox)
    record = client.users("/Locked").json()
    answer = client.action("UnlockLogin", "Locked")
    assert answer.status_code == 204
    assert answer.headers["Location"] == f"/acme/entity/UserAdmin/1.0.0/User/{record['id']}"
