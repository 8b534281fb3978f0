"""erp_user's life cycle under every value of every switch of the fake Acumatica (one switch at a
time, the others at their defaults): publish the endpoint, create the user, leave it alone,
repair a lock and change the password. The values whose point is a failure are asserted to fail
clearly instead. Bounded: one short in-process story per value."""
import pytest

from sandbox.acumatica import switches as sw
from tests.modules.erp_support import DESIRED, NEW_PW

FAST = {"customization": {"publish_polls": 1}}
# Values the toolkit must refuse, with the words of its failure.
FAILING = {("roles_membership_durable", False): "did not keep",
           ("publish_outcome", "failed"): "Publishing",
           ("publish_outcome", "inband_error"): "finished with errors",
           ("publish_outcome", "lock_conflict"): "Another publication is in progress"}
VALUES = [(name, value) for name, values in sw.CHOICES.items() for value in values] + \
         [(name, value) for name in sorted(sw.BOOLS) for value in (True, False)]


def switches_for(name, value):
    if name in sw.DEFAULTS["customization"]:
        return {"customization": {**FAST["customization"], name: value}}
    return {**FAST, name: value}


@pytest.mark.parametrize("name,value", VALUES, ids=lambda v: str(v))
def test_the_user_life_cycle_under_every_switch_value(erp, name, value):
    plain = (name, value) == ("flavour", "acumatica")
    erp.seed(installed=False, switches=switches_for(name, value), flavour="acumatica" if plain else "myob")
    desired = {k: v for k, v in DESIRED.items() if not (plain and k == "licence_types")}
    created = erp.run(publish_endpoint=True, **desired)
    if (name, value) in FAILING:
        assert created.get("failed") and FAILING[(name, value)] in created["msg"], created
        return
    assert not created.get("failed"), created
    assert created["changed"] and "created" in created["actions"]
    assert not erp.run(**desired)["changed"]
    erp.patch_user(locked=True)
    repaired = erp.run(**desired)
    assert repaired["actions"][:2] == ["unlocked", "password_reset"], repaired
    changed = erp.run(**dict(desired, password=NEW_PW))
    assert changed["password_updated"] and erp.can_sign_in("OcerraAPI", NEW_PW)
    assert not erp.run(**dict(desired, password=NEW_PW))["changed"]
