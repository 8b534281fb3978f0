"""Offline validation of the sites' inventory variables: schema, extra rules, files, secrets.

Three layers: validate_sites() on plain dicts; InventoryScan on YAML files; and whole
inventories through tools/validate.py (in-process for the error matrix, as a subprocess for
the command's exit codes and output).
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_schema as sv
from ansible_collections.ocerra.acumatica.plugins.plugin_utils import site_values as values
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inventory_scan import InventoryScan

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_VAULT = ("sandbox", (ROOT / "inventories/sandbox/vault-password.txt").read_text().strip())

# Strong and unique, so a hit in any output can only be a leak.
CANARY = "Cnry-7Qw!zX41-vPq_93Lk"
CANARY2 = "Cnry2-Hh8#Wq2-Tk5_Zr0p"
WEAK_CANARY = "weakcanarypw"

GUID1 = "11111111-2222-4333-8444-555555555551"
GUID2 = "11111111-2222-4333-8444-555555555552"


def good(**overrides):
    v = {
        "erp_url": "https://acme.myobadvanced.com",
        "erp_tenant": "Company",
        "erp_admin_user": "admin",
        "erp_admin_password": CANARY2,
        "api_user_login": "OcerraAPI",
        "api_user_password": CANARY,
        "api_user_email": "ocerraapi@partner.example.com",
        "api_user_roles": ["AP Clerk", "GL Clerk"],
        "api_user_roles_mode": "exact",
        "api_user_licence_type": "Full User (Full API)",
        "api_user_update_password": "when_changed",
        "ocerra_url": "https://app.ocerra.com",
        "ocerra_username": "svc@partner.example.com",
        "ocerra_password": CANARY2,
        "ocerra_entities": [{"client_id": GUID1}, {"name": "Acme Test"}],
        "ansible_connection": "local",  # not ours: ignored
    }
    v.update(overrides)
    return {k: val for k, val in v.items() if val is not DROP}


DROP = object()


def errors_of(*sites, **named):
    named.update({"site%d" % i: s for i, s in enumerate(sites)})
    return sv.validate_sites(named)


def only(errors):
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def assert_no_canary(texts):
    for text in texts:
        for secret in (CANARY, CANARY2, WEAK_CANARY):
            assert secret not in str(text)


# --------------------------------------------------------------------------- schema

def test_schema_is_valid_draft_2020_12_and_describes_every_property():
    schema = sv.load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema") and schema["additionalProperties"] is False
    props = dict(schema["properties"], **schema["$defs"]["entity"]["properties"])
    assert all(p.get("description") for p in props.values())
    secret = {k for k, p in props.items() if p.get("x-secret")}
    assert secret == {"erp_admin_password", "api_user_password", "ocerra_password", "password"}


def test_schema_names_and_defaults_are_the_contract():
    props = sv.load_schema()["properties"]
    assert set(props) == {
        "erp_url", "erp_tenant", "erp_branch", "erp_admin_user", "erp_admin_password",
        "erp_validate_certs", "erp_ca_path", "erp_publish_endpoint",
        "api_user_login", "api_user_password", "api_user_email", "api_user_first_name",
        "api_user_last_name", "api_user_roles", "api_user_roles_mode", "api_user_licence_type",
        "api_user_update_password", "api_user_lockout_threshold", "api_user_password_store",
        "api_user_password_vault_id", "api_user_password_store_options", "api_user_password_max_age_days",
        "ocerra_url", "ocerra_username", "ocerra_password", "ocerra_validate_certs",
        "ocerra_ca_path", "ocerra_unlisted_entities", "ocerra_entities"}
    assert props["api_user_login"]["default"] == "OcerraAPI"
    assert props["erp_validate_certs"]["default"] is True
    assert props["erp_publish_endpoint"]["default"] is True
    assert props["api_user_roles_mode"]["enum"] == ["exact", "additive"]
    assert props["api_user_update_password"]["enum"] == ["always", "on_create", "when_changed"]
    assert props["api_user_lockout_threshold"]["default"] == 3
    assert props["ocerra_unlisted_entities"]["enum"] == ["include", "fail"]
    assert props["ocerra_unlisted_entities"]["default"] == "include"
    store = re.compile(props["api_user_password_store"]["pattern"])
    assert [bool(store.search(name)) for name in ("inventory", "vault_file", "ocerra.acumatica.hashi_vault",
                                                  "partner.stores.keeper", "hashi_vault", "a.b", "vault_file\n")] \
        == [True, True, True, True, False, False, False]
    assert props["api_user_password_store_options"]["default"] == {}


def test_the_password_comes_from_the_inventory_or_the_sites_store():
    site = good()
    del site["api_user_password"]
    assert [(e.pointer, e.message.split(":")[0]) for e in errors_of(site)] == [("/api_user_password", "is required")]
    site["api_user_password_store"] = "vault_file"
    assert [e.pointer for e in errors_of(site)] == ["/api_user_password_vault_id"]
    site["api_user_password_vault_id"] = "partner"
    assert errors_of(site) == []


def test_a_good_site_passes_and_other_variables_are_ignored():
    assert errors_of(good(), good(erp_tenant="Other", ocerra_entities=[{"client_id": GUID2}])) == []


def test_unknown_variable_is_rejected_with_a_suggestion():
    e = only(errors_of(good(erp_tenent="Company")))
    assert (e.host, e.pointer) == ("site0", "/erp_tenent")
    assert "unknown variable" in e.message and "'erp_tenant'" in e.message


@pytest.mark.parametrize("name", ["erp_url", "erp_tenant", "erp_admin_user", "erp_admin_password",
                                  "api_user_email", "api_user_password", "api_user_roles",
                                  "ocerra_username", "ocerra_password", "ocerra_entities"])
def test_required_variables(name):
    e = only(errors_of(good(**{name: DROP})))
    assert e.pointer == "/" + name and e.message.startswith("is required")


@pytest.mark.parametrize("name", ["erp_branch", "erp_ca_path", "erp_validate_certs",
                                  "erp_publish_endpoint", "api_user_login", "api_user_first_name",
                                  "api_user_roles_mode", "api_user_licence_type",
                                  "api_user_update_password", "ocerra_url", "ocerra_validate_certs"])
def test_optional_variables(name):
    assert errors_of(good(**{name: DROP})) == []


@pytest.mark.parametrize("url, expected", [
    ("https://x.example.com/(W(3))/Main", "(W(n))"),
    ("https://x.example.com/Main?CompanyID=2", "Main?CompanyID="),
    ("ftp://x.example.com", "absolute http"),
    ("x.example.com/acme", "absolute http"),
    ("https://x.example.com/acme?x=1", "without query string"),
    ("https://user@x.example.com", "user name or password"),
    ("https://user:pass@x.example.com", "user name or password"),
    ("http://x.example.com:port/acme", "port between 1 and 65535"),
    ("https://x.example.com:99999", "port between 1 and 65535"),
    ("https://x.example.com:0/", "port between 1 and 65535"),
    ("https://1.1.1.1.1/", "valid host"),
    ("https://-/", "valid host"),
    ("https://x.example.com/a/../../x", "'..' path segments"),
    ("https://x.example.com/a/%2E%2e/x", "'..' path segments"),
    ("https://x.example.com/entity/Default/22.200.001", "not an API path: remove '/entity'"),
    ("http://x.example.com/acme", "must use https://"),
    ("http://10.0.0.5:8080/acme", "must use https://"),
])
def test_erp_url_must_be_a_base_url(url, expected):
    found = errors_of(good(erp_url=url))
    assert found and all(e.pointer == "/erp_url" for e in found)
    assert any(expected in e.message for e in found), [str(e) for e in found]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8601/acme", "https://acme.myobadvanced.com/",
                                 "HTTPS://erp.example.com/AcumaticaDB", "http://[::1]:8080/x",
                                 "http://localhost:8080/x", "https://erp.example.com:65535/x",
                                 "https://[2001:db8::1]/x", "https://10.1.2.3/acme"])
def test_erp_url_accepts_base_urls(url):
    assert errors_of(good(erp_url=url)) == []


@pytest.mark.parametrize("overrides, pointer, fragment", [
    ({"api_user_email": "not-an-email"}, "/api_user_email", "e-mail address"),
    ({"ocerra_username": "svc"}, "/ocerra_username", "e-mail login"),
    ({"api_user_login": "x" * 65}, "/api_user_login", "at most 64"),
    ({"api_user_login": "Ocerra API"}, "/api_user_login", "without spaces"),
    ({"api_user_roles_mode": "sometimes"}, "/api_user_roles_mode", 'one of: exact, additive (got "sometimes")'),
    ({"api_user_update_password": "never"}, "/api_user_update_password", "always, on_create, when_changed"),
    ({"erp_validate_certs": "yes"}, "/erp_validate_certs", "true or false"),
    ({"ocerra_validate_certs": 1}, "/ocerra_validate_certs", "true or false"),
    ({"erp_tenant": ""}, "/erp_tenant", "must not be empty"),
    ({"erp_tenant": 42}, "/erp_tenant", "a string"),
    ({"ocerra_url": "app.ocerra.com"}, "/ocerra_url", "absolute http"),
    ({"api_user_roles": "AP Clerk"}, "/api_user_roles", "a list"),
    ({"api_user_roles": []}, "/api_user_roles", "at least 1 item"),
    ({"api_user_roles": ["AP Clerk", "AP Clerk"]}, "/api_user_roles", "same item twice"),
    ({"api_user_roles": ["AP Clerk", " "]}, "/api_user_roles/1", "a role name"),
    ({"api_user_roles": ["AP Clerk", ""]}, "/api_user_roles/1", "must not be empty"),
    ({"api_user_roles": ["AP Clerk", " GL Clerk"]}, "/api_user_roles/1", "a role name: text without leading"),
    ({"erp_tenant": "Company\n"}, "/erp_tenant", "without leading or trailing spaces, line breaks"),
    ({"erp_tenant": "Com\x00pany"}, "/erp_tenant", "control characters"),
    ({"erp_tenant": "x" * (1 << 20)}, "/erp_tenant", "at most 128 characters"),
    ({"erp_admin_user": " admin"}, "/erp_admin_user", "without leading or trailing spaces"),
    ({"api_user_login": "Ocerra\tAPI"}, "/api_user_login", "control characters"),
    ({"ocerra_entities": [{"name": "Acme\u2028Live"}]}, "/ocerra_entities/0/name", "line breaks"),
    ({"ocerra_url": "http://app.ocerra.com"}, "/ocerra_url", "must use https://"),
    ({"ocerra_url": "https://app.ocerra.com/api"}, "/ocerra_url", "remove '/api'"),
    ({"ocerra_entities": []}, "/ocerra_entities", "at least 1 item"),
    ({"ocerra_entities": [{"client_id": GUID1}, {"client_id": "1234"}]},
     "/ocerra_entities/1/client_id", 'GUID such as 6f1c2d3e-0000-4000-8000-000000000001 (got "1234")'),
    ({"ocerra_entities": [{"client_id": GUID1, "name": "Acme"}]}, "/ocerra_entities/0", "exactly one of"),
    ({"ocerra_entities": [{"branch": "HQ"}]}, "/ocerra_entities/0", "exactly one of"),
    ({"ocerra_entities": [{"client_id": GUID1, "brnach": "HQ"}]}, "/ocerra_entities/0/brnach",
     "did you mean 'branch'"),
    ({"ocerra_entities": ["Acme Live"]}, "/ocerra_entities/0", "a mapping"),
])
def test_each_bad_value_is_reported_at_its_pointer(overrides, pointer, fragment):
    e = only(errors_of(good(**overrides)))
    assert e.pointer == pointer and fragment in e.message, str(e)


def test_password_policy_is_applied_to_the_api_user_password_only():
    e = only(errors_of(good(api_user_password=WEAK_CANARY, erp_admin_password="x", ocerra_password="y")))
    assert e.pointer == "/api_user_password" and "MYOB 2023.1.3" in e.message
    assert "at least 14 characters" in e.message and "upper-case" in e.message
    assert_no_canary([e])


def test_api_user_must_not_be_the_admin():
    e = only(errors_of(good(api_user_login="Admin")))
    assert e.pointer == "/api_user_login" and "erp_admin_user" in e.message
    assert only(errors_of(good(api_user_login=DROP, erp_admin_user="ocerraapi"))).pointer == "/api_user_login"


def test_entity_password_must_equal_the_api_user_password():
    assert errors_of(good(ocerra_entities=[{"client_id": GUID1, "password": CANARY}])) == []
    e = only(errors_of(good(ocerra_entities=[{"client_id": GUID1, "password": CANARY},
                                             {"name": "Acme Test", "password": CANARY2}])))
    assert e.pointer == "/ocerra_entities/1/password" and "differs from api_user_password" in e.message
    assert_no_canary([e])


def test_entities_of_one_site_must_not_get_different_passwords_even_when_the_api_password_is_unknown():
    site = good(api_user_password=values.Unchecked(values.VAULT),
                ocerra_entities=[{"client_id": GUID1, "password": CANARY},
                                 {"name": "Acme Test", "password": CANARY2}])
    e = only(errors_of(site))
    assert e.pointer == "/ocerra_entities/1/password" and "entity 0" in e.message
    assert_no_canary([e])


@pytest.mark.parametrize("url2, tenant2", [
    ("https://ACME.myobadvanced.com/", "company"),
    ("https://acme.myobadvanced.com:443", "COMPANY"),
])
def test_two_hosts_for_one_site_are_rejected(url2, tenant2):
    found = sv.validate_sites({
        "a": good(), "b": good(erp_url=url2, erp_tenant=tenant2, ocerra_entities=[{"client_id": GUID2}])})
    assert [(e.host, e.pointer) for e in found] == [("a", "/erp_url"), ("b", "/erp_url")]
    assert "host 'b'" in found[0].message and "host 'a'" in found[1].message


def test_unparsable_urls_on_two_hosts_do_not_break_the_duplicate_check():
    found = sv.validate_sites({"a": good(erp_url="http://x:port/a"),
                               "b": good(erp_url="http://X:port/a/", ocerra_entities=[{"client_id": GUID2}])})
    assert [(e.host, e.pointer) for e in found].count(("a", "/erp_url")) == 2  # pattern + same site


def test_same_url_with_another_tenant_or_path_is_another_site():
    other = {"ocerra_entities": [{"client_id": GUID2}]}
    assert sv.validate_sites({"a": good(), "b": good(erp_tenant="CompanyTest", **other)}) == []
    assert sv.validate_sites({"a": good(), "b": good(erp_url="https://acme.myobadvanced.com/Test",
                                                     **other)}) == []


def test_one_entity_under_two_sites_is_rejected():
    found = sv.validate_sites({
        "a": good(),
        "b": good(erp_tenant="Other", ocerra_entities=[{"client_id": GUID2}, {"client_id": GUID1.upper()}])})
    assert [(e.host, e.pointer) for e in found] == [("a", "/ocerra_entities/0/client_id"),
                                                   ("b", "/ocerra_entities/1/client_id")]
    assert "also listed under host 'b'" in found[0].message


def test_one_entity_twice_in_one_site_is_rejected():
    found = errors_of(good(ocerra_entities=[{"name": "Acme"}, {"name": "ACME"}]))
    assert [e.pointer for e in found] == ["/ocerra_entities/0/name", "/ocerra_entities/1/name"]
    assert "twice" in found[0].message


# --------------------------------------------------------------------------- secrets never shown

LEAKY_SITES = {
    "type": good(api_user_password=[CANARY]),
    "mapping": good(erp_admin_password={"value": CANARY}),
    "number": good(ocerra_password=1234567890),
    "oneOf": good(ocerra_entities=[{"client_id": GUID1, "name": "x", "password": CANARY}]),
    "entity_extra": good(ocerra_entities=[{"client_id": GUID1, "password": CANARY, "x": CANARY2}]),
    "entity_type": good(ocerra_entities=[{"client_id": GUID1, "password": [CANARY2]}]),
    "typo": good(api_user_pasword=CANARY),
    "weak": good(api_user_password=WEAK_CANARY),
    "differs": good(ocerra_entities=[{"client_id": GUID1, "password": CANARY2}]),
}


def test_secret_values_never_appear_in_messages():
    found = sv.validate_sites(LEAKY_SITES)
    assert {e.host for e in found} == set(LEAKY_SITES)  # every case is reported ...
    assert_no_canary(found)                            # ... and none shows the secret
    assert "must be a string" in next(e.message for e in found if e.host == "type")


def test_jsonschema_own_messages_would_have_leaked():
    # Proof the test above can fail: jsonschema's messages quote the instance.
    schema = sv.load_schema()
    raw = [err.message for site in LEAKY_SITES.values()
           for err in Draft202012Validator(schema).iter_errors(
               {k: v for k, v in site.items() if k.startswith(values.PREFIXES)})]
    assert any(CANARY in m for m in raw)


def test_is_secret_follows_the_schema_and_catches_typos():
    assert sv.is_secret(["api_user_password"])
    assert sv.is_secret(["ocerra_entities", 3, "password"])
    assert sv.is_secret(["erp_admin_password", 0])
    assert sv.is_secret(["erp_admin_pasword"])
    assert not sv.is_secret(["api_user_update_password"])
    assert not sv.is_secret(["ocerra_entities", 3, "client_id"])


# --------------------------------------------------------------------------- unknowable values

def test_unchecked_values_count_as_present_and_are_not_judged():
    site = good(api_user_password=values.Unchecked(values.VAULT), erp_url=values.Unchecked(values.TEMPLATE),
                ocerra_entities=values.Unchecked(values.TEMPLATE))
    assert errors_of(site) == []
    assert sorted(p for p, _ in sv.unchecked_paths(site)) == [
        ("api_user_password",), ("erp_url",), ("ocerra_entities",)]


def test_site_variables_follow_plain_references_and_leave_lookups_alone():
    raw = {"inventory_hostname": "acme", "vault_pw": CANARY,
           "api_user_email": "ocerraapi+{{ inventory_hostname }}@p.example.com",
           "api_user_password": "{{ vault_pw }}",
           "erp_validate_certs": "{{ tls }}", "tls": False,
           "erp_admin_password": "{{ lookup('env', 'X') }}",
           "ocerra_password": "{{ undefined_here }}",
           "ocerra_entities": [{"name": "A", "password": "{{ api_user_password }}"}]}
    v = values.site_variables(raw)
    assert v["api_user_email"] == "ocerraapi+acme@p.example.com"
    assert v["api_user_password"] == CANARY
    assert v["erp_validate_certs"] is False  # a whole expression keeps its type
    assert v["ocerra_entities"][0]["password"] == CANARY
    assert isinstance(v["erp_admin_password"], values.Unchecked) and v["erp_admin_password"].reason == values.TEMPLATE
    assert isinstance(v["ocerra_password"], values.Unchecked)
    assert "vault_pw" not in v and "tls" not in v


def test_to_plain_decrypts_or_marks_vaulted_values():
    class Vaulted:
        pass

    def decrypt(value):
        raise ValueError("no secret")

    assert isinstance(values.to_plain(Vaulted(), decrypt), values.Unchecked)
    assert values.to_plain({"a": [Vaulted()]}, lambda v: "clear")["a"] == ["clear"]


# --------------------------------------------------------------------------- the YAML files

def write(base, files):
    for name, text in files.items():
        path = Path(base, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(base)


def vault_block(name, plaintext, vault_id="sandbox", password=None):
    """`name: !vault |` with `plaintext` encrypted, as ansible-vault encrypt_string writes it."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret((password or SANDBOX_VAULT[1]).encode())
    body = VaultLib([(vault_id, secret)]).encrypt(plaintext, secret, vault_id=vault_id).decode()
    return "%s: !vault |\n%s\n" % (name, "\n".join("  " + line for line in body.splitlines()))


def test_scan_rejects_literal_secrets_wherever_they_are(tmp_path):
    inv = write(tmp_path, {
        "hosts.yml": "all:\n  vars:\n    ocerra_password: %s\n  hosts:\n    h1:\n"
                     "      erp_admin_password: %s\n" % (CANARY, CANARY),
        "group_vars/all.yml": "api_user_password: \"{{ my_secret }}\"\nmy_secret: %s\n" % CANARY,
        "host_vars/h1/main.yml": "ocerra_entities:\n  - client_id: %s\n    password: %s\n"
                                 "erp_admin_pasword: %s\n" % (GUID1, CANARY, CANARY),
        "host_vars/h1/vault.yml": vault_block("erp_admin_password", CANARY)
                                  + "ocerra_password: \"{{ lookup('env', 'X') }}\"\n"
                                  + "api_user_password: !vault |\n  $ANSIBLE_VAULT;1.2;AES256;x\n  3132\n"
                                  + "api_user_update_password: always\nerp_branch: ~\n",
    })
    scan = InventoryScan(inv)
    got = sorted((e.file.rsplit("/", 1)[-1], e.line, e.host, e.pointer) for e in scan.errors)
    assert got == [
        ("all.yml", 2, "all", "/my_secret"),
        ("hosts.yml", 3, "all", "/ocerra_password"),
        ("hosts.yml", 6, "h1", "/erp_admin_password"),
        ("main.yml", 3, "h1", "/ocerra_entities/0/password"),
        ("main.yml", 4, "h1", "/erp_admin_pasword"),
    ]
    assert all("plain text" in e.message for e in scan.errors)
    assert_no_canary(scan.errors)


def test_scan_reports_yaml_syntax_errors_with_file_and_line(tmp_path):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n",
                           "host_vars/h1.yml": "erp_url: http://x\nerp_tenant: [Company\nfoo: 1\n"})
    scan = InventoryScan(inv)
    e = only(scan.errors)
    assert not scan.syntax_ok
    assert e.file.endswith("host_vars/h1.yml") and e.line == 3 and "YAML syntax error" in e.message
    assert str(e).startswith(e.file + ":3: YAML syntax error")


def _bomb(levels=9):
    text, prev = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n", "a"
    for name in "bcdefghijk"[:levels]:
        text += "%s: &%s [%s]\n" % (name, name, ", ".join(["*" + prev] * 9))
        prev = name
    return text


@pytest.mark.parametrize("text, expected", [
    (_bomb(), "YAML bomb"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than 64"),
    ("x: " + "[" * 50000 + "]" * 50000 + "\n", "nesting deeper than 64"),
    ("x:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), "nesting deeper than 64"),
    ("x: " + "y" * (3 << 20) + "\n", "larger than 2 MB"),
])
def test_pathological_yaml_is_refused_before_it_is_loaded(tmp_path, text, expected):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n", "host_vars/h1.yml": text})
    started = time.monotonic()
    scan = InventoryScan(inv)
    assert time.monotonic() - started < 1
    e = only(scan.errors)
    assert not scan.syntax_ok and e.file.endswith("host_vars/h1.yml") and expected in e.message


def test_a_key_written_twice_is_an_error_that_never_quotes_the_value(tmp_path):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n",
                           "host_vars/h1.yml": "erp_tenant: A\napi_user_password: %s\nerp_url: x\n"
                                               "api_user_password: %s\nocerra_entities:\n"
                                               "  - {name: a, name: b}\n" % (CANARY, CANARY2)})
    scan = InventoryScan(inv)
    got = sorted((e.line, e.pointer) for e in scan.errors if "twice" in e.message)
    assert got == [(4, "/api_user_password"), (6, "/ocerra_entities/0/name")]
    assert not scan.syntax_ok  # Ansible never loads the file (its warning would quote the line)
    assert_no_canary(scan.errors)


def test_validate_certs_false_is_a_warning_with_its_file_and_line(tmp_path):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n",
                           "host_vars/h1.yml": host("h1", "ocerra_validate_certs: false\n", guid=GUID1)})
    scan = InventoryScan(inv)
    sites = {"h1": sv.HostVars(good(ocerra_validate_certs=False), scan.sources_for("h1", []))}
    assert sv.validate_sites(sites) == []
    w = only(sv.site_warnings(sites))
    assert (w.pointer, w.line) == ("/ocerra_validate_certs", 5) and "ocerra_ca_path" in w.message


def test_environment_fallbacks_fill_unset_variables_and_are_never_shown():
    environ = {"ACUMATICA_ADMIN_PASSWORD": CANARY2, "OCERRA_USERNAME": "svc@p.example.com",
               "OCERRA_PASSWORD": CANARY2, "ACUMATICA_TENANT": " Bad tenant\n"}
    raw = good(erp_admin_password=DROP, ocerra_username=DROP, ocerra_password=DROP, erp_tenant=DROP)
    errors, _, _ = sv.validate_inventory({"h1": raw}, environ=environ)
    e = only(errors)  # the three credentials are accepted; the tenant is judged like any value
    assert (e.file, e.pointer) == ("$ACUMATICA_TENANT", "/erp_tenant") and "from the environment" in e.message
    assert "Bad tenant" not in str(e)
    errors, _, _ = sv.validate_inventory({"h1": raw}, environ={})
    assert sorted(e.pointer for e in errors) == ["/erp_admin_password", "/erp_tenant", "/ocerra_password",
                                                 "/ocerra_username"]


def test_vaulted_and_url_credentials_are_never_shown():
    vaulted_email = values.Vaulted("secret-mail")
    found = errors_of(good(api_user_email=vaulted_email, erp_url="https://bob:%s@x.example.com" % CANARY))
    text = " ".join(map(str, found))
    assert "secret-mail" not in text and "the vaulted value, not shown" in text
    assert "bob" not in text and "user name or password" in text
    assert_no_canary(found)


def test_sources_follow_ansible_precedence(tmp_path):
    """The file blamed for a value is the one Ansible took it from."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    inv = write(tmp_path, {
        # 'zeta' is the parent, 'alpha' its child: depth, not the name, decides.
        "hosts.yml": "all:\n  vars:\n    erp_ca_path: inv-all\n  children:\n    zeta:\n"
                     "      vars:\n        erp_ca_path: inv-zeta\n        erp_tenant: inv-zeta\n"
                     "      children:\n        alpha:\n          hosts:\n            h1:\n"
                     "              erp_branch: inv-host\n",
        "group_vars/all.yml": "erp_ca_path: gv-all\nerp_branch: gv-all\nerp_tenant: gv-all\n",
        "group_vars/zeta.yml": "erp_url: gv-zeta\nerp_tenant: gv-zeta\n",
        "group_vars/alpha/main.yml": "erp_url: gv-alpha\n",
        "host_vars/h1.yml": "api_user_login: hv-host\n",
    })
    loader = DataLoader()
    inventory = InventoryManager(loader, sources=[inv])
    merged = VariableManager(loader, inventory).get_vars(host=inventory.get_host("h1"))
    sources = InventoryScan(inv).sources_for("h1", merged["group_names"])
    for var in ("erp_ca_path", "erp_tenant", "erp_url", "erp_branch", "api_user_login"):
        winner = {"gv-": "group_vars", "inv": "hosts.yml", "hv-": "host_vars"}[merged[var][:3]]
        assert winner in sources[var].file, (var, merged[var], sources[var].file)
    assert sources["erp_url"].file.endswith("alpha/main.yml")
    assert sources["erp_branch"].file.endswith("hosts.yml") and sources["erp_branch"].line_of("/erp_branch") == 13


# --------------------------------------------------------------------------- whole inventories

def load_tool():
    sys.path.insert(0, str(ROOT))
    try:
        from tools import validate
    finally:
        sys.path.remove(str(ROOT))
    return validate


def validate_inventory_dir(path, secrets=(SANDBOX_VAULT,)):
    """tools/validate.py's per-inventory step, in-process: (errors, unchecked, warnings, summary)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret

    tool = load_tool()
    decrypt, decrypt_text = tool._decrypters([(i, VaultSecret(p.encode())) for i, p in secrets])
    return tool.validate_path(str(path), DataLoader(), decrypt, decrypt_text)


GROUP_ALL = ("api_user_email: \"ocerraapi+{{ inventory_hostname }}@p.example.com\"\n"
             "api_user_roles: [AP Clerk, GL Clerk]\nerp_admin_user: admin\n"
             "ocerra_username: svc@p.example.com\n"
             + vault_block("ocerra_password", CANARY2) + vault_block("erp_admin_password", CANARY2)
             + vault_block("api_user_password", CANARY))


def host(name, extra="", url=None, tenant="Company", guid=None, entities=None):
    entities = entities if entities is not None else "ocerra_entities:\n  - client_id: %s\n" % guid
    return ("erp_url: %s\n" % (url or "https://erp.example.com/" + name)
            + ("erp_tenant: %s\n" % tenant if tenant else "") + entities + extra)


# Each host breaks one rule: (host, host_vars text, pointer, fragment of the message).
BROKEN = [
    ("typo", host("typo", "erp_tenent: Company\n", guid="00000000-0000-4000-8000-000000000001"),
     "/erp_tenent", "did you mean 'erp_tenant'"),
    ("missing", host("missing", tenant=None, guid="00000000-0000-4000-8000-000000000002"),
     "/erp_tenant", "is required"),
    ("browserurl", host("browserurl", url="https://erp.example.com/(W(2))/Main",
                        guid="00000000-0000-4000-8000-000000000003"), "/erp_url", "(W(n))"),
    ("badguid", host("badguid", entities="ocerra_entities:\n  - name: Fine\n  - client_id: '1234'\n"),
     "/ocerra_entities/1/client_id", "GUID"),
    ("both", host("both", entities="ocerra_entities:\n  - client_id: 00000000-0000-4000-8000-000000000005\n"
                                   "    name: Both\n"), "/ocerra_entities/0", "exactly one of"),
    ("enum", host("enum", "api_user_update_password: sometimes\n", guid="00000000-0000-4000-8000-000000000006"),
     "/api_user_update_password", "one of"),
    ("weak", host("weak", vault_block("api_user_password", WEAK_CANARY),
                  guid="00000000-0000-4000-8000-000000000007"), "/api_user_password", "MYOB 2023.1.3"),
    ("entitypw", host("entitypw", entities="ocerra_entities:\n  - client_id: 00000000-0000-4000-8000-000000000008\n"
                                           + "    " + vault_block("password", CANARY2).replace("\n  ", "\n      ")),
     "/ocerra_entities/0/password", "differs from api_user_password"),
    ("dup1", host("dup1", guid="00000000-0000-4000-8000-000000000009"), "/erp_url", "same site"),
    ("dup2", host("dup2", url="HTTPS://ERP.example.com/dup1/", tenant="COMPANY",
                  guid="00000000-0000-4000-8000-000000000010"), "/erp_url", "same site"),
    ("shared1", host("shared1", guid="00000000-0000-4000-8000-000000000011"),
     "/ocerra_entities/0/client_id", "also listed under host 'shared2'"),
    ("shared2", host("shared2", guid="00000000-0000-4000-8000-000000000011"),
     "/ocerra_entities/0/client_id", "also listed under host 'shared1'"),
    ("isadmin", host("isadmin", "api_user_login: ADMIN\n", guid="00000000-0000-4000-8000-000000000012"),
     "/api_user_login", "must differ from erp_admin_user"),
    ("plain", host("plain", "erp_admin_password: %s\n" % CANARY, guid="00000000-0000-4000-8000-000000000013"),
     "/erp_admin_password", "plain text"),
]


@pytest.fixture(scope="module")
def broken_inventory(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken")
    files = {"hosts.yml": "all:\n  vars:\n    ansible_connection: local\n  hosts:\n"
                          + "".join("    %s:\n" % name for name, *_ in BROKEN),
             "group_vars/all.yml": GROUP_ALL}
    files.update({"host_vars/%s.yml" % name: text for name, text, *_ in BROKEN})
    return write(base, files)


def test_every_kind_of_bad_input_names_file_line_host_and_pointer(broken_inventory):
    errors, *_ = validate_inventory_dir(broken_inventory)
    lines = [str(e) for e in errors]
    for name, text, ptr, fragment in BROKEN:
        mine = [e for e in errors if e.host == name and e.pointer == ptr and fragment in e.message]
        assert mine, (name, ptr, lines)
        e = mine[0]
        if name == "missing":  # nothing to point at: blame the file that declares the host
            assert e.file.endswith("hosts.yml") and e.line is None
        else:
            assert e.file.endswith("host_vars/%s.yml" % name) and e.line, str(e)
            key = ptr.rsplit("/", 1)[-1]
            if not key.isdigit():  # the line really holds the value (or its key)
                assert key in text.splitlines()[e.line - 1] or ptr == "/ocerra_entities/0", (str(e), text)
    assert {e.host for e in errors} == {name for name, *_ in BROKEN}
    assert_no_canary(lines)


def test_the_line_points_at_the_bad_entity_field(broken_inventory):
    errors, *_ = validate_inventory_dir(broken_inventory)
    e = next(e for e in errors if e.host == "badguid")
    assert str(e).endswith("badguid: /ocerra_entities/1/client_id: must be a GUID such as "
                           "6f1c2d3e-0000-4000-8000-000000000001 (got \"1234\")")
    assert ":5: badguid:" in str(e)  # erp_url, erp_tenant, ocerra_entities, - name, - client_id


def test_vaulted_values_without_their_password_are_unchecked(broken_inventory):
    errors, unchecked, *_ = validate_inventory_dir(broken_inventory, secrets=())
    hosts = {e.host for e in errors}
    assert "weak" not in hosts and "entitypw" not in hosts  # their content is unknown now
    assert "typo" in hosts and "plain" in hosts
    assert ("weak", "/api_user_password", values.VAULT) in unchecked


# --------------------------------------------------------------------------- the command

def run_validate(*args, env=None):
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "tools.validate", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_committed_inventories_validate():
    done = run_validate()  # default: the inventory of ansible.cfg (the sandbox)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "inventories/sandbox/hosts.yml: %s: ok (http://127.0.0.1:8601/%s, tenant %s, API user OcerraAPI, %d %s)"
        % (h, h, t, n, "entity" if n == 1 else "entities")
        for h, t, n in (("acme", "Company", 3), ("bravo", "BravoLive", 1), ("charlie", "Main", 2))]
    assert "unchecked" not in done.stderr  # the sandbox's vault password is configured

    done = run_validate("inventories/example")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(done.stdout.splitlines()) == 5 and all(": ok (" in line for line in done.stdout.splitlines())
    assert done.stderr.count("vaulted value(s) are present but unchecked") == 1


def test_without_the_vault_password_vaulted_values_are_present_but_unchecked():
    done = run_validate(env={"ANSIBLE_VAULT_IDENTITY_LIST": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr.count("note: 9 vaulted value(s) are present but unchecked") == 1


def test_vault_id_on_the_command_line_enables_the_password_check(tmp_path):
    password = tmp_path / "pw.txt"
    password.write_text("an-ephemeral-test-vault-password\n")
    host_vars = (host("h1", guid=GUID1)
                 + "api_user_email: a@b.example.com\napi_user_roles: [AP Clerk]\nerp_admin_user: admin\n"
                 + "ocerra_username: s@b.example.com\n"
                 + "ocerra_password: \"{{ lookup('env', 'X') }}\"\n"
                 + "erp_admin_password: \"{{ lookup('env', 'Y') }}\"\n")
    line = len(host_vars.splitlines()) + 1
    host_vars += vault_block("api_user_password", WEAK_CANARY, "tmp", "an-ephemeral-test-vault-password")
    inv = write(tmp_path / "inv", {"hosts.yml": "all:\n  hosts:\n    h1:\n", "host_vars/h1.yml": host_vars})

    done = run_validate(inv)  # the configured sandbox password does not open vault id "tmp"
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 vaulted value(s) are present but unchecked" in done.stderr
    assert "2 value(s) are Jinja expressions" in done.stderr

    done = run_validate(inv, "--vault-id", "tmp@%s" % password)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "%s/host_vars/h1.yml:%d: h1: /api_user_password: does not meet the MYOB 2023.1.3 password "
        "policy; it needs at least 14 characters, an upper-case letter (A-Z), a digit or a symbol"
        % (inv, line)]  # outside the repository, paths stay absolute
    assert WEAK_CANARY not in done.stdout + done.stderr

    done = run_validate(inv, "--vault-password-file", str(password))
    assert done.returncode == 1 and "/api_user_password" in done.stdout


def test_broken_inventory_exits_1_with_one_line_per_error_and_no_traceback(broken_inventory):
    done = run_validate(broken_inventory)
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in out
    lines = done.stdout.splitlines()
    assert len(lines) == len(validate_inventory_dir(broken_inventory)[0])
    assert all(line.startswith(broken_inventory) for line in lines)
    assert any(": typo: /erp_tenent: unknown variable" in line for line in lines)
    assert_no_canary([out])


def test_yaml_syntax_error_is_reported_with_file_and_line(tmp_path):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n      erp_url: 'unclosed\n"})
    done = run_validate(str(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert done.stdout.startswith(os.path.join(inv, "hosts.yml") + ":")
    assert "YAML syntax error" in done.stdout


def test_missing_inventory_and_missing_vault_file_are_reported_without_traceback(tmp_path):
    done = run_validate(str(tmp_path / "nope"))
    assert done.returncode == 1 and "no such inventory" in done.stdout
    done = run_validate("--vault-password-file", str(tmp_path / "nope.txt"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "nope.txt" in done.stderr


def test_summary_lines_never_show_vaulted_values(tmp_path):
    host_vars = (vault_block("erp_url", "https://erp.example.com/vaulted-site") + vault_block("erp_tenant", "VaultCo")
                 + "ocerra_entities:\n  - client_id: %s\n" % GUID1)
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n", "group_vars/all.yml": GROUP_ALL,
                           "host_vars/h1.yml": host_vars})
    done = run_validate(inv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "vaulted-site" not in done.stdout and "VaultCo" not in done.stdout
    assert "ok ((the vaulted value, not shown), tenant (the vaulted value, not shown)" in done.stdout


def test_credentials_from_the_environment_and_extra_vars_are_accepted(tmp_path):
    """As AWX and CI inject them: environment variables the modules fall back to, extra vars."""
    host_vars = host("h1", guid=GUID1) + ("api_user_email: a@b.example.com\napi_user_roles: [AP Clerk]\n"
                                          + vault_block("api_user_password", CANARY))
    inv = write(tmp_path / "inv", {"hosts.yml": "all:\n  hosts:\n    h1:\n", "host_vars/h1.yml": host_vars})
    extra = write(tmp_path, {"extra.yml": "ocerra_password: %s\n" % CANARY2}) + "/extra.yml"

    done = run_validate(inv)
    assert done.returncode == 1 and sorted(line.split(": ")[2] for line in done.stdout.splitlines()) == [
        "/erp_admin_password", "/erp_admin_user", "/ocerra_password", "/ocerra_username"]

    env = {"ACUMATICA_ADMIN_USER": "admin", "ACUMATICA_ADMIN_PASSWORD": CANARY2}
    done = run_validate(inv, "-e", "ocerra_username=svc@b.example.com", "-e", "@" + extra, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_no_canary([done.stdout + done.stderr])

    done = run_validate(inv, "-e", "ocerra_username=svc", "-e", "@" + extra, env=env)
    assert done.returncode == 1 and done.stdout.splitlines() == [
        "extra vars: h1: /ocerra_username: must be the service user's e-mail login (got \"svc\")"]

    bomb = write(tmp_path, {"bomb.yml": _bomb()}) + "/bomb.yml"
    done = run_validate(inv, "-e", "@" + bomb, env=env)
    assert done.returncode == 2 and "YAML bomb" in done.stderr and "Traceback" not in done.stderr


def test_validate_certs_false_is_printed_as_a_warning(tmp_path):
    inv = write(tmp_path, {"hosts.yml": "all:\n  hosts:\n    h1:\n", "group_vars/all.yml": GROUP_ALL,
                           "host_vars/h1.yml": host("h1", "erp_validate_certs: false\n", guid=GUID1)})
    done = run_validate(inv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.startswith("warning: %s/host_vars/h1.yml:5: h1: /erp_validate_certs: is false" % inv)


INVISIBLE = ["\u00ad", "\u061c", "\u180e", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e",
             "\u2060", "\u2064", "\u2066", "\u2069", "\u206f", "\ufeff", "\ufff9", "\ufffb", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: "U+%04X" % ord(c))
def test_invisible_marks_are_refused_in_texts_by_the_schema_and_by_the_modules(char):
    """Zero-width and bidirectional marks make two tenants or logins look alike: the inventory's
    schema and the modules' own option check refuse the same characters."""
    from ansible_collections.ocerra.acumatica.plugins.module_utils.module_kit import _CONTROL
    for name in ("erp_tenant", "api_user_login"):
        errors = sv.validate_sites({"h": dict(good(), **{name: "Main" + char + "x"})})
        assert [e.pointer for e in errors] == ["/" + name], (name, errors)
        assert "\\u%04x" % ord(char) in errors[0].message
    assert _CONTROL.search("Main" + char + "x")


def test_a_stores_options_never_hold_a_credential():
    site = good(api_user_password_store="ocerra.acumatica.hashi_vault", api_user_password_store_options={
        "url": "http://127.0.0.1:8200", "token": "hvs.not-here"})
    del site["api_user_password"]
    found = errors_of(site)
    assert [e.pointer for e in found] == ["/api_user_password_store_options"]
    assert "hvs.not-here" not in found[0].message
    del site["api_user_password_store_options"]["token"]
    assert errors_of(site) == []
