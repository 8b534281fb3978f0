"""A bad site fails alone, before any request to it, while the others run: the message names
the file, line, host and JSON pointer, never the secret; the report lists every site (the bad
one failed with that message); there is no traceback, and the run's exit status is not 0."""
import re

import pytest

from tests.integration.helpers import ENTITIES, INSTANCE_TENANT, SETTINGS_PATH, SITES, vault_block

INSTANCE_TENANT_BY_KEY = {v: k for k, v in INSTANCE_TENANT.items()}

pytestmark = pytest.mark.integration

CANARY = "Cnry-Inv-Pb7!zX41-vPq_93Lk"   # strong and unique: any hit is a leak


def type_error(site):
    site.append("acme", "erp_validate_certs: maybe\n")
    return r"host_vars/acme\.yml:\d+: acme: /erp_validate_certs: must be true or false", {"acme"}


def bad_password_policy(site):
    site.set_api_password("acme", "Cnry-short1")    # 11 characters
    site.extra_secrets.add("Cnry-short1")
    return (r"host_vars/acme\.yml:\d+: acme: /api_user_password: does not meet the MYOB 2023\.1\.3 password "
            r"policy; it needs at least 14 characters"), {"acme"}


def duplicate_site(site):
    path = site.vars_file("bravo")
    text = re.sub(r"^erp_url: .*$", "erp_url: %s/acme/" % site.sandbox.acumatica_url, path.read_text(), flags=re.M)
    path.write_text(re.sub(r"^erp_tenant: .*$", "erp_tenant: COMPANY", text, flags=re.M))
    return (r"host_vars/bravo\.yml:\d+: bravo: /erp_url: describes the same site \(erp_url and erp_tenant\) as "
            r"host 'acme'"), {"acme", "bravo"}


def plain_text_password(site):
    site.append("charlie", "ocerra_password: %s\n" % CANARY)
    return r"host_vars/charlie\.yml:\d+: charlie: /ocerra_password: secret written as plain text", {"charlie"}


def entity_password_differs(site):
    site.append("bravo", "  - client_id: b4a00000-0000-4000-8000-0000000000aa\n" + vault_block("password", CANARY, "    "))
    return r"bravo: /ocerra_entities/1/password: differs from api_user_password", {"bravo"}


def unsafe_tenant(site):
    """Text written !unsafe (as the import writes Ocerra's values) is checked as the literal it is."""
    path = site.vars_file("bravo")
    path.write_text(re.sub(r"^erp_tenant: .*$", lambda _m: 'erp_tenant: !unsafe "BravoLive\\u2028x {{ 1 }}"',
                           path.read_text(), flags=re.M))
    return r"host_vars/bravo\.yml:\d+: bravo: /erp_tenant: must be text without leading or trailing spaces", {"bravo"}


def api_path_as_ocerra_url(site):
    site.append("charlie", "ocerra_url: %s/entity/Default/22.200.001\n" % site.sandbox.ocerra_url)
    return r"charlie: /ocerra_url: must be the site's base URL, not an API path", {"charlie"}


def typo(site):
    site.append("charlie", "api_user_rolles: [AP Clerk]\n")
    return r"charlie: /api_user_rolles: unknown variable; did you mean 'api_user_roles'\?", {"charlie"}


def assert_untouched(site, hosts):
    """No ERP request to these sites, and their entities only read once, by the run's one
    listing of what the Ocerra service user sees (on behalf of every site), never written."""
    assert not [key for key, c in site.sandbox.erp.counters().items()
                if INSTANCE_TENANT_BY_KEY.get(key) in hosts and c["requests"]]
    clients = {c for h in hosts for c in ENTITIES[h]}
    touched = [(e["method"], e["query"].get("clientId")) for e in site.ocerra_log()
               if e["path"] == SETTINGS_PATH and e["query"].get("clientId") in clients]
    assert all(m == "GET" for m, _ in touched) and len(touched) == len(set(touched)), touched


@pytest.mark.parametrize("breaks", [type_error, bad_password_policy, duplicate_site, plain_text_password,
                                    entity_password_differs, unsafe_tenant, api_path_as_ocerra_url, typo])
def test_a_bad_site_fails_alone_before_any_request_to_it(site, breaks):
    site.extra_secrets.add(CANARY)
    expected, bad = breaks(site)
    run = site.provision("-v")
    assert run.rc != 0, run
    assert re.search(expected, run.out), run
    assert "Traceback" not in run.out
    for host in SITES:
        entry = run.report["sites"][host]
        if host in bad:
            assert entry["status"] == "failed" and "inventory variables are invalid" in entry["reason"], entry
            assert run.recap(host)["failed"] == 1
        else:
            assert entry["status"] == "changed", entry
    assert re.search(expected, " ".join(run.report["sites"][h]["reason"] for h in bad))
    assert_untouched(site, bad)
    assert run.report["status"] == "finished"


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
    assert run.report["sites"]["charlie"]["status"] == "failed"
    assert_untouched(site, {"charlie"})
