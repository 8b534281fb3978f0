"""MYOB: "Force User to Change Password" applies only while "Allow Password Changes" is on. The
sandbox models the flag; erp_user's life cycle passes with it off (the forced change cleared as
usual) and with it on (the sign-in asks for a change, the toolkit clears it)."""
import pytest

from tests.modules.erp_support import API_PW, DESIRED, Site, api_user


@pytest.mark.parametrize("allowed", [True, False])
def test_a_forced_change_counts_only_while_password_changes_are_allowed(sandbox, allowed):
    erp = Site(sandbox)
    erp.seed(api_user(force_change=True, allow_password_changes=allowed))
    assert erp.user()["allow_password_changes"] is allowed
    assert erp.can_sign_in("OcerraAPI", API_PW) is (not allowed)
    result = erp.run(**DESIRED)
    assert not result.get("failed") and result["changed"], result
    assert erp.user()["force_change"] is False and erp.can_sign_in("OcerraAPI", API_PW)
    erp.assert_sessions_balanced()


def test_on_plain_acumatica_the_flag_does_not_lift_a_forced_change(sandbox):
    erp = Site(sandbox)
    erp.seed(api_user(force_change=True, allow_password_changes=False, licence_types=[]), flavour="acumatica")
    assert not erp.can_sign_in("OcerraAPI", API_PW)
