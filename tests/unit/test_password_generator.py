"""The password generator (module_utils/password_policy.generate), its lookup plugin and
./run password: the policy, the length, the cryptographic source, the refused alphabets."""
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils import password_policy as pp

ROOT = Path(__file__).resolve().parents[2]


def test_every_password_meets_the_policy_at_the_default_length_and_differs():
    passwords = [pp.generate() for _ in range(200)]
    assert all(len(p) == 24 and not pp.unmet_requirements(p) for p in passwords)
    assert len(set(passwords)) == 200
    assert set("".join(passwords)) <= set(pp.DEFAULT_ALPHABET)


def test_the_source_is_the_operating_systems_cryptographic_one(monkeypatch):
    drawn = []
    original = pp.secrets.choice

    def watched(seq):
        drawn.append(seq)
        return original(seq)

    monkeypatch.setattr(pp.secrets, "choice", watched)
    assert len(pp.generate(30)) == 30 and len(drawn) >= 30


@pytest.mark.parametrize("length", [14, 15, 64])
def test_a_length_is_honoured(length):
    assert len(pp.generate(length)) == length


@pytest.mark.parametrize("alphabet,why", [
    ("abcdefABCDEF", "must hold"), (string.ascii_lowercase + string.digits, "must hold"),
    ("abcABC123\"", "break"), ("abcABC123 ", "break"), ("abcABC123{", "break"), ("abcABC123%", "break"),
    ("abcABC123\\", "break"), ("abcABC123\n", "break"), ("abcABC123+", "break")])
def test_an_alphabet_that_cannot_meet_the_policy_or_breaks_a_form_is_refused(alphabet, why):
    with pytest.raises(ValueError, match=why):
        pp.generate(alphabet=alphabet)


def test_a_length_under_the_policys_minimum_is_refused():
    with pytest.raises(ValueError, match="at least 14"):
        pp.generate(13)


PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        content: "{{ lookup('ocerra.acumatica.password', length=30) }}"
        dest: "%(out)s"
      no_log: true
    - ansible.builtin.debug:
        msg: "{{ lookup('ocerra.acumatica.password', alphabet='abc') }}"
      when: bad | default(false) | bool
"""


def test_the_lookup_and_the_command_line_give_policy_passwords(tmp_path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    play = tmp_path / "play.yml"
    play.write_text(PLAY % {"out": tmp_path / "password.txt"})
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play),
               "-e", "ansible_python_interpreter=%s" % sys.executable]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    password = (tmp_path / "password.txt").read_text()
    assert len(password) == 30 and not pp.unmet_requirements(password) and password not in done.stdout
    bad = subprocess.run(command + ["-e", "bad=true"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "must hold an upper-case letter" in bad.stdout + bad.stderr
    cli = subprocess.run([str(ROOT / "run"), "password", "--length", "20"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert cli.returncode == 0 and len(cli.stdout.strip()) == 20 and not pp.unmet_requirements(cli.stdout.strip())
