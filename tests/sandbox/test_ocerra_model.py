"""The fake Ocerra's rules, on the model with a stub ERP (see test_ocerra_support)."""
import json

import pytest

from sandbox.ocerra import OcerraModel
from sandbox.ocerra.errors import OcerraError
from test_ocerra_support import (A, B, C, EMPLOYEE_ONLY, ERP, ERP_PW, FOREIGN, NEW_PW, SVC,
                                 SVC_PW, UNKNOWN, clock, erp, model, ocerra_seed)  # noqa: F401

SETTINGS_KEYS = {"clientId", "baseUrl", "tenant", "branch", "login", "password", "hasPassword",
                 "enableConnection", "autoExportStatuses", "status", "updatedDate"}


def fails(fn, *args):
    with pytest.raises(OcerraError) as err:
        fn(*args)
    return err.value


# ---- Basic auth and lock-out -----------------------------------------------------------------
def test_good_credentials_authenticate_case_insensitively(model):
    assert model.authenticate(SVC.upper(), SVC_PW) == SVC


@pytest.mark.parametrize("login,password", [(SVC, "wrong"), ("nobody@x", SVC_PW), (SVC, None),
                                            (None, None), ("2fa@partner.example", "TwoFa-Pw-1")])
def test_bad_or_2fa_credentials_get_an_empty_401_with_the_challenge(model, login, password):
    err = fails(model.authenticate, login, password)
    assert (err.status, err.body) == (401, None)
    assert err.headers == {"WWW-Authenticate": 'Basic realm="Ocerra"'}


def test_the_fifth_failure_locks_the_user_for_the_lockout_span(model, clock):
    for _ in range(4):
        fails(model.authenticate, SVC, "wrong")
    assert model.authenticate(SVC, SVC_PW) == SVC        # success resets the counter
    for _ in range(5):
        fails(model.authenticate, SVC, "wrong")
    assert fails(model.authenticate, SVC, SVC_PW).status == 401
    clock.advance(299)
    fails(model.authenticate, SVC, SVC_PW)
    clock.advance(2)
    assert model.authenticate(SVC, SVC_PW) == SVC


def test_lockout_threshold_and_span_are_switches(model, clock):
    model.set_switches({"basic_lockout_threshold": 2, "basic_lockout_seconds": 3600})
    for _ in range(2):
        fails(model.authenticate, SVC, "wrong")
    clock.advance(1800)
    fails(model.authenticate, SVC, SVC_PW)
    user = next(u for u in model.state()["users"] if u["login"] == SVC)
    assert user["lockoutEnd"] is not None
    model.set_switches({"basic_lockout_threshold": 0})
    clock.advance(1801)
    for _ in range(20):
        fails(model.authenticate, SVC, "wrong")
    assert model.authenticate(SVC, SVC_PW) == SVC


def test_a_2fa_user_with_the_right_password_still_gets_401(model):
    assert fails(model.authenticate, "2fa@partner.example", "TwoFa-Pw-1").status == 401


def test_ocerra_passwords_are_stored_hashed(model):
    assert SVC_PW not in repr(vars(model)) and SVC_PW not in json.dumps(model.state())


# ---- clients -----------------------------------------------------------------------------------
def test_current_and_other_clients(model):
    current = model.current_client(SVC)
    assert current == {"clientId": A, "name": "Acme Live", "isActive": True,
                       "financialSystemType": "Acumatica", "financialSystemUrl": ERP + "/acme",
                       "extraSettingsObj": None, "peopleClients": []}
    assert [c["clientId"] for c in model.other_clients(SVC)] == [B, C, EMPLOYEE_ONLY]


def test_rest_client_list_is_paged_from_zero(model):
    assert [c["clientId"] for c in model.list_clients(SVC)] == [A, B, C, EMPLOYEE_ONLY]
    assert [c["clientId"] for c in model.list_clients(SVC, "1", "3")] == [EMPLOYEE_ONLY]
    assert model.list_clients(SVC, "2", "3") == []
    for index, size in (("-1", "3"), ("0", "0"), ("x", "3")):
        assert fails(model.list_clients, SVC, index, size).status == 400


# ---- choosing the client -----------------------------------------------------------------------
def test_query_param_selection_checks_reach_role_and_existence(model):
    assert model.get_settings(SVC, B)["clientId"] == B
    assert model.get_settings(SVC, B.upper())["clientId"] == B
    for cid, status in ((None, 400), ("not-a-guid", 400), (UNKNOWN, 404), (FOREIGN, 403),
                        (EMPLOYEE_ONLY, 403)):
        assert fails(model.get_settings, SVC, cid).status == status
    denied = fails(model.put_settings, SVC, FOREIGN, {"tenant": "X"})
    assert denied.body == {"errorMessage": "Access denied"}
    assert fails(model.switch_client, SVC, B).status == 404


def test_switch_call_selects_the_current_client_and_ignores_the_parameter(model):
    model.set_switches({"client_selection": "switch_call"})
    assert model.switch_client(SVC, B)["clientId"] == B
    assert model.current_client(SVC)["clientId"] == B
    assert model.get_settings(SVC, A)["clientId"] == B      # the answer names the real target
    model.put_settings(SVC, None, {"tenant": "Switched"})
    assert model.get_settings(SVC)["tenant"] == "Switched"
    assert [c["clientId"] for c in model.other_clients(SVC)] == [A, C, EMPLOYEE_ONLY]
    assert fails(model.switch_client, SVC, FOREIGN).status == 403
    assert fails(model.switch_client, SVC, UNKNOWN).status == 404
    assert fails(model.switch_client, SVC, None).status == 400
    model.switch_client(SVC, EMPLOYEE_ONLY)                  # selecting needs no role ...
    assert fails(model.get_settings, SVC).status == 403      # ... reading the settings does


def test_one_user_per_client_acts_on_the_current_client_only(model):
    model.set_switches({"client_selection": "one_user_per_client"})
    assert model.get_settings(SVC, B)["clientId"] == A
    assert fails(model.switch_client, SVC, B).status == 404


# ---- the settings model and PUT validation -----------------------------------------------------
def test_settings_model_never_returns_the_password(model):
    got = model.get_settings(SVC, A)
    assert set(got) == SETTINGS_KEYS
    assert (got["password"], got["hasPassword"], got["enableConnection"]) == (None, True, True)
    assert got["status"]["code"] == "Connected"
    empty = model.state()["clients"][3]["settings"]
    assert (empty["hasPassword"], empty["status"]["code"]) == (False, "NotConfigured")


@pytest.mark.parametrize("body,message", [
    ([], "The request body must be a JSON object."),
    (None, "The request body must be a JSON object."),
    ({"colour": "red"}, "Unknown field 'colour'."),
    ({"status": {}}, "The field 'status' is read-only."),
    ({"hasPassword": True}, "The field 'hasPassword' is read-only."),
    ({"enableConnection": "yes"}, "The field 'enableConnection' must be a boolean."),
    ({"tenant": 5}, "The field 'tenant' must be a string."),
    ({"baseUrl": "/acme"}, "baseUrl must be an absolute http(s) URL."),
    ({"baseUrl": "ftp://erp/acme"}, "baseUrl must be an absolute http(s) URL."),
    ({"login": "", "enableConnection": True},
     "baseUrl and login are required to enable the connection."),
])
def test_invalid_puts_are_400_and_change_nothing(model, erp, body, message):
    before = model.get_settings(SVC, A)
    err = fails(model.put_settings, SVC, A, body)
    assert (err.status, err.body) == (400, {"errorMessage": message})
    assert model.get_settings(SVC, A) == before and model.audit() == [] and erp.calls == []


def test_null_leaves_a_field_as_it_is(model):
    got = model.put_settings(SVC, A, {"password": None, "login": None, "branch": "B2"})
    assert (got["branch"], got["login"], got["hasPassword"], got["enableConnection"]) == \
        ("B2", "OcerraAPI", True, True)


# ---- Enable Connection drops on a credential change --------------------------------------------
def test_on_save_drops_even_when_the_same_put_enables_then_a_second_put_reenables(model, erp):
    erp.passwords["OcerraAPI"] = NEW_PW
    got = model.put_settings(SVC, A, {"password": NEW_PW, "enableConnection": True})
    assert got["enableConnection"] is False and got["status"]["code"] == "Disabled"
    assert got["status"]["message"] == "The MYOB Acumatica connection is disabled."
    assert erp.calls == []
    got = model.put_settings(SVC, A, {"enableConnection": True})
    assert got["enableConnection"] is True and got["status"]["code"] == "Connected"
    assert [c["password"] for c in erp.calls] == [NEW_PW]


def test_a_login_change_drops_too(model):
    assert model.put_settings(SVC, A, {"login": "OcerraAPI2"})["enableConnection"] is False


def test_on_edit_honours_enable_in_the_same_put_and_drops_without_it(model, erp):
    model.set_switches({"enable_drop_mode": "on_edit"})
    erp.passwords["OcerraAPI"] = NEW_PW
    got = model.put_settings(SVC, A, {"password": NEW_PW, "enableConnection": True})
    assert (got["enableConnection"], got["status"]["code"]) == (True, "Connected")
    got = model.put_settings(SVC, B, {"password": NEW_PW})
    assert got["enableConnection"] is False
    assert model.put_settings(SVC, B, {"enableConnection": True})["enableConnection"] is True


def test_never_keeps_the_connection_enabled_and_tests_the_new_password(model, erp):
    model.set_switches({"enable_drop_mode": "never"})
    got = model.put_settings(SVC, A, {"password": NEW_PW})
    assert (got["enableConnection"], got["status"]["code"]) == (True, "InvalidCredentials")
    assert erp.calls[-1]["password"] == NEW_PW


@pytest.mark.parametrize("drops", [True, False])
def test_resending_the_same_password_drops_only_under_same_password_drops(model, drops):
    model.set_switches({"same_password_drops": drops})
    assert model.put_settings(SVC, A, {"password": ERP_PW})["enableConnection"] is not drops
    assert ("password" in model.audit()[0]["fields"] if drops else model.audit() == [])
    assert model.put_settings(SVC, B, {"password": NEW_PW})["enableConnection"] is False


# ---- Save runs the test ------------------------------------------------------------------------
def test_save_signs_in_with_the_stored_settings_when_left_enabled(model, erp, clock):
    clock.advance(60)
    got = model.put_settings(SVC, A, {"autoExportStatuses": "Submitted, Approved"})
    assert erp.calls == [{"base_url": ERP + "/acme", "tenant": "Company", "branch": "HQ",
                          "login": "OcerraAPI", "password": ERP_PW, "verify": True}]
    assert got["status"]["code"] == "Connected"
    assert got["updatedDate"] and got["status"]["checkedDate"] >= got["updatedDate"]
    model.put_settings(SVC, C, {"tenant": "Other"})       # stays disabled: no sign-in
    assert len(erp.calls) == 1


def test_without_save_runs_test_the_status_waits_for_an_explicit_test(model, erp):
    model.set_switches({"save_runs_test": False})
    model.put_settings(SVC, C, {"enableConnection": True})
    assert erp.calls == [] and model.get_settings(SVC, C)["status"]["code"] == "Disabled"
    assert model.test_connection(SVC, C)["status"]["code"] == "Connected"
    assert model.get_settings(SVC, C)["status"]["code"] == "Connected"


def test_disabling_sets_status_disabled(model, erp):
    got = model.put_settings(SVC, A, {"enableConnection": False})
    assert got["status"]["code"] == "Disabled" and erp.calls == []


# ---- the connection test ---------------------------------------------------------------------
@pytest.mark.parametrize("outcome,code", [
    ("connected", "Connected"), ("invalid_credentials", "InvalidCredentials"),
    ("account_locked", "AccountLocked"), ("account_disabled", "InvalidCredentials"),
    ("password_change_required", "PasswordChangeRequired"), ("licence_limit", "LicenseLimit"),
    ("tenant_not_found", "TenantNotFound"), ("unreachable", "Unreachable")])
def test_each_erp_outcome_maps_to_its_status_code(model, erp, outcome, code):
    erp.forced = outcome
    result = model.test_connection(SVC, A)
    assert result["status"]["code"] == code == model.get_settings(SVC, A)["status"]["code"]
    assert set(result) == {"id", "uid", "successMessage", "warningMessage", "errorMessage",
                           "inProgressMessage", "status"}
    message = result["successMessage"] if code == "Connected" else result["errorMessage"]
    assert message == result["status"]["message"]


def test_locked_and_success_texts_are_the_confirmed_ones(model, erp):
    assert model.test_connection(SVC, A)["successMessage"] == "Connection was successful."
    erp.forced = "account_locked"
    assert model.test_connection(SVC, A)["errorMessage"].startswith("Your account is locked")


def test_a_test_of_a_disabled_connection_runs_but_keeps_disabled(model, erp):
    result = model.test_connection(SVC, C)
    assert result["status"]["code"] == "Connected" and result["warningMessage"]
    assert len(erp.calls) == 1 and model.get_settings(SVC, C)["status"]["code"] == "Disabled"


def test_an_unconfigured_connection_is_not_configured_without_any_sign_in(model, erp):
    model.set_switches({"client_selection": "one_user_per_client"})
    model.put_settings(SVC, None, {"password": ""})
    result = model.test_connection(SVC)
    assert result["status"]["code"] == "NotConfigured" and erp.calls == []


def test_custom_status_texts_replace_the_confirmed_ones(model, erp):
    other = "Connection successful. Current year and period."     # the second confirmed text
    model.set_switches({"status_texts": {"Connected": other}})
    assert model.test_connection(SVC, A)["status"]["message"] == other
    erp.forced = "invalid_credentials"
    assert model.test_connection(SVC, A)["status"]["message"] == \
        "Invalid credentials. Please try again."


@pytest.mark.parametrize("changes", [{"nope": 1}, {"enable_drop_mode": "sometimes"},
                                     {"save_runs_test": "yes"}, {"basic_lockout_threshold": -1},
                                     {"status_texts": {"Happy": "x"}}, {"error_body": "html"}])
def test_bad_switches_are_refused_and_change_nothing(model, changes):
    before = model.switches()
    with pytest.raises(ValueError):
        model.set_switches(changes)
    assert model.switches() == before


# ---- error shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,status,content_type", [
    ("empty_401", 401, None), ("problem_details_400", 400, "application/problem+json"),
    ("string_500", 500, "text/plain; charset=utf-8")])
def test_error_body_switch_reshapes_400_403_and_404(model, shape, status, content_type):
    model.set_switches({"error_body": shape})
    for cid, message in ((FOREIGN, "Access denied"), (UNKNOWN, "Client not found."),
                         (None, "The clientId parameter is required.")):
        err = fails(model.get_settings, SVC, cid)
        assert (err.status, err.content_type) == (status, content_type)
        if shape == "empty_401":
            assert err.body is None and "WWW-Authenticate" in err.headers
        elif shape == "problem_details_400":
            assert err.body["detail"] == message and err.body["status"] == 400
        else:
            assert err.body == message


# ---- audit, counters, reset, seed --------------------------------------------------------------
def test_audit_names_changed_fields_never_values(model):
    model.put_settings(SVC, A, {"password": NEW_PW, "tenant": "Company", "branch": "B2"})
    model.put_settings(SVC, A, {"tenant": "Company"})      # no change: no entry
    [entry] = model.audit()
    assert entry["clientId"] == A and entry["user"] == SVC
    assert entry["fields"] == ["branch", "enableConnection", "password"]
    assert NEW_PW not in json.dumps(model.audit())


def test_tests_and_syncs_are_counted_per_client(model):
    model.test_connection(SVC, A)
    fails(model.test_connection, SVC, FOREIGN)               # denied: no test ran
    model.sync()
    assert model.counters() == {A: {"tests": 1, "syncs": 1}, B: {"syncs": 1}}


def test_on_target_names_an_existing_client_even_when_access_is_denied(model):
    seen = []
    model.get_settings(SVC, A, on_target=seen.append)
    fails(model.put_settings, SVC, FOREIGN, {}, seen.append)
    fails(model.get_settings, SVC, UNKNOWN, seen.append)
    model.current_client(SVC, on_target=seen.append)
    assert seen == [A, FOREIGN, A]


def test_reset_restores_the_seed_and_clears_everything(model, clock):
    model.set_switches({"enable_drop_mode": "never"})
    model.put_settings(SVC, A, {"tenant": "Changed"})
    for _ in range(5):
        fails(model.authenticate, SVC, "wrong")
    model.reset()
    assert (model.audit(), model.counters(), model.authenticate(SVC, SVC_PW)) == ([], {}, SVC)
    assert model.switches()["enable_drop_mode"] == "on_save"
    assert model.get_settings(SVC, A)["tenant"] == "Company"
    model.reset(ocerra_seed(enable_drop_mode="on_edit"))
    assert model.switches()["enable_drop_mode"] == "on_edit"


def test_seed_substitutes_the_acumatica_url_and_checks_references(clock, erp):
    model = OcerraModel(clock, erp_signin=erp).from_seed(ocerra_seed(), "http://127.0.0.1:8601/")
    assert model.get_settings(SVC, A)["baseUrl"] == "http://127.0.0.1:8601/acme"
    bad = ocerra_seed()
    bad["users"][0]["clients"].append(UNKNOWN)
    with pytest.raises(ValueError, match=UNKNOWN):
        model.reset(bad)
    bad["users"][0]["clients"][-1] = {"id": A, "role": "owner"}
    with pytest.raises(ValueError, match="role"):
        model.reset(bad)
    model.reset()
    assert model.get_settings(SVC, A)["baseUrl"] == "http://127.0.0.1:8601/acme"


def test_erp_verify_reaches_the_sign_in(clock, erp):
    model = OcerraModel(clock, erp_signin=erp, erp_verify="/tmp/ca.pem")
    model.from_seed(ocerra_seed(), ERP)
    model.test_connection(SVC, A)
    assert erp.calls[0]["verify"] == "/tmp/ca.pem"


def test_the_default_sign_in_is_the_real_probe(clock):
    """Nothing listens on port 9 of loopback: the real erp_probe must report Unreachable."""
    model = OcerraModel(clock).from_seed(ocerra_seed(), "http://127.0.0.1:9")
    assert model.test_connection(SVC, A)["status"]["code"] == "Unreachable"
