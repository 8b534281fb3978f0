"""A bad inventory stops every playbook at its first task, before any request: the message
names the file, line, host and JSON pointer, never the secret, and there is no traceback."""
import re

import pytest

from tests.integration.helpers import vault_block

pytestmark = pytest.mark.integration

CANARY = "Cnry-Inv-Pb7!zX41-vPq_93Lk"   # strong and unique: any hit is a leak


def type_error(site):
    site.append("acme", "erp_validate_certs: maybe\n")
    return r"host_vars/acme\.yml:\d+: acme: /erp_validate_certs: must be true or false"


def bad_password_policy(site):
    site.set_api_password("acme", "Cnry-short1")    # 11 characters
    site.extra_secrets.add("Cnry-short1")
    return (r"host_vars/acme\.yml:\d+: acme: /api_user_password: does not meet the MYOB 2023\.1\.3 password "
            r"policy; it needs at least 14 characters")


def duplicate_site(site):
    path = site.vars_file("bravo")
    text = re.sub(r"^erp_url: .*$", "erp_url: %s/acme/" % site.sandbox.acumatica_url, path.read_text(), flags=re.M)
    path.write_text(re.sub(r"^erp_tenant: .*$", "erp_tenant: COMPANY", text, flags=re.M))
    return (r"host_vars/bravo\.yml:\d+: bravo: /erp_url: describes the same site \(erp_url and erp_tenant\) as "
            r"host 'acme'")


def plain_text_password(site):
    site.append("charlie", "ocerra_password: %s\n" % CANARY)
    return r"host_vars/charlie\.yml:\d+: charlie: /ocerra_password: secret written as plain text"


def entity_password_differs(site):
    site.append("bravo", "  - client_id: b4a00000-0000-4000-8000-0000000000aa\n" + vault_block("password", CANARY, "    "))
    return r"bravo: /ocerra_entities/1/password: differs from api_user_password"


def typo(site):
    site.append("charlie", "api_user_rolles: [AP Clerk]\n")
    return r"charlie: /api_user_rolles: unknown variable; did you mean 'api_user_roles'\?"


@pytest.mark.parametrize("playbook", ["provision.yml"])
@pytest.mark.parametrize("breaks", [type_error, bad_password_policy, duplicate_site, plain_text_password,
                                    entity_password_differs, typo])
def test_bad_inventory_is_rejected_before_any_request(site, breaks, playbook):
    site.extra_secrets.add(CANARY)
    expected = breaks(site)
    run = site.play(playbook, "-v")
    assert run.rc != 0, run
    assert re.search(expected, run.out), run
    assert "Traceback" not in run.out
    assert "failed=1" in run.out and run.report is None        # stopped at the validation task
    counters = site.sandbox.erp.counters()
    assert sum(c["requests"] for c in counters.values()) == 0
    assert site.sandbox.ocerra.log.snapshot() == []


@pytest.mark.parametrize("playbook", ["restore_connection.yml", "report.yml", "publish_endpoint.yml"])
def test_every_playbook_validates_first(site, playbook):
    site.extra_secrets.add(CANARY)
    # Replaced, not appended: Ansible's own warning about a duplicate YAML key quotes the line.
    path = site.vars_file("charlie")
    text, n = re.subn(r"^api_user_password: !vault \|\n(?:[ \t]+.*\n)+", "api_user_password: %s\n" % CANARY,
                      path.read_text(), flags=re.M)
    assert n == 1
    path.write_text(text)
    run = site.play(playbook)
    assert run.rc != 0 and "charlie: /api_user_password: secret written as plain text" in run.out, run
    assert sum(c["requests"] for c in site.sandbox.erp.counters().values()) == 0
