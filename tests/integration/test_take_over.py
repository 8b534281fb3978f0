"""Taking over a site whose API password nobody knows (issue 27): the site has a password store
that is still empty and the inventory gives no api_user_password, the state of every imported
site. provision.yml and rotate.yml both take it over in one run: a password generated to the
policy is stored as pending before anything is written, set in the ERP as the admin (no sign-in
as the API user with a password nobody knows), verified, given to every entity, and promoted."""
import pytest

from tests.integration.helpers import decrypt
from tests.integration.safe_change import Fakes, provisioned_seed

pytestmark = pytest.mark.integration

STORE = "api_user_password_store: vault_file\napi_user_password_vault_id: sandbox\n"


def stored(site):
    """acme's store as (current, pending, previous)."""
    import yaml
    path = site.inventory / ".api-user-passwords" / "acme.yml"
    data = yaml.safe_load(decrypt(path.read_text()))
    return data.get("current"), data.get("pending"), data.get("previous")


@pytest.fixture
def unknown(sandbox, site):
    """Every site provisioned; acme's API password known to nobody: a store that holds nothing
    and no api_user_password in the inventory."""
    sandbox.reset(seed=provisioned_seed(site))
    site.drop_secret("acme", "api_user_password")
    site.append("acme", STORE)
    return site


@pytest.mark.parametrize("playbook", ["provision.yml", "rotate.yml"])
def test_a_site_whose_api_password_nobody_knows_is_taken_over_in_one_run(unknown, sandbox, playbook):
    site, fakes = unknown, Fakes(sandbox)
    failures = fakes._user("acme").failed_count
    plan = site.play(playbook, "--check", "-l", "acme", *(["-e", "rotate_force=true"] if playbook == "rotate.yml"
                                                          else []))
    assert plan.rc == 0 and plan.statuses() == {"acme": "changed"}, plan
    assert "would be stored as pending" in plan.report["sites"]["acme"]["reason"]
    assert not (site.inventory / ".api-user-passwords").exists() and not site.erp_write_requests()

    run = site.play(playbook, "-l", "acme", *(["-e", "rotate_force=true"] if playbook == "rotate.yml" else []))
    assert run.rc == 0 and run.statuses() == {"acme": "changed"}, run
    entry = run.report["sites"]["acme"]
    assert entry["reason"].startswith("Take-over (nobody knew the API user's password)"), entry["reason"]
    current, pending, _previous = stored(site)
    site.extra_secrets.add(current)
    site.assert_no_secret(run)
    assert current and pending is None and entry["rotation"] == "finished"
    assert fakes.in_order("acme", current)
    # The ERP password was reset as the admin: no sign-in as the API user ever failed.
    assert fakes._user("acme").failed_count == failures and not fakes.locked("acme")
    again = site.provision("-l", "acme")
    assert again.statuses() == {"acme": "ok"} and stored(site)[0] == current


def test_a_report_of_such_a_site_says_who_takes_it_over_and_sends_nothing(unknown):
    run = unknown.play("report.yml", "-l", "acme")
    reason = run.report["sites"]["acme"]["reason"]
    assert run.statuses() == {"acme": "failed"} and "Nobody knows the API user's password" in reason, reason
    assert "provision.yml or rotate.yml takes the site over" in reason
    assert not unknown.erp_log()
