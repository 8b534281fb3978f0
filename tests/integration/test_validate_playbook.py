"""playbooks/validate.yml through real ansible-playbook runs (no server needed: it is offline)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = "playbooks/validate.yml"  # relative to ROOT, the working directory of every run
SANDBOX_VAULT_PASSWORD = (ROOT / "inventories/sandbox/vault-password.txt").read_text().strip()
CANARY = "Cnry-Pb7!zX41-vPq_93Lk"  # strong and unique: any hit is a leak


def playbook(*args, env=None):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), PLAYBOOK, *args]
    full_env = dict(os.environ, ANSIBLE_CONFIG="ansible.cfg", ANSIBLE_NOCOLOR="1", **(env or {}))
    done = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def vault_block(name, plaintext, indent=""):
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(SANDBOX_VAULT_PASSWORD.encode())
    body = VaultLib([("sandbox", secret)]).encrypt(plaintext, secret, vault_id="sandbox").decode()
    return "%s%s: !vault |\n%s\n" % (indent, name, "\n".join(indent + "  " + line for line in body.splitlines()))


@pytest.mark.parametrize("extra", [[], ["--check"]])
def test_sandbox_inventory_validates(extra):
    rc, out = playbook(*extra)
    assert rc == 0, out
    assert "ok: [acme]" in out and "failed=0" in out
    assert "Traceback" not in out


def test_the_removed_throttle_knob_is_named_not_ignored():
    rc, out = playbook("-e", "toolkit_ocerra_throttle=1")
    assert rc == 0, out
    assert "toolkit_ocerra_throttle is no longer read" in out and "--forks N" in out
    rc, out = playbook()
    assert "toolkit_ocerra_throttle" not in out


@pytest.fixture
def broken(tmp_path):
    """A copy of the sandbox inventory with a bad client ID and a typo in bravo's file."""
    inv = tmp_path / "inv"
    for src in (ROOT / "inventories/sandbox").rglob("*"):
        if src.is_file():
            dst = inv / src.relative_to(ROOT / "inventories/sandbox")
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(src.read_text())
    bravo = inv / "host_vars/bravo.yml"
    text = bravo.read_text()
    text += "  - client_id: not-a-guid\n" + vault_block("password", CANARY, indent="    ")
    text += "erp_tenent: BravoLive\n"
    bravo.write_text(text)
    lines = text.splitlines()
    return inv, lines.index("  - client_id: not-a-guid") + 1, lines.index("erp_tenent: BravoLive") + 1


def test_broken_inventory_fails_with_file_line_and_pointer(broken):
    inv, guid_line, typo_line = broken
    rc, out = playbook("-i", str(inv), "-vvv")
    assert rc != 0
    assert "Traceback" not in out
    assert "%s/host_vars/bravo.yml:%d: bravo: /ocerra_entities/1/client_id: must be a GUID" % (inv, guid_line) in out
    assert "%s/host_vars/bravo.yml:%d: bravo: /erp_tenent: unknown variable; did you mean 'erp_tenant'?" % (
        inv, typo_line) in out
    assert "bravo: /ocerra_entities/1/password: differs from api_user_password" in out
    assert CANARY not in out
    # The run stops at validation: no host gets to a later task.
    assert "failed=1" in out and "ok=1" not in out


def test_literal_secret_fails_the_play_without_showing_it(broken):
    inv, *_ = broken
    acme = inv / "host_vars/acme.yml"
    acme.write_text(acme.read_text() + "ocerra_password: %s\n" % CANARY)
    rc, out = playbook("-i", str(inv), "--check")
    assert rc != 0 and "Traceback" not in out
    assert "acme: /ocerra_password: secret written as plain text" in out
    assert CANARY not in out


def test_hosts_option_limits_validation_to_the_hosts_given(broken):
    inv, *_ = broken
    cmd = [str(Path(sys.executable).parent / "ansible"), "acme", "-i", str(inv),
           "-m", "ocerra.acumatica.validate_sites", "-a", "hosts=acme,charlie"]
    env = dict(os.environ, ANSIBLE_CONFIG="ansible.cfg", ANSIBLE_NOCOLOR="1")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr  # broken bravo is not among them
    assert '"msg": "2 site(s) valid"' in done.stdout
