"""The roles' validated entry points (meta/argument_specs.yml), as a partner's own playbook
uses them: a bad value of an option that holds a secret fails the validation without
showing the secret, at any verbosity; a good call does the same work as provision.yml."""
import pytest

pytestmark = pytest.mark.integration

CANARY = "Cnry-Role-Spec-4Tq!wZ83xLm"   # strong and unique: any hit is a leak


def playbook(tmp_path, body):
    path = tmp_path / "partner.yml"
    path.write_text("- hosts: acme\n  gather_facts: false\n  tasks:\n" + body)
    return path


@pytest.mark.parametrize("role,extra_vars,message", [
    # An entity written as the password itself (a list of strings instead of mappings).
    ("ocerra_entities", '        ocerra_entities: ["%s"]\n' % CANARY,
     "Elements value for option 'ocerra_entities' is of type str and we were unable to convert to dict"),
    # A misspelt key next to the entity's password.
    ("ocerra_entities", '        ocerra_entities: [{client_id: ac3e0000-0000-4000-8000-000000000001, '
                        'password: "%s", pasword: "%s"}]\n' % (CANARY, CANARY),
     "ocerra_entities.pasword. Supported parameters include: branch, client_id, name, password"),
    # A bad choice next to the API user's password: the failure lists no option's value.
    ("api_user", '        api_user_roles_mode: exactly\n        api_user_password: "%s"\n' % CANARY,
     "value of api_user_roles_mode must be one of: exact, additive, got: exactly"),
])
def test_a_bad_secret_option_fails_validation_without_showing_it(site, tmp_path, role, extra_vars, message):
    site.extra_secrets.add(CANARY)
    path = playbook(tmp_path, "    - ansible.builtin.import_role:\n        name: ocerra.acumatica.%s\n"
                              "      vars:\n%s" % (role, extra_vars))
    run = site.play(path, "-vvv")
    assert run.rc != 0, run
    assert "Validation of arguments failed" in run.out and message in run.out, run
    assert site.writes() == (0, 0)


def test_the_roles_main_entry_points_provision_a_site(site, tmp_path):
    path = playbook(tmp_path, """\
    - ansible.builtin.import_role:
        name: ocerra.acumatica.api_user
    - ansible.builtin.import_role:
        name: ocerra.acumatica.ocerra_entities
      vars:
        toolkit_entities_push_password: "{{ toolkit_erp.password_updated }}"
    - ansible.builtin.import_role:
        name: ocerra.acumatica.site_report
    - ansible.builtin.import_role:
        name: ocerra.acumatica.site_report
        tasks_from: summary
      run_once: true
""")
    run = site.play(path)
    assert run.rc == 0, run
    assert "Validating arguments against arg spec 'main'" in run.stdout
    assert run.statuses() == {"acme": "changed"}
    assert all(s["status"]["code"] == "Connected" for s in site.connections("acme").values())
    before = site.writes()
    again = site.play(path)
    assert again.statuses() == {"acme": "ok"} and site.writes() == before
