"""The role `ocerra.acumatica.toolkit` as a partner's own playbook uses it: its validated entry
point `main` refuses a bad knob before anything runs, without showing a secret at any
verbosity, and does the same work as provision.yml."""
import pytest

pytestmark = pytest.mark.integration

CANARY = "Cnry-Role-Spec-4Tq!wZ83xLm"   # strong and unique: any hit is a leak


def playbook(tmp_path, body):
    path = tmp_path / "partner.yml"
    path.write_text("- hosts: acme\n  gather_facts: false\n  tasks:\n" + body)
    return path


def test_a_bad_knob_fails_the_roles_validation_without_showing_a_secret(site, tmp_path):
    site.extra_secrets.add(CANARY)
    path = playbook(tmp_path, "    - ansible.builtin.import_role:\n        name: ocerra.acumatica.toolkit\n"
                              "      vars:\n        toolkit_flow: provisoin\n"
                              '        api_user_password: "%s"\n' % CANARY)
    run = site.play(path, "-vvv")
    assert run.rc != 0, run
    assert "Validation of arguments failed" in run.out, run
    assert "value of toolkit_flow must be one of: provision, restore, report, publish, rotate, got: provisoin" in run.out
    assert site.writes() == (0, 0) and run.report is None


def test_a_lease_of_no_time_fails_the_site_before_anything_is_sent(site, tmp_path):
    path = playbook(tmp_path, "    - ansible.builtin.import_role:\n        name: ocerra.acumatica.toolkit\n"
                              "      vars:\n        toolkit_lease_seconds: 0\n")
    run = site.play(path)
    assert run.rc != 0, run
    assert "lease_seconds (the variable toolkit_lease_seconds) must be at least 1, not 0" in run.out, run
    assert site.writes() == (0, 0)
    assert run.statuses() == {"acme": "failed"}


def test_the_roles_main_entry_point_provisions_a_site(site, tmp_path):
    path = playbook(tmp_path, "    - ansible.builtin.import_role:\n        name: ocerra.acumatica.toolkit\n")
    run = site.play(path)
    assert run.rc == 0, run
    assert "Validating arguments against arg spec 'main'" in run.stdout
    assert run.statuses() == {"acme": "changed"} and run.report["playbook"] == "provision"
    assert all(s["status"]["code"] == "Connected" for s in site.connections("acme").values())
    before = site.writes()
    again = site.play(path)
    assert again.statuses() == {"acme": "ok"} and site.writes() == before
