"""erp_user_info: the full state in three requests, no writes, check mode alike."""
import pytest

from tests.modules.erp_support import FULL, api_user


@pytest.mark.parametrize("check", [False, True])
def test_reports_the_full_state_without_writing(erp, check):
    erp.seed(api_user(locked=True, force_change=True, roles=["AP Clerk", "AR Clerk"]))
    result = erp.run("erp_user_info", check=check, myob=True)
    user = result["user"]
    assert not result["changed"] and erp.writes() == [] and erp.counters()["requests"] == 3
    assert (user["exists"], user["login"], user["status"], user["locked"], user["enabled"]) == \
        (True, "OcerraAPI", "Temporarily Locked", True, True)
    assert user["roles"] == ["AP Clerk", "AR Clerk"] and user["licence_types"] == [FULL]
    assert user["password_never_expires"] and user["force_password_change"]
    assert user["failed_attempts"] == 3 and user["locked_out_date"] and "last_login" in user


def test_absent_user_and_missing_endpoint(erp):
    erp.seed()
    assert erp.run("erp_user_info", login="Nobody")["user"] == {"exists": False}
    erp.seed(installed=False)
    assert erp.run("erp_user_info")["error_kind"] == "endpoint_not_published"


def test_without_myob_licence_types_are_not_read(erp):
    erp.seed(api_user())
    result = erp.run("erp_user_info")
    assert result["user"]["licence_types"] is None and result["user"]["roles"] == ["AP Clerk"]
    gets = [e["path"] for e in erp.requests() if e["method"] == "GET"]
    assert gets == ["/acme/entity/UserAdmin/1.0.0/User/OcerraAPI"]
