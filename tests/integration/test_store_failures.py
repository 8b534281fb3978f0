"""A site whose password store cannot be used is never reported ok (issue 26): every playbook that
works on the site fails it with a reason naming the store and what is wrong, before any request to
it, and `./run validate` says the same offline. The other sites run."""
import re
import subprocess
import sys

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.integration.helpers import ROOT, VAULT_PASSWORD, decrypt
from tests.integration.safe_change import Fakes, provisioned_seed
from tests.integration.test_playbook_inventory import assert_untouched

pytestmark = pytest.mark.integration

STORE = "api_user_password_store: vault_file\napi_user_password_vault_id: sandbox\n"
SANDBOX_SECRET = VaultSecret(VAULT_PASSWORD.encode())
OTHER_SECRET = VaultSecret(b"not-the-sandbox-vault-password")
PLAYBOOKS = ["provision.yml", "restore_connection.yml", "report.yml", "rotate.yml"]
# (A store that holds nothing while the inventory gives no password is a take-over: test_take_over.py.)
HOW = ["truncated", "corrupt", "empty", "plaintext", "other_vault_password", "missing_vault_id"]


def store_file(site):
    return site.inventory / ".api-user-passwords" / "acme.yml"


def encrypted(text, secret=SANDBOX_SECRET):
    return VaultLib([("sandbox", secret)]).encrypt(text, secret, vault_id="sandbox")


def damage(site, how):
    """acme's store as a mishap leaves it (it held the inventory's password as current); the
    words the reason must say."""
    path = store_file(site)
    raw = path.read_bytes()
    if how == "missing_vault_id":        # a partner's vault id the run was not given
        site.vars_file("acme").write_text(site.vars_file("acme").read_text().replace(
            "api_user_password_vault_id: sandbox", "api_user_password_vault_id: partner"))
        path.write_bytes(VaultLib([("partner", OTHER_SECRET)]).encrypt(decrypt(raw.decode()), OTHER_SECRET,
                                                                        vault_id="partner"))
        return "the vault id 'partner' (api_user_password_vault_id) is not among this run's vault secrets"
    if how == "truncated":
        path.write_bytes(raw[:len(raw) // 2])
        return "does not open it"
    if how == "corrupt":
        path.write_bytes(raw[:-40] + b"00" * 20)
        return "does not open it"
    if how == "empty":
        path.write_bytes(b"")
        return "it is empty"
    if how == "plaintext":
        path.write_text(decrypt(raw.decode()))
        return "not an Ansible Vault file"
    path.write_bytes(encrypted("current: x\nversion: 1\n", OTHER_SECRET))
    return "does not open it"


@pytest.fixture
def stored_site(sandbox, site):
    """Every site provisioned; acme keeps its password in a store that holds it as current."""
    sandbox.reset(seed=provisioned_seed(site))
    site.append("acme", STORE)
    store_file(site).parent.mkdir()
    store_file(site).write_bytes(encrypted("current: %s\nversion: 1\n" % site.variables("acme")["api_user_password"]))
    return site


@pytest.mark.parametrize("playbook", PLAYBOOKS)
@pytest.mark.parametrize("how", HOW)
def test_a_store_that_cannot_be_used_fails_its_site_everywhere_and_nothing_is_sent(stored_site, sandbox, how,
                                                                                    playbook):
    site, fakes = stored_site, Fakes(sandbox)
    why = damage(site, how)
    # rotate.yml only rotates sites that keep their password in a store: acme alone here.
    run = site.play(playbook, *(["-l", "acme", "-e", "rotate_force=true"] if playbook == "rotate.yml" else []))
    entry = run.report["sites"]["acme"]
    assert run.rc != 0 and entry["status"] == "failed", (how, playbook, entry)
    assert why in entry["reason"] and ".api-user-passwords/acme.yml" in entry["reason"], entry["reason"]
    assert "acme is failed" in run.out
    assert_untouched(site, {"acme"})
    assert not fakes.locked("acme")
    others = {h: s for h, s in run.statuses().items() if h != "acme"}
    assert set(others.values()) <= {"ok", "changed"}, others


@pytest.mark.parametrize("how", HOW)
def test_validate_names_the_store_problem_offline(stored_site, how):
    why = damage(stored_site, how)
    done = subprocess.run([sys.executable, "-m", "tools.validate", str(stored_site.inventory)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"acme: /api_user_password_store: .*%s" % re.escape(why), done.stdout), done.stdout
