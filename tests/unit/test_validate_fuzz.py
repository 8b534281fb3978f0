"""A bounded fuzz test of `./run validate`: generated inventories, bad in one known way (or
not at all), each validated in its own process, forked from a server that has everything
imported (tools/validate.py's main(), as the command runs it).

For every case: the process ends by itself within CASE_SECONDS (no hang) with exit 0 or 1 (no
crash, no signal); no traceback; a refused case names its file (and, for a bad value, the
JSON pointer), an accepted one was valid; no secret and no vaulted value appears in the
output, in any encoding. The counts per class are in CLASS_SIZES; FUZZ_SEED reproduces a run.
"""
import json
import multiprocessing
import os
import random
import string
import time
from pathlib import Path

import pytest

from tests.modules.erp_support import leaked_forms
from tests.unit.test_site_schema import GUID1, vault_block
from tests.unit.validate_child import SERVER, validate_into

ROOT = Path(__file__).resolve().parents[2]
SEED = os.environ.get("FUZZ_SEED", "2026-12")
CASE_SECONDS = 10          # a hang is a failure, not a stuck suite
PATHOLOGICAL_SECONDS = 2   # a YAML bomb is refused in well under a second (plus the fork)
CLASS_SIZES = {"url": 90, "text": 90, "duplicate_key": 50, "yaml_bomb_or_depth": 40, "vaulted_value": 60,
               "secret": 50, "type": 70, "syntax": 40, "unsafe": 40, "valid": 30}

ADMIN_PW, API_PW, OCERRA_PW = "Fz-Admin-Canary-71q!", "Fz-ApiUser-Canary-2Wx#9", "Fz-Ocerra-Canary-5Jk$"
HOST_VARS = "host_vars/h1.yml"


class Case:
    def __init__(self, files, valid, file=HOST_VARS, pointer=None, forbidden=()):
        self.files, self.valid, self.file, self.pointer = files, valid, file, pointer
        self.forbidden = set(forbidden) | {ADMIN_PW, API_PW, OCERRA_PW}


# --------------------------------------------------------------------------- generators

_VAULTED = {}


def vaulted(name, plaintext):
    """`name: !vault |` (sandbox vault id), cached: each encryption costs a key derivation."""
    if (name, plaintext) not in _VAULTED:
        _VAULTED[(name, plaintext)] = vault_block(name, plaintext)
    return _VAULTED[(name, plaintext)]


def base_vars():
    """A valid site, as (name, YAML text) pairs in file order."""
    return [("erp_url", "erp_url: https://acme.myobadvanced.com\n"),
            ("erp_tenant", "erp_tenant: Company\n"),
            ("erp_admin_user", "erp_admin_user: admin\n"),
            ("erp_admin_password", vaulted("erp_admin_password", ADMIN_PW)),
            ("api_user_password", vaulted("api_user_password", API_PW)),
            ("api_user_email", "api_user_email: ocerraapi@partner.example.com\n"),
            ("api_user_roles", "api_user_roles: [AP Clerk, GL Clerk]\n"),
            ("ocerra_username", "ocerra_username: svc@partner.example.com\n"),
            ("ocerra_password", vaulted("ocerra_password", OCERRA_PW)),
            ("ocerra_entities", "ocerra_entities:\n  - client_id: %s\n  - name: Acme Test\n" % GUID1)]


def inventory(replace=None, extra="", drop=(), host_vars_text=None):
    lines = [text for name, text in base_vars() if name not in drop and name not in (replace or {})]
    lines += list((replace or {}).values())
    return {"hosts.yml": "all:\n  hosts:\n    h1:\n",
            HOST_VARS: host_vars_text if host_vars_text is not None else "".join(lines) + extra}


def q(value):
    return json.dumps(value)  # a YAML double-quoted scalar (every control character escaped)


def word(rng, n=8):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def gen_url(rng):
    name = rng.choice(["erp_url", "ocerra_url"])
    host = "%s.example.com" % word(rng)
    password = "Url-Pw-%s!" % word(rng, 10)
    bad = [
        "http://%s/acme" % host, "http://10.%d.0.5:8080/x" % rng.randint(0, 255),
        "https://bob:%s@%s" % (password, host), "https://bob@%s/x" % host,
        "https://%s:%d" % (host, rng.choice([0, 65536, 99999, 123456])), "https://%s:0/" % host,
        "https://%s/" % rng.choice(["1.1.1.1.1", "-", "-a.example.com", "a..b.com", "256.1.1.1", "ab-.com"]),
        "https://%s/a/../../x" % host, "https://%s/a/%s/x" % (host, rng.choice(["%2e%2e", "%2E%2e", ".", ".."])),
        "https://%s/(W(%d))/Main" % (host, rng.randint(1, 99)), "https://%s/Main?CompanyID=2" % host,
        "ftp://%s/x" % host, "file:///etc/passwd", "https://%s/x?y=1" % host, "https://%s/x#f" % host,
        "https://%s/x\n" % host, " https://%s" % host, "https://%s/a b" % host, "%s/acme" % host,
        ("https://%s/entity/Default/22.200.001" % host) if name == "erp_url" else ("https://%s/api/v1" % host),
        "https://%s/%s" % (host, rng.choice(["entity/Default/22.200.001", "entity/auth/login", "odata/x",
                                             "identity/connect/token"])),
    ]
    good = ["http://127.0.0.1:%d/acme" % rng.randint(1, 65535), "http://localhost/x", "https://[::1]:8443/x",
            "https://%s:443/AcumaticaDB" % host, "https://%s" % host, "http://[::1]/x"]
    valid = rng.random() < 0.2
    value = rng.choice(good if valid else bad)
    return Case(inventory({name: "%s: %s\n" % (name, q(value))}), valid, pointer="/" + name,
                forbidden={password})


TEXTS = {"erp_tenant": 128, "erp_admin_user": 64, "api_user_login": 64, "api_user_first_name": 50,
         "api_user_last_name": 50, "erp_branch": 30, "api_user_licence_type": 64}


def gen_text(rng):
    name = rng.choice(sorted(TEXTS) + ["entity_name", "role"])
    limit = TEXTS.get(name, 255 if name == "entity_name" else 64)
    base = "Acme" + word(rng, 4)
    control = rng.choice(["\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\u2028", "\t", "\r",
                          # invisible formatting marks: zero-width, bidirectional, byte order
                          "\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff", "\u00ad"])
    bad = [base + control + "x", control + base, " " + base, base + " ", base + "\n", "\n" + base,
           "a\nb", "x" * (limit + rng.randint(1, 50)), "y" * (1 << 20)]
    if name == "api_user_login":
        bad.append("Ocerra API")
    good = [base, "x" * limit] + (["Ocerra.API-1"] if name == "api_user_login" else ["Acme Live Ltd", "Ünïcode Näme"])
    valid = rng.random() < 0.15
    value = rng.choice(good if valid else bad)
    if name == "entity_name":
        replace = {"ocerra_entities": "ocerra_entities:\n  - client_id: %s\n  - name: %s\n" % (GUID1, q(value))}
        pointer = "/ocerra_entities/1/name"
    elif name == "role":
        replace = {"api_user_roles": "api_user_roles: [AP Clerk, %s]\n" % q(value)}
        pointer = "/api_user_roles/1"
    else:
        replace, pointer = {name: "%s: %s\n" % (name, q(value))}, "/" + name
    return Case(inventory(replace), valid, pointer=pointer)


def gen_duplicate_key(rng):
    where = rng.choice(["host_vars", "entity", "hosts", "group_vars"])
    literal = "Dup-Literal-%s-9Q!" % word(rng)
    if where == "host_vars":
        name = rng.choice(["erp_tenant", "api_user_password", "erp_admin_password", "api_user_login"])
        extra = "%s: %s\n%s: %s\n" % (name, literal, name, literal + "2")
        return Case(inventory(drop=(name,), extra=extra), False, pointer="/" + name,
                    forbidden={literal, literal + "2"})
    if where == "entity":
        key = rng.choice(["name", "password", "client_id"])
        ents = "ocerra_entities:\n  - {client_id: %s, %s: %s, %s: %s}\n" % (GUID1, key, q(literal), key, q(literal))
        return Case(inventory({"ocerra_entities": ents}), False, pointer="/ocerra_entities/0/" + key,
                    forbidden={literal})
    if where == "hosts":
        files = inventory()
        files["hosts.yml"] = "all:\n  hosts:\n    h1:\n      erp_branch: %s\n      erp_branch: %s\n" % (
            q(literal), q(literal))
        return Case(files, False, file="hosts.yml", forbidden={literal})
    files = inventory(drop=("ocerra_password",))
    files["group_vars/all.yml"] = "ocerra_password: %s\nocerra_password: %s\n" % (q(literal), q(literal))
    return Case(files, False, file="group_vars/all.yml", pointer="/ocerra_password", forbidden={literal})


def gen_yaml_bomb_or_depth(rng):
    kind = rng.choice(["bomb", "merge_bomb", "flow_depth", "block_depth", "map_depth", "huge"])
    if kind == "bomb":
        width, levels = rng.randint(6, 12), rng.randint(7, 10)
        text, prev = "a0: &a0 [%s]\n" % ", ".join(["lol"] * width), "a0"
        for i in range(1, levels):
            text += "a%d: &a%d [%s]\n" % (i, i, ", ".join(["*" + prev] * width))
            prev = "a%d" % i
    elif kind == "merge_bomb":
        text, prev = "b0: &b0 {%s}\n" % ", ".join("k%d: v" % i for i in range(10)), "b0"
        for i in range(1, 8):
            text += "b%d: &b%d [%s]\n" % (i, i, ", ".join(["*" + prev] * 10))
            prev = "b%d" % i
    elif kind == "flow_depth":
        depth = rng.choice([65, 500, 5000, 50000])
        text = "erp_tenant: " + "[" * depth + "]" * depth + "\n"
    elif kind == "block_depth":
        text = "x:\n" + "".join("  " * i + "- \n" for i in range(1, rng.randint(70, 300)))
    elif kind == "map_depth":
        depth = rng.choice([100, 5000, 50000])
        text = "x: " + "{a: " * depth + "1" + "}" * depth + "\n"
    else:
        text = "erp_tenant: " + "z" * (2 * 1024 * 1024 + rng.randint(1, 1000)) + "\n"
    return Case(inventory(host_vars_text=text), False)


def gen_vaulted_value(rng):
    canary = "vlt%s" % word(rng, 10)
    name, value, valid = rng.choice([
        ("api_user_email", "%s-not-an-email" % canary, False),
        ("api_user_email", "%s@partner.example.com" % canary, True),
        ("erp_url", "http://%s.example.com/x" % canary, False),
        ("erp_url", "https://%s.example.com/x" % canary, True),
        ("erp_url", "https://u:%s@%s.example.com" % (canary, canary), False),
        ("api_user_login", "%s login" % canary, False),
        ("api_user_login", canary, True),
        ("erp_tenant", " %s" % canary, False),
        ("erp_tenant", canary, True),
        ("ocerra_username", canary, False),
        ("api_user_roles_mode", canary, False),
    ])
    return Case(inventory({name: vaulted(name, value)}), valid, pointer="/" + name, forbidden={canary})


def gen_secret(rng):
    literal = "Plain-%s-Secret-8k!" % word(rng)
    name, text, valid, pointer = rng.choice([
        ("api_user_password", "api_user_password: %s\n" % q(literal), False, "/api_user_password"),
        ("erp_admin_password", "erp_admin_password: %s\n" % q(literal), False, "/erp_admin_password"),
        ("ocerra_password", "ocerra_password: %s\n" % q(literal), False, "/ocerra_password"),
        ("api_user_password", vaulted("api_user_password", "weak%s" % word(rng, 3)), False, "/api_user_password"),
        ("api_user_password", vaulted("api_user_password", literal), True, None),
        ("ocerra_entities", "ocerra_entities:\n  - client_id: %s\n    password: %s\n" % (GUID1, q(literal)),
         False, "/ocerra_entities/0/password"),
        ("erp_admin_pasword", "erp_admin_pasword: %s\n" % q(literal), False, "/erp_admin_pasword"),
    ])
    case = Case(inventory({name: text}), valid, pointer=pointer, forbidden={literal, "weak"})
    case.forbidden.discard("weak")
    return case


def gen_type(rng):
    name = rng.choice(["erp_url", "erp_tenant", "api_user_roles", "ocerra_entities", "erp_validate_certs",
                       "api_user_lockout_threshold", "api_user_password_max_age_days", "ocerra_unlisted_entities"])
    wrong = rng.choice(["42", "[a, b]", "{a: 1}", "null", "true", "-1", "0", "3.5", "''", "[]", "{}"])
    kind = rng.choice(["value", "unknown", "missing", "entity"])
    if kind == "unknown":
        typo = rng.choice(["erp_tenent", "api_user_rolez", "ocerra_entity", "erp_url2"])
        return Case(inventory(extra="%s: x\n" % typo), False, pointer="/" + typo)
    if kind == "missing":
        name = rng.choice(["erp_url", "erp_tenant", "erp_admin_user", "api_user_email", "api_user_roles",
                           "ocerra_username", "ocerra_entities", "api_user_password"])
        return Case(inventory(drop=(name,)), False, file="hosts.yml", pointer="/" + name)  # where h1 is
    if kind == "entity":
        entity, pointer = rng.choice([("{}", "/ocerra_entities/0"), ("{client_id: %s, name: x}" % GUID1, "/ocerra_entities/0"),
                                      ("{client_id: 1234}", "/ocerra_entities/0/client_id"),
                                      ("{name: x, colour: red}", "/ocerra_entities/0/colour"), ("x", "/ocerra_entities/0")])
        return Case(inventory({"ocerra_entities": "ocerra_entities:\n  - %s\n" % entity}), False, pointer=pointer)
    if rng.random() < 0.2:
        name, right = rng.choice([("erp_validate_certs", "false"), ("api_user_lockout_threshold", "5"),
                                  ("api_user_password_max_age_days", "90"), ("ocerra_unlisted_entities", "fail")])
        return Case(inventory({name: "%s: %s\n" % (name, right)}), True)
    valid = (name == "erp_validate_certs" and wrong == "true") or \
            (name in ("api_user_lockout_threshold", "api_user_password_max_age_days") and wrong == "42")
    return Case(inventory({name: "%s: %s\n" % (name, wrong)}), valid, pointer="/" + name)


def gen_syntax(rng):
    text = rng.choice([
        "erp_tenant: [Company\n", "erp_tenant: 'unclosed\n", "erp_tenant: Company\n\tapi_user_login: x\n",
        "a:\n  - b\n c: d\n", "- just\n- a\n- list\n", "erp_tenant: !!python/object:os.system x\n",
        "erp_tenant: *undefined_alias\n", "{{{{\n", ": :\n", "erp_tenant: \"bad \\q escape\"\n",
        "key: value\n...\n---\nother: doc\n", "x: @reserved\n", "erp_tenant: %s\n" % "\x00",
    ])
    if rng.random() < 0.3:
        return Case({"hosts.yml": "all:\n  hosts:\n    h1:\n", HOST_VARS: bytes(rng.getrandbits(8) for _ in range(200))},
                    False)
    return Case(inventory(host_vars_text="".join(t for _, t in base_vars()[:2]) + text), False)


def gen_unsafe(rng):
    """Text written !unsafe (what the import writes for Ocerra's values that look like a template):
    never templated, so checked as the literal text it is."""
    name = rng.choice(["erp_tenant", "api_user_login", "entity_name", "erp_branch"])
    base = "Main" + word(rng, 3)
    bad = [base + "\u2028x {{ 1 }}", base + " {{ 1 }}\n", " {{ lookup('env', 'HOME') }}", base + "\u200b{{ x }}",
           base + "\u202e{% if 1 %}", "{{ x }}" * 40, "\t{# c #}"]
    good = [base + " {{ 1 }}", "{{ lookup('pipe', 'id') }}", base + " {# x #}"]
    if name == "api_user_login":
        good = ["{{x}}", base + "{%y%}"]
    valid = rng.random() < 0.3
    value = rng.choice(good if valid else bad)
    if name == "entity_name":
        replace = {"ocerra_entities": "ocerra_entities:\n  - client_id: %s\n  - name: !unsafe %s\n" % (GUID1, q(value))}
        pointer = "/ocerra_entities/1/name"
    else:
        replace, pointer = {name: "%s: !unsafe %s\n" % (name, q(value))}, "/" + name
    return Case(inventory(replace), valid, pointer=pointer)


def gen_valid(rng):
    extra = rng.choice(["", "erp_branch: HQ\n", "api_user_first_name: Ocerra\napi_user_last_name: API\n",
                        "api_user_licence_type: Full User (Full API)\n", "ocerra_unlisted_entities: fail\n",
                        "api_user_roles_mode: additive\n", "erp_url_comment_free: 1\n"])
    return Case(inventory(extra=extra), not extra.startswith("erp_url_comment_free"),
                pointer="/erp_url_comment_free")


GENERATORS = {"url": gen_url, "text": gen_text, "duplicate_key": gen_duplicate_key,
              "yaml_bomb_or_depth": gen_yaml_bomb_or_depth, "vaulted_value": gen_vaulted_value,
              "secret": gen_secret, "type": gen_type, "syntax": gen_syntax, "unsafe": gen_unsafe, "valid": gen_valid}


def cases(kind):
    rng = random.Random("%s/%s" % (SEED, kind))
    return [GENERATORS[kind](rng) for _ in range(CLASS_SIZES[kind])]


# --------------------------------------------------------------------------- one process per case

@pytest.fixture(scope="module")
def forker():
    os.environ[SERVER] = "1"     # the fork server, started by the first case, warms up
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.unit.validate_child"])
    return context


def run_case(forker, case, folder):
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    output = folder.parent / (folder.name + ".out")
    process = forker.Process(target=validate_into, args=(str(folder), str(output)))
    started = time.monotonic()
    process.start()
    process.join(CASE_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()
        pytest.fail("hung for %ds on %s" % (CASE_SECONDS, folder))
    return process.exitcode, output.read_text(errors="replace"), time.monotonic() - started


def check(case, code, out, seconds, folder):
    where = "case %s (FUZZ_SEED=%s)" % (folder, SEED)
    assert code in (0, 1), "%s: exit %s (a crash or a signal)\n%s" % (where, code, out[:2000])
    assert "Traceback" not in out and "toolkit bug" not in out, "%s: traceback\n%s" % (where, out[:2000])
    leaked = [f for secret in case.forbidden for f in leaked_forms(secret) if len(f) >= 6 and f in out]
    assert not leaked, "%s: a secret or vaulted value is in the output" % where
    if case.valid:
        assert code == 0, "%s: a valid inventory was refused\n%s" % (where, out[:2000])
        return
    assert code == 1, "%s: an invalid inventory was accepted\n%s" % (where, out[:2000])
    errors = [line for line in out.splitlines() if line.startswith(str(folder) + "/")]
    blamed = [e for e in errors if e.startswith("%s/%s:" % (folder, case.file))]
    assert blamed, "%s: no error names %s\n%s" % (where, case.file, out[:2000])
    if case.pointer:
        assert any(": %s: " % case.pointer in e for e in blamed), \
            "%s: no error at %s\n%s" % (where, case.pointer, out[:2000])
    assert all(len(e) < 1000 for e in errors), "%s: an error line quotes too much" % where


@pytest.mark.parametrize("kind", sorted(CLASS_SIZES))
def test_generated_inventories_are_refused_clearly_or_accepted_only_when_valid(forker, tmp_path, kind):
    slow = []
    for i, case in enumerate(cases(kind)):
        folder = tmp_path / ("%s-%03d" % (kind, i))
        code, out, seconds = run_case(forker, case, folder)
        check(case, code, out, seconds, folder)
        if kind == "yaml_bomb_or_depth" and seconds > PATHOLOGICAL_SECONDS:
            slow.append((folder.name, round(seconds, 2)))
    assert not slow, "pathological YAML not refused fast enough: %s" % slow


def test_the_fuzz_covers_at_least_500_inventories_over_every_class():
    assert sum(CLASS_SIZES.values()) >= 500 and set(CLASS_SIZES) == set(GENERATORS)
    mixed = {kind: {c.valid for c in cases(kind)} for kind in ("url", "text", "vaulted_value", "type")}
    assert all(seen == {True, False} for seen in mixed.values()), mixed   # both answers are exercised
