"""erp_user run in-process against the sandbox: the issue's scenarios, each with balanced sessions."""
import pytest

from tests.modules.erp_support import API_PW, DESIRED, FULL, LIMITED, NEW_PW, SELF, api_user, erp_seed


def test_fresh_site_creates_the_user_with_roles_licence_and_never_expires(erp):
    erp.seed()
    result = erp.run(**DESIRED)
    assert result["changed"] and result["updated"] and result["password_updated"]
    assert result["actions"] == ["created", "password_set"]
    user = erp.user()
    assert user["roles"] == ["AP Clerk"] and user["licence_types"] == [FULL]
    assert user["password_never_expires"] and not user["force_change"] and user["user_type"] == "API User"
    assert result["user"]["roles"] == ["AP Clerk"] and result["user"]["status"] == "Active"
    assert erp.can_sign_in("OcerraAPI", API_PW)


def test_second_run_is_unchanged_with_zero_writes_and_at_most_five_requests(erp):
    erp.seed()
    erp.run(**DESIRED)
    erp.clear_log()
    result = erp.run(**DESIRED)
    assert not result["changed"] and result["actions"] == [] and result["diff"] == {"before": {}, "after": {}}
    counts = erp.counters()
    assert counts["writes"] == 0 and erp.writes() == []
    # admin sign-in, one GET of the user, probe sign-in + sign-out as OcerraAPI, admin sign-out
    assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in erp.requests()] == [
        ("POST", "login"), ("GET", "OcerraAPI"), ("POST", "login"), ("POST", "logout"), ("POST", "logout")]
    assert counts["requests"] == 5 <= 5


def test_check_mode_writes_nothing_and_predicts_the_real_runs_diff(erp):
    erp.seed(api_user(roles=["AP Clerk", "GL Clerk"], password="Old-Password-123xyz", locked=True,
                      force_change=True, password_never_expires=False, email="old@acme.example"))
    desired = dict(DESIRED, roles=["AP Clerk", "AR Clerk"], first_name="Ocerra", enabled=True)
    predicted = erp.run(check=True, **desired)
    assert erp.writes() == [] and erp.counters()["writes"] == 0
    real = erp.run(**desired)
    assert predicted["diff"] == real["diff"] and predicted["actions"] == real["actions"]
    assert predicted["changed"] and (predicted["updated"], predicted["password_updated"]) == (True, True)
    assert real["actions"] == ["unlocked", "password_reset", "first_name_changed", "email_changed",
                               "password_never_expires_changed", "force_password_change_cleared",
                               "roles_added: AR Clerk", "roles_removed: GL Clerk"]
    assert real["diff"]["after"]["password"] == "(changed)" and real["diff"]["before"]["locked"] is True
    assert {k: predicted["user"][k] for k in real["diff"]["after"] if k != "password"} == \
        {k: real["user"][k] for k in real["diff"]["after"] if k != "password"}


def test_check_mode_of_a_creation_matches_the_creation(erp):
    erp.seed()
    predicted = erp.run(check=True, **DESIRED)
    assert erp.writes() == [] and erp.user() is None
    assert predicted["diff"] == erp.run(**DESIRED)["diff"]


def test_role_removed_by_hand_is_restored_and_additive_keeps_extra_roles(erp):
    erp.seed(api_user(roles=["AP Clerk", "AR Clerk"]))
    desired = dict(DESIRED, roles=["AP Clerk", "AR Clerk"])
    assert not erp.run(**desired)["changed"]
    erp.patch_user(roles=["AP Clerk"])
    result = erp.run(**desired)
    assert result["actions"] == ["roles_added: AR Clerk"] and not result["password_updated"]
    assert result["diff"] == {"before": {"roles": ["AP Clerk"]}, "after": {"roles": ["AP Clerk", "AR Clerk"]}}
    assert erp.user()["roles"] == ["AP Clerk", "AR Clerk"]
    erp.patch_user(roles=["AP Clerk", "AR Clerk", "GL Clerk"])
    assert not erp.run(roles_mode="additive", **desired)["changed"]
    assert erp.run(**desired)["actions"] == ["roles_removed: GL Clerk"]


def test_locked_user_is_unlocked_then_its_password_reset_without_a_probe(erp):
    erp.seed(api_user(password="Some-Old-Password-77x", locked=True))
    result = erp.run(**DESIRED)
    assert result["actions"] == ["unlocked", "password_reset"] and result["password_updated"]
    assert erp.user_counters("OcerraAPI")["signins"] + erp.user_counters("OcerraAPI")["failed_signins"] == 0
    assert not erp.user()["locked"] and erp.can_sign_in("OcerraAPI", API_PW)


def test_forced_change_flag_is_cleared_and_the_right_password_kept(erp):
    erp.seed(api_user(force_change=True))
    result = erp.run(**DESIRED)
    assert result["actions"] == ["force_password_change_cleared"] and not result["password_updated"]
    assert not erp.user()["force_change"] and erp.can_sign_in("OcerraAPI", API_PW)


def test_forced_change_flag_with_a_wrong_password_also_resets_it(erp):
    erp.seed(api_user(force_change=True, password="Reset-By-Upgrade-2023x"))
    result = erp.run(**DESIRED)
    assert result["actions"] == ["password_reset", "force_password_change_cleared"]
    assert erp.can_sign_in("OcerraAPI", API_PW)


def test_wrong_password_is_reset_after_one_probe(erp):
    erp.seed(api_user(password="Drifted-Password-55x"))
    result = erp.run(**DESIRED)
    assert result["actions"] == ["password_reset"] and result["password_updated"] and not result["updated"]
    assert erp.user_counters("OcerraAPI")["failed_signins"] == 1
    assert erp.can_sign_in("OcerraAPI", API_PW)


def test_defer_password_change_applies_the_rest_and_reports_pending(erp):
    erp.seed(api_user(password="Drifted-Password-55x", roles=[]))
    result = erp.run(defer_password_change=True, **DESIRED)
    assert result["password_change_pending"] and not result["password_updated"]
    assert result["actions"] == ["roles_added: AP Clerk"] and "password" not in result["diff"]["after"]
    result = erp.run(**dict(DESIRED, update_password="always"))
    assert result["actions"] == ["password_reset"] and not result["password_change_pending"]


def test_update_password_always_resets_every_run_and_on_create_never_probes(erp):
    erp.seed(api_user())
    assert erp.run(**dict(DESIRED, update_password="always"))["actions"] == ["password_reset"]
    assert erp.run(**dict(DESIRED, update_password="always"))["password_updated"]
    erp.clear_log()
    result = erp.run(**dict(DESIRED, password=NEW_PW, update_password="on_create"))
    assert not result["changed"] and erp.user_counters("OcerraAPI")["signins"] == 0
    assert erp.can_sign_in("OcerraAPI", API_PW)


def test_disabled_user_is_enabled_and_its_password_reset(erp):
    erp.seed(api_user(is_approved=False))
    result = erp.run(enabled=True, **DESIRED)
    assert result["actions"] == ["enabled", "password_reset"] and result["user"]["enabled"]
    assert erp.run(enabled=True, **DESIRED)["changed"] is False
    result = erp.run(enabled=False, **DESIRED)
    assert result["actions"] == ["disabled"] and not result["password_updated"]
    assert erp.run(enabled=False, **DESIRED)["changed"] is False


def _typed_defaults_seed(*users):
    seed = erp_seed(*users)
    api_type = seed["acumatica"]["instances"][0]["tenants"][0]["user_types"][1]
    api_type["default_roles"] = ["AR Clerk"]          # IsDefault on the API User type
    return seed


def test_a_new_user_s_default_roles_are_removed_in_exact_mode_and_said(erp):
    erp.sandbox.reset(seed=_typed_defaults_seed())
    result = erp.run(**DESIRED)
    assert not result.get("failed"), result
    assert "roles_removed: AR Clerk (the user type's defaults)" in result["actions"]
    assert result["user"]["roles"] == ["AP Clerk"] and erp.user()["roles"] == ["AP Clerk"]
    again = erp.run(**DESIRED)
    assert again["changed"] is False


def test_a_new_user_keeps_its_default_roles_in_additive_mode(erp):
    erp.sandbox.reset(seed=_typed_defaults_seed())
    result = erp.run(roles_mode="additive", **DESIRED)
    assert not result.get("failed"), result
    assert "roles_defaulted: AR Clerk" in result["actions"]
    assert sorted(erp.user()["roles"]) == ["AP Clerk", "AR Clerk"]
    assert erp.run(roles_mode="additive", **DESIRED)["changed"] is False


def test_a_pending_user_is_activated_not_enabled(erp):
    erp.seed(api_user(pending=True, is_approved=True))
    result = erp.run(enabled=True, **DESIRED)
    assert not result.get("failed"), result
    assert result["actions"][0] == "activated" and result["user"]["status"] in ("Active", "Online")
    assert "/User/ActivateLogin" in " ".join(e["path"] for e in erp.requests())
    assert erp.can_sign_in("OcerraAPI", API_PW) and erp.run(enabled=True, **DESIRED)["changed"] is False


def test_a_disabled_locked_user_left_disabled_is_not_unlocked(erp):
    erp.seed(api_user(locked=True, is_approved=False))
    result = erp.run(**DESIRED)                       # enabled not managed: it stays disabled
    assert not result.get("failed"), result
    assert "unlocked" not in result["actions"]
    assert not [e for e in erp.requests() if e["path"].endswith("/UnlockLogin")]


def test_unavailable_licence_fails_listing_the_available_ones(erp):
    erp.seed(api_user())
    result = erp.run(**dict(DESIRED, licence_types=[LIMITED]))
    assert result["failed"] and result["error_kind"] == "licence_unavailable"
    assert LIMITED in result["msg"] and f"{FULL} (3 free)" in result["msg"] and f"{SELF} (unlimited)" in result["msg"]
    assert erp.writes() == []


@pytest.mark.parametrize("check", [False, True])
def test_unavailable_licence_on_creation_fails_before_any_write_and_lists_the_free_ones(erp, check):
    """The seats are read first (the admin's record lists them), so neither the plan nor the
    run tries to create a user the site would refuse."""
    erp.seed()
    result = erp.run(check=check, **dict(DESIRED, licence_types=[LIMITED]))
    assert result["failed"] and result["error_kind"] == "licence_unavailable"
    assert "Licence type(s) Limited API cannot be assigned" in result["msg"]
    assert f"{FULL} (4 free)" in result["msg"] and erp.user() is None and erp.writes() == []


def test_a_licence_the_site_refuses_on_creation_is_reported_with_its_text(erp, monkeypatch):
    """When the seats looked free but the site still refuses (another user took the last one
    meanwhile), its own text is in the message."""
    from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as user_engine
    erp.seed()
    monkeypatch.setattr(user_engine, "check_new_user_licences", lambda client, desired: None)
    result = erp.run(**dict(DESIRED, licence_types=[LIMITED]))
    assert result["failed"] and result["error_kind"] == "licence_unavailable"
    assert "No licenses of the 'Limited API' type are available" in result["msg"] and erp.user() is None


@pytest.mark.parametrize("existing", [True, False])
def test_role_the_user_type_does_not_allow_fails_actionably(erp, existing):
    erp.seed(*([api_user()] if existing else []))
    result = erp.run(**dict(DESIRED, roles=["Administrator"]))
    assert result["failed"] and result["error_kind"] == "role_not_allowed"
    assert "Administrator" in result["msg"] and "'API User'" in result["msg"] and "EP202500" in result["msg"]
    assert (erp.user() is not None) is existing


def test_password_breaking_the_policy_fails_before_any_request(erp):
    erp.seed()
    erp.clear_log()
    result = erp.run(**dict(DESIRED, password="short1A"))
    assert result["failed"] and result["error_kind"] == "password_policy"
    assert "14 characters" in result["msg"] and erp.requests() == []


@pytest.mark.parametrize("status", [500, 401, 400])
def test_wrong_admin_password_fails_once_and_is_not_retried(erp, status):
    erp.seed(api_user(), switches={"signin_failure_status": status})
    result = erp.run(**dict(DESIRED, admin_password="Not-The-Admin-Pass-1"))
    assert result["failed"] and result["error_kind"] == "invalid_credentials"
    assert "Not retried" in result["msg"] and "tenant 'Company'" in result["msg"] and "'admin'" in result["msg"]
    assert erp.user_counters("admin")["failed_signins"] == 1 and len(erp.requests()) == 1


@pytest.mark.parametrize("status", [500, 401, 400])
def test_probe_classifies_the_same_under_every_sign_in_status(erp, status):
    erp.seed(api_user(password="Drifted-Password-55x"), switches={"signin_failure_status": status})
    assert erp.run(**DESIRED)["actions"] == ["password_reset"]
    erp.seed(api_user(force_change=True), switches={"signin_failure_status": status})
    assert erp.run(**DESIRED)["actions"] == ["force_password_change_cleared"]


def test_role_membership_that_does_not_persist_is_an_error(erp):
    erp.seed(api_user(roles=[]), switches={"roles_membership_durable": False})
    result = erp.run(**DESIRED)
    assert result["failed"] and result["error_kind"] == "write_not_durable"
    assert "did not keep the membership" in result["msg"] and "SM201010" in result["msg"]


def test_actions_answering_202_with_a_location_are_followed(erp):
    erp.seed(api_user(password="Some-Old-Password-77x", locked=True, is_approved=False),
             switches={"action_mode": 202, "action_polls": 2})
    result = erp.run(enabled=True, **DESIRED)
    assert result["actions"] == ["enabled", "unlocked", "password_reset"]   # the order the states allow
    polls = [e for e in erp.requests() if "/status/" in e["path"]]
    assert len(polls) == 9 and {e["status"] for e in polls} == {202, 204}
    assert erp.user()["is_approved"] and erp.can_sign_in("OcerraAPI", API_PW)


@pytest.mark.parametrize("ends_sessions", [True, False])
def test_publish_endpoint_installs_it_in_the_same_run_signing_in_again_after_the_recycle(erp, ends_sessions):
    erp.seed(installed=False, switches={"customization": {"publish_polls": 1}, "publish_ends_sessions": ends_sessions})
    assert erp.run(**DESIRED)["error_kind"] == "endpoint_not_published"
    result = erp.run(publish_endpoint=True, **DESIRED)
    assert result["actions"] == ["endpoint_published", "created", "password_set"]
    counters = erp.user_counters("admin")
    # One per run, one after each publish (licence types are managed: the core, then the MYOB edition).
    assert counters["signins"] == 4
    assert counters["signouts"] == (2 if ends_sessions else 4)   # a session that survived is signed out
    assert not erp.run(publish_endpoint=True, **DESIRED)["changed"]


def test_absent_deletes_and_then_is_unchanged(erp):
    erp.seed(api_user())
    assert erp.run(state="absent", check=True)["changed"] and erp.user() is not None
    result = erp.run(state="absent")
    assert result["actions"] == ["deleted"] and result["user"] == {"exists": False} and erp.user() is None
    assert not erp.run(state="absent")["changed"]


def test_creation_needs_email_and_password(erp):
    erp.seed()
    result = erp.run(login="OcerraAPI", roles=["AP Clerk"])
    assert result["failed"] and "needs email and password" in result["msg"]


@pytest.mark.parametrize("form", ["json500", "json429", "redirect302", "redirect302_message", "iis429"])
def test_api_login_limit_is_retried_within_the_budget_then_reported(erp, form):
    erp.seed(api_user(), switches={"login_limit_response": form}, max_api_users=1)
    from tests.modules.erp_support import ADMIN_PW
    import requests
    holder = requests.Session()
    base = f"{erp.sandbox.acumatica_url}/acme/entity/auth"
    assert holder.post(f"{base}/login", json={"name": "admin", "password": ADMIN_PW, "tenant": "Company"},
                       timeout=10).status_code == 204
    try:
        result = erp.run(retry_timeout=3, **DESIRED)
    finally:
        holder.post(f"{base}/logout", data=b"", timeout=10)
    assert result["failed"] and result["error_kind"] == "login_limit"
    assert "API Login Limit" in result["msg"] and "10 minutes" in result["msg"] and "SM203510" in result["msg"]
    assert result["waited_seconds"] <= 3 and erp.user_counters("admin")["failed_signins"] >= 1


def test_every_exit_path_signs_out_even_an_unexpected_exception(erp, monkeypatch):
    from ansible_collections.ocerra.acumatica.plugins.module_utils.acumatica import user as user_manager
    erp.seed(api_user())
    erp.sandbox.erp.faults.add("status", path="/User/OcerraAPI$", status=200, body="<html>proxy</html>")
    result = erp.run(**DESIRED)
    assert result["failed"] and "not JSON" in result["msg"]
    monkeypatch.setattr(user_manager, "plan_present", lambda *a, **k: 1 / 0)
    result = erp.run(**DESIRED)
    assert result["failed"] and "ZeroDivisionError" in result["msg"] and "toolkit bug" in result["msg"]
    assert erp.user_counters("admin")["signins"] == 2   # the fixture checks every sign-in was signed out


def test_updates_send_only_the_differing_fields_and_passwords_only_by_the_reset_action(erp):
    erp.seed(api_user(password="Drifted-Password-55x", email="old@acme.example"))
    erp.run(**DESIRED)
    puts = [e for e in erp.requests() if e["method"] == "PUT"]
    assert [e["body"] for e in puts] == [{"Username": {"value": "OcerraAPI"},
                                          "Email": {"value": "ocerraapi@acme.example"}}]
    assert [e["path"].rsplit("/", 1)[-1] for e in erp.requests() if e["method"] == "POST"] == [
        "login", "login", "ResetPasswordOK", "logout"]


@pytest.mark.parametrize("existing", [True, False])
def test_a_site_policy_stricter_than_myobs_rejects_the_password_with_its_own_text(erp, existing):
    erp.seed(*([api_user(password="Drifted-But-Long-Enough-Password-1x")] if existing else []), min_length=30)
    result = erp.run(**DESIRED)
    assert result["failed"] and result["error_kind"] == "password_rejected"
    assert "must be at least 30 characters" in result["msg"] and "SM201060" in result["msg"]
