"""Adopting sites (plugin_utils/adopt.py, starting_inventory.py): grouping, host names, the
admin match, the flags, files whose structure no value can change, and no overwrite."""
import pytest
import yaml

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import adopt, starting_inventory as si


class UnsafeLoader(yaml.SafeLoader):
    pass


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def entity(n, url="https://contoso.myobadvanced.com", tenant="Company", login="OcerraAPI", **extra):
    return {"client_id": f"00000000-0000-4000-8000-{n:012d}", "client_name": f"E{n}", "erp_url": url,
            "tenant": tenant, "login": login, "enabled": True, "branch": None, **extra}


def test_entities_are_grouped_by_url_and_tenant_as_the_erp_compares_them():
    sites, unusable = adopt.group([
        entity(1), entity(2, url="HTTPS://Contoso.MYOBadvanced.com/", tenant="company"),
        entity(3, tenant="Other"), entity(4, url=""), entity(5, url="ftp://x/y"), entity(6, tenant=None),
        entity(7, url="http://erp.example.com")])
    assert [(s.url, s.tenant, len(s.entities)) for s in sites] == [
        ("https://contoso.myobadvanced.com", "Company", 2), ("https://contoso.myobadvanced.com", "Other", 1)]
    assert [c["client_name"] for c in unusable] == ["E4", "E5", "E6", "E7"]
    assert unusable[0]["reason"] == "has no ERP URL in Ocerra" and unusable[2]["reason"] == "has no tenant in Ocerra"
    assert "https" in unusable[3]["reason"]         # validation refuses http:// beyond loopback


@pytest.mark.parametrize("logins, chosen", [
    (["api", "api", "OcerraAPI"], "api"),             # most entities
    (["zeta", "OCERRAAPI"], "OCERRAAPI"),             # a tie: the help article's login
    (["zeta", "alpha"], "zeta"),                      # a tie without it: the first entity's
    ([None, None], None),                             # no login at all
])
def test_the_site_login_is_the_one_most_entities_use(logins, chosen):
    site = adopt.FoundSite("https://x.example", "T", [entity(i, login=login) for i, login in enumerate(logins)])
    assert site.login == chosen
    assert len(site.entities) + len(site.others) == len(logins)
    assert all(adopt._same(c["login"], chosen) for c in site.entities)


@pytest.mark.parametrize("url, tenant, name", [
    ("https://contoso.myobadvanced.com", "Company", "contoso_myobadvanced_com_company"),
    ("https://www.erp.example:8443/AcumaticaERP", "Live Co.", "erp_example_8443_acumaticaerp_live_co"),
    ("http://127.0.0.1:8601/acme", "Company", "acme_company"),
    ("http://localhost/", "Main", "main"),
    ("https://10.1.2.3/erp", "Main", "site_10_1_2_3_erp_main"),
    ("https://[::1]:9/x", "Ünïcode", "x_n_code"),
])
def test_host_names_are_stable_and_valid(url, tenant, name):
    assert adopt.host_name(url, tenant) == name


def test_names_two_sites_would_share_get_a_digest_and_existing_hosts_are_not_reused():
    a, b, c = (adopt.FoundSite(u, "Company", [entity(1, url=u)]) for u in
               ("http://127.0.0.1:1/acme", "http://127.0.0.1:2/acme", "https://bravo.example"))
    adopt.name_hosts([a, b, c], taken=["Bravo_Example_Company"])
    assert a.host.startswith("acme_company_") and b.host.startswith("acme_company_") and a.host != b.host
    assert c.host.startswith("bravo_example_company_")
    again = [adopt.FoundSite(s.url, "Company", []) for s in (b, a, c)]
    adopt.name_hosts(again, taken=["bravo_example_company"])
    assert [s.host for s in again] == [b.host, a.host, c.host]


def test_the_first_matching_admin_is_used():
    admins = [{"url": "https://*.myobadvanced.com", "tenant": "Live*", "user": "live"},
              {"url": "https://*.MYOBADVANCED.com", "user": "any"}]
    site = adopt.FoundSite("https://contoso.myobadvanced.com", "LiveCo", [])
    assert adopt.match_admin(site, admins)["user"] == "live"
    assert adopt.match_admin(adopt.FoundSite("https://contoso.myobadvanced.com", "Test", []), admins)["user"] == "any"
    assert adopt.match_admin(adopt.FoundSite("https://erp.example", "Test", []), admins) is None


def test_review_flags_shared_logins_and_what_the_first_provision_would_change():
    site = adopt.FoundSite("https://x.example", "T", [entity(1, login="admin", enabled=False), entity(2, login="other")])
    site.admin = {"user": "Admin"}
    site.user = {"exists": True, "roles": ["Administrator", "AP Clerk"], "licence_types": ["A", "B"],
                 "password_never_expires": False, "enabled": True, "locked": True, "force_password_change": False}
    adopt.review(site)
    text = "\n".join(site.flags)
    assert "uses the login 'other'" in text and "ERP admin's own login 'admin'" in text
    assert "holds Administrator" in text and "set Password Never Expires, unlock the user" in text
    assert "2 licence types" in text and "Enable Connection off" in text


def test_values_from_the_services_cannot_change_the_files_structure():
    evil = 'x"\n  injected: true # {{ lookup("pipe", "id") }}'
    site = adopt.FoundSite("https://x.example/a", evil, [entity(1, url="https://x.example/a", tenant=evil,
                                                           client_name="N\n- client_id: evil")])
    adopt.name_hosts([site])
    site.admin = {"user": "adm: in", "url": "https://x.example/*\n  injected: true"}
    site.user = {"exists": True, "email": evil, "roles": [evil], "licence_types": []}
    files = si.render([site], [], [], [], {"url": "https://ocerra.example", "username": "svc@partner.example"},
                      [site.admin])
    text = files[f"host_vars/{site.host}.yml"]
    assert text.count("!unsafe ") == 3            # tenant, e-mail and role: never templated by Ansible
    host = yaml.load(text, Loader=UnsafeLoader)
    assert host["erp_tenant"] == evil and host["api_user_email"] == evil and host["api_user_roles"] == [evil]
    assert host["ocerra_entities"] == [{"client_id": entity(1)["client_id"]}]
    assert "injected" not in host
    assert yaml.safe_load(files["group_vars/erp_admin_1.yml"]) == {"erp_admin_user": "adm: in"}


def test_an_inventory_folder_is_never_overwritten(tmp_path):
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.yml").write_text("mine\n")
    with pytest.raises(si.Refused):
        si.write(tmp_path / "inv", {"hosts.yml": "theirs\n"})
    assert (tmp_path / "inv" / "hosts.yml").read_text() == "mine\n"
    (tmp_path / "empty").mkdir()
    si.write(str(tmp_path / "empty"), {"host_vars/a.yml": "a: 1\n"})
    assert (tmp_path / "empty" / "host_vars" / "a.yml").read_text() == "a: 1\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".import-")] == []
