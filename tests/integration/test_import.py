"""playbooks/import.yml against sites connected by hand: the grouping, the naming, the flags,
the placeholders `./run validate` names, a `provision --check` that plans no change, and the
rule that an inventory is never overwritten."""
import os
import re
import subprocess

import pytest
import yaml

from bench import gen
from tests.integration.conftest import default_seed_dict
from tests.integration.helpers import ANSIBLE_BIN, ROOT, OCERRA_LOGIN, Site, decrypt, leaked_forms, vault_block

HAND = {"acme": "Acme-typed-by-hand-2024", "bravo": "Bravo-typed-by-hand-2024", "charlie": "Charlie-by-hand-2024x"}
ROLES = ["AP Clerk", "GL Clerk", "TX Viewer"]
BRAVO_OLD = "b4a00000-0000-4000-8000-000000000002"
ZULU = "2e1a0000-0000-4000-8000-000000000001"
UNUSED = "0e0e0000-0000-4000-8000-000000000001"
HOSTS = {"acme_company", "bravo_bravolive", "charlie_main", "zulu_main"}


def hand_connected_seed():
    """The demo's sites as a partner connected them by hand: an OcerraAPI user in each ERP
    (the toolkit's endpoint published on acme and bravo only), every entity connected; bravo
    has a second entity with another login, zulu's entity uses an ERP that does not exist, and
    one entity has no ERP settings at all."""
    seed = default_seed_dict()
    admins = {}
    for instance in seed["acumatica"]["instances"]:
        name, tenant = instance["name"], instance["tenants"][0]
        tenant["user_endpoint_installed"] = name != "charlie"
        admins[name] = tenant["users"][0]["password"]
        tenant["users"].append({
            "username": "OcerraAPI", "password": HAND[name], "email": f"api@{name}.example.com",
            "first_name": "Ocerra", "last_name": "By hand", "user_type": "API User", "roles": ROLES,
            "licence_types": ["Full User (Full API)"], "is_approved": True, "locked": False,
            "force_change": False, "password_never_expires": True})
    for client in seed["ocerra"]["clients"]:
        instance = client["settings"]["baseUrl"].rsplit("/", 1)[1]
        client["settings"].update(login="OcerraAPI", password=HAND[instance], enableConnection=True)
    seed["ocerra"]["clients"] += [
        {"id": BRAVO_OLD, "name": "Bravo Old\nline",       # a name that must not break a comment
         "settings": {"baseUrl": "{acumatica}/bravo/", "tenant": "bravolive", "login": "ocerra",
                      "password": "Old-login-password-1", "enableConnection": True}},
        {"id": ZULU, "name": "Zulu Live",
         "settings": {"baseUrl": "{acumatica}/zulu", "tenant": "Main", "login": "OcerraAPI",
                      "password": "Zulu-password-12345", "enableConnection": True}},
        {"id": UNUSED, "name": "Not connected", "settings": {}}]
    seed["ocerra"]["users"][0]["clients"] += [BRAVO_OLD, ZULU, UNUSED]
    return seed, admins


@pytest.fixture
def world(sandbox, tmp_path):
    seed, admins = hand_connected_seed()
    sandbox.reset(seed=seed)
    sandbox.clock.advance(16 * 60)          # the hand-typed passwords are not a change going on
    sandbox.ocerra.sync()                   # Ocerra has signed in with them: Connected
    runner = Site(sandbox, tmp_path)
    yield runner, admins
    runner.assert_sessions_balanced()


def run_import(site, admins, dest, *args, existing=None, admin_for=("acme", "bravo", "charlie", "zulu")):
    url = site.sandbox.acumatica_url
    patterns = {"acme": f"{url}/acme", "charlie": f"{url}/char*", "bravo": f"{url.replace('127.0.0.1', '127.0.0.*')}/bravo", "zulu": "*/zulu"}
    lines = [f"import_dest: {dest}", f"ocerra_url: {site.sandbox.ocerra_url}", f"ocerra_username: {OCERRA_LOGIN}",
             vault_block("ocerra_password", site.variables("acme")["ocerra_password"]).rstrip("\n"),
             "import_erp_admins:"]
    for name in admin_for:
        lines += [f"  - url: \"{patterns[name]}\"", "    user: admin",
                  vault_block("password", admins.get(name, "Not-the-admin-password-1"), "    ").rstrip("\n")]
    if existing:
        lines.append(f"import_existing: {existing}")
    vars_file = site.tmp / "adopt.yml"
    vars_file.write_text("\n".join(lines) + "\n")
    return import_playbook(site, vars_file, *args)


def import_playbook(site, vars_file, *args):
    """playbooks/import.yml with the variables file, the test's own state folder; (process, output)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([str(ANSIBLE_BIN / "ansible-playbook"), "playbooks/import.yml", "-e", f"@{vars_file}",
                           "-e", f"toolkit_state_dir={site.state_dir}", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return done, done.stdout + done.stderr


def secrets_of(site, admins):
    return set(HAND.values()) | set(admins.values()) | {"Old-login-password-1", "Zulu-password-12345",
                                                        site.variables("acme")["ocerra_password"]}


def assert_nothing_secret(texts, secrets):
    for secret in secrets:
        for form in leaked_forms(secret):
            for text in texts:
                assert form not in text


def files_of(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def validate_errors(folder):
    """(host, pointer, message) of every error ./run validate reports on `folder`."""
    done = subprocess.run([str(ANSIBLE_BIN / "python"), "-m", "tools.validate", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))
    errors = set()
    for line in done.stdout.splitlines():
        found = re.match(r"^\S+: (\w+): (/\S*): (.*)$", line)
        if found:
            errors.add(found.groups())
    return done, errors


def fill_in(folder, admins):
    """What a partner does after the import: the vaulted credentials in place of the FILL IN lines."""
    def replace(path, name, value):
        text = path.read_text()
        text, n = re.subn(rf"^# FILL IN {name}:.*\n(#   .*\n)?", vault_block(name, value).replace("\\", "\\\\"),
                          text, flags=re.M)
        assert n == 1, (path, name)
        path.write_text(text)

    groups = yaml.safe_load((folder / "hosts.yml").read_text())["all"]["children"]
    for host in HOSTS:
        instance = host.split("_")[0]
        path = folder / "host_vars" / f"{host}.yml"
        group = [g for g, members in groups.items() if g.startswith("erp_admin_") and host in members["hosts"]]
        replace(folder / "group_vars" / f"{group[0]}.yml" if group else path, "erp_admin_password",
                admins.get(instance, "Unknown-admin-password-1"))
        replace(path, "api_user_password", HAND.get(instance, "Zulu-password-12345"))
        if "# FILL IN erp_admin_user" in path.read_text():
            path.write_text(path.read_text().replace("# FILL IN erp_admin_user", "erp_admin_user: admin\n#"))
    replace(folder / "group_vars" / "all.yml", "ocerra_password", "NMg7j#0oxJ48%rsrrhU1A9")


def test_import_groups_names_flags_and_writes_an_inventory_provision_plans_no_change_for(world, tmp_path):
    site, admins = world
    dest = tmp_path / "imported"
    done, out = run_import(site, admins, dest)
    assert done.returncode == 0, out
    assert re.search(r"import: ERP 4/4: ", out) and "import: Ocerra: 9 entities read, 4 ERP sites" in out, out
    files = files_of(dest)
    assert_nothing_secret([out, *files.values()], secrets_of(site, admins))
    admin_groups = {f"group_vars/erp_admin_{n}.yml" for n in (1, 2, 3, 4)}
    assert set(files) == {"IMPORT.md", "hosts.yml", "group_vars/all.yml"} | admin_groups | {
        f"host_vars/{h}.yml" for h in HOSTS}
    children = yaml.safe_load(files["hosts.yml"])["all"]["children"]
    assert set(children["imported"]["hosts"]) == HOSTS
    # One group per admin entry, in the entries' order (acme, bravo, charlie, zulu): its credentials once.
    assert [set(children[f"erp_admin_{n}"]["hosts"]) for n in (1, 2, 3, 4)] == [{h} for h in sorted(HOSTS)]
    assert yaml.safe_load(files["group_vars/erp_admin_1.yml"]) == {"erp_admin_user": "admin"}
    assert "# FILL IN erp_admin_password" in files["group_vars/erp_admin_1.yml"]
    assert "erp_admin" not in files["host_vars/acme_company.yml"]

    # Grouping: the entity with another login is not managed, and says why; URL and tenant as the ERP compares.
    bravo = yaml.safe_load(files["host_vars/bravo_bravolive.yml"])
    assert [e["client_id"] for e in bravo["ocerra_entities"]] == ["b4a00000-0000-4000-8000-000000000001"]
    assert f"#  - client_id: \"{BRAVO_OLD}\"   # Bravo Old line (login ocerra)" in files["host_vars/bravo_bravolive.yml"]
    acme = yaml.safe_load(files["host_vars/acme_company.yml"])
    assert acme["erp_url"] == f"{site.sandbox.acumatica_url}/acme" and acme["erp_tenant"] == "Company"
    assert len(acme["ocerra_entities"]) == 3
    assert acme["api_user_roles"] == sorted(ROLES) and acme["api_user_licence_type"] == "Full User (Full API)"
    assert acme["api_user_email"] == "api@acme.example.com" and acme["api_user_last_name"] == "By hand"
    shared = yaml.safe_load(files["group_vars/all.yml"])
    assert shared["api_user_login"] == "OcerraAPI" and "erp_admin_user" not in shared
    assert shared["ocerra_username"] == OCERRA_LOGIN and "ocerra_password" not in shared

    # The flags: two logins, no endpoint, an unknown ERP, an entity without ERP settings.
    report = files["IMPORT.md"]
    assert re.search(r"\*\*bravo_bravolive\*\*.*'Bravo Old line' \(" + BRAVO_OLD + r"\) uses the login 'ocerra'", report)
    assert re.search(r"\*\*charlie_main\*\*.*User endpoint is not published", report)
    assert re.search(r"\*\*zulu_main\*\*.*its API user could not be read", report)
    assert re.search(r"'Not connected' \(" + UNUSED + r"\) has no ERP URL in Ocerra", report)
    assert "**acme_company**" not in report

    # ./run validate names exactly what is missing: the credentials, nothing else.
    _, errors = validate_errors(dest)
    missing = {(h, p) for h, p, m in errors if "is required" in m}
    assert errors and all("is required" in m for _, _, m in errors), errors
    assert {p for _, p in missing} == {"/erp_admin_password", "/api_user_password", "/ocerra_password"}, errors
    assert {h for h, _ in missing} == HOSTS

    fill_in(dest, admins)
    done, errors = validate_errors(dest)
    assert done.returncode == 0 and not errors, done.stdout + done.stderr

    check = site.start("provision.yml", "--check", "-i", str(dest), "-l", "acme_company,bravo_bravolive")
    run = site.finish(check, check_secrets=False)
    assert run.statuses() == {"acme_company": "ok", "bravo_bravolive": "ok"}, run
    assert site.writes() == (0, 0), site.writes()


def test_an_inventory_is_never_overwritten_and_an_existing_one_gets_only_what_it_lacks(world, tmp_path):
    site, admins = world
    dest = tmp_path / "imported"
    dest.mkdir()
    (dest / "hosts.yml").write_text("kept: as it was\n")
    before = len(site.erp_log()), len(site.ocerra_log())
    done, out = run_import(site, admins, dest)
    assert done.returncode != 0 and "never overwrites an inventory" in out, out
    assert files_of(dest) == {"hosts.yml": "kept: as it was\n"}
    assert (len(site.erp_log()), len(site.ocerra_log())) == before      # refused before any sign-in

    # site.inventory is the toolkit's own inventory of acme, bravo and charlie; acme lists two of
    # its three entities, bravo names the wrong login: only zulu is new.
    text = site.vars_file("acme").read_text()
    site.vars_file("acme").write_text(re.sub(r"^  - client_id: ac3e0000-0000-4000-8000-000000000003.*\n", "", text, flags=re.M))
    site.append("bravo", "api_user_login: BravoAPI\n")
    before = files_of(site.inventory)
    new = tmp_path / "new"
    done, out = run_import(site, admins, new, existing=site.inventory)
    assert done.returncode == 0, out
    assert files_of(site.inventory) == before
    files = files_of(new)
    assert set(yaml.safe_load(files["hosts.yml"])["all"]["children"]["imported"]["hosts"]) == {"zulu_main"}
    assert "acme: entity 'Acme NZ' (ac3e0000-0000-4000-8000-000000000003) uses this site but is not in its " \
           "ocerra_entities" in out
    assert "bravo: its entities sign in as 'OcerraAPI', the inventory says 'BravoAPI'" in files["IMPORT.md"]
    assert_nothing_secret([out, *files.values()], secrets_of(site, admins))


def test_check_mode_reads_and_writes_nothing(world, tmp_path):
    site, admins = world
    dest = tmp_path / "imported"
    done, out = run_import(site, admins, dest, "--check")
    assert done.returncode == 0 and "4 new site(s) would be written" in out, out
    assert not dest.exists() and site.writes() == (0, 0)


def test_a_large_account_is_imported_in_one_run_with_progress(sandbox, tmp_path):
    """150 sites x 2 entities, one admin per site: every site read and written, progress shown."""
    sites = gen.make_sites(150)
    seed = gen.make_seed(sites, "Bench-ocerra-password-1")
    for client in seed["ocerra"]["clients"]:
        client["settings"]["login"] = "OcerraAPI"
    sandbox.reset(seed=seed)
    url = sandbox.acumatica_url
    adopt_vars = {"import_dest": str(tmp_path / "imported"), "ocerra_url": sandbox.ocerra_url,
                  "ocerra_username": gen.OCERRA_LOGIN, "ocerra_password": "Bench-ocerra-password-1",
                  "import_erp_admins": [{"url": f"{url}/{s['instance']}", "user": "admin", "password": s["admin_password"]}
                                        for s in sites]}
    (tmp_path / "adopt.yml").write_text(yaml.safe_dump(adopt_vars))
    done, out = import_playbook(Site(sandbox, tmp_path), tmp_path / "adopt.yml")
    assert done.returncode == 0, out
    assert "import: Ocerra: 300 entities read, 150 ERP sites" in out and "import: ERP 150/150: " in out
    hosts = sorted(p.stem for p in (tmp_path / "imported" / "host_vars").iterdir())
    assert hosts == sorted(f"{s['instance']}_company" for s in sites)
    report = (tmp_path / "imported" / "IMPORT.md").read_text()
    assert report.count("the ERP has no user 'OcerraAPI': the first provision would create it") == 150
    assert_nothing_secret([out, report], {s["admin_password"] for s in sites} | {"Bench-ocerra-password-1"})
    counters = sandbox.erp.counters().values()
    assert sum(c["signins"] for c in counters) == 150 == sum(c["signouts"] for c in counters)


def test_three_imports_with_a_wrong_admin_password_lock_nobody(world, tmp_path):
    site, admins = world
    wrong = dict(admins, bravo="Wrong-admin-password-9")
    failed = {k: c["failed_signins"] for k, c in site.sandbox.erp.counters().items()}     # Ocerra's sync's
    notes = []
    for n in range(3):
        done, out = run_import(site, wrong, tmp_path / f"imported-{n}")
        assert done.returncode == 0, out
        notes.append((tmp_path / f"imported-{n}" / "IMPORT.md").read_text())
    assert_nothing_secret(notes, {"Wrong-admin-password-9"})
    counters = site.sandbox.erp.counters()
    added = {k: c["failed_signins"] - failed.get(k, 0) for k, c in counters.items()}
    assert added == {k: int(k == "bravo/BravoLive") for k in added}     # the first import's; then not tried
    bravo = next(t for i in site.sandbox.erp.state()["instances"] if i["name"] == "bravo" for t in i["tenants"])
    assert not next(u for u in bravo["users"] if u["username"] == "admin")["locked"]
    assert "invalid credentials" in notes[0]
    assert all("Not signing in as 'admin' on MYOB Acumatica" in n and "refused 1 time(s)" in n for n in notes[1:])


def test_fifty_sites_from_nothing_to_connected_with_only_the_partners_secrets_typed(sandbox, tmp_path):
    """The README's adoption path: 50 sites connected by hand (an API password nobody has any
    more), one partner admin for every ERP. Import with a store, type the Ocerra and the admin
    passwords once each, validate, provision: every entity Connected, every password in the store."""
    partner_admin, ocerra_password = "Partner-admin-Pw-2026!x", "Bench-ocerra-password-1"
    sites = gen.make_sites(50)
    seed = gen.make_seed(sites, ocerra_password)
    hand = {}
    for instance, facts in zip(seed["acumatica"]["instances"], sites):
        tenant = instance["tenants"][0]
        tenant["users"][0]["password"] = partner_admin
        hand[facts["instance"]] = facts["api_password"]
        tenant["users"].append({"username": "OcerraAPI", "password": facts["api_password"],
                                "email": f"api@{facts['instance']}.example.com", "first_name": "Ocerra",
                                "last_name": "API", "user_type": "API User", "roles": list(gen.ROLES),
                                "licence_types": [gen.LICENCE], "password_never_expires": True})
    for client in seed["ocerra"]["clients"]:
        instance = client["settings"]["baseUrl"].rsplit("/", 1)[1]
        client["settings"].update(login="OcerraAPI", password=hand[instance], enableConnection=True)
    sandbox.reset(seed=seed)
    sandbox.clock.advance(16 * 60)
    sandbox.ocerra.sync()
    runner = Site(sandbox, tmp_path)
    dest = tmp_path / "partner"
    (tmp_path / "adopt.yml").write_text(
        f"import_dest: {dest}\nocerra_url: {sandbox.ocerra_url}\nocerra_username: {gen.OCERRA_LOGIN}\n"
        + vault_block("ocerra_password", ocerra_password) + "import_erp_admins:\n"
        + f"  - url: \"{sandbox.acumatica_url}/*\"\n    user: admin\n" + vault_block("password", partner_admin, "    ")
        + "import_password_store: vault_file\nimport_password_vault_id: sandbox\n")
    done, out = import_playbook(runner, tmp_path / "adopt.yml")
    assert done.returncode == 0, out
    files = files_of(dest)
    assert sum("FILL IN" in text for text in files.values() if not text.startswith("# Import")) == 2
    assert "takes the site over" in files["group_vars/all.yml"] or "takes each site over" in files["IMPORT.md"]

    # What the partner types: the two secrets, once each.
    for path, name, value in ((dest / "group_vars" / "all.yml", "ocerra_password", ocerra_password),
                              (dest / "group_vars" / "erp_admin_1.yml", "erp_admin_password", partner_admin)):
        text, n = re.subn(rf"^# FILL IN {name}:.*\n(#   .*\n)?", vault_block(name, value).replace("\\", "\\\\"),
                          path.read_text(), flags=re.M)
        assert n == 1
        path.write_text(text)
    checked, errors = validate_errors(dest)
    assert checked.returncode == 0 and not errors, checked.stdout + checked.stderr

    runner.inventory = dest
    runner.extra_secrets |= set(hand.values()) | {partner_admin, ocerra_password}
    run = runner.finish(runner.start("provision.yml"), check_secrets=False)
    stores = [yaml.safe_load(decrypt(p.read_text())) for p in (dest / ".api-user-passwords").glob("*.yml")]
    assert len(stores) == 50 and all(st["current"] and not st.get("pending") for st in stores)
    runner.extra_secrets |= {st["current"] for st in stores}
    runner.assert_no_secret(run)
    assert run.rc == 0 and set(run.statuses().values()) == {"changed"}, [e["reason"] for e in run.report["sites"].values()][:3]
    assert all(e["reason"].startswith("Take-over") and e["rotation"] == "finished" for e in run.report["sites"].values())
    clients = sandbox.ocerra.state()["clients"]
    assert len(clients) == 100 and all(c["settings"]["status"]["code"] == "Connected" and
                                       c["settings"]["enableConnection"] for c in clients)
    again = runner.finish(runner.start("provision.yml"), check_secrets=False)
    assert set(again.statuses().values()) == {"ok"}, again
