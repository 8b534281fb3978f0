"""MYOB may ask a person to confirm "Password Never Expires" (switch never_expires_confirmation):
the API's write is then refused or silently not kept. The toolkit verifies by reading the user
back, says what to do (tick it by hand), and once a person has, finds it set."""
import pytest

from tests.modules.erp_support import DESIRED, api_user


@pytest.mark.parametrize("mode,said", [("refused", "it refused it: PasswordNeverExpires: Please confirm"),
                                       ("ignored", "reading the user back shows it unset")])
def test_a_never_expires_the_site_will_not_take_is_said_and_a_hand_tick_is_found(erp, mode, said):
    erp.seed(api_user(password_never_expires=False), switches={"never_expires_confirmation": mode})
    result = erp.run(**DESIRED)
    assert result["failed"] and "did not set 'Password Never Expires' on 'OcerraAPI'" in result["msg"], result
    assert said in result["msg"], result["msg"]
    assert "Tick it for that user on Users (SM201010) by hand" in result["msg"]
    assert erp.user()["password_never_expires"] is False
    erp.patch_user(password_never_expires=True)          # what the person does
    again = erp.run(**DESIRED)
    assert not again.get("failed") and not again["changed"], again
