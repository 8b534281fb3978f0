"""A plain Acumatica site (no licence types) next to MYOB ones: the toolkit publishes only the core
User endpoint there, and a MYOB licence type named for it fails that site alone, clearly, with its
contract API left working (under both values of the sandbox's licence_view_on_acumatica switch)."""
import pytest

pytestmark = pytest.mark.integration

LICENCE_LINE = "api_user_licence_type: Full User (Full API)\n"


def plain_charlie(sandbox, seed_copy, switch):
    for inst in seed_copy["acumatica"]["instances"]:
        if inst["name"] == "charlie":
            inst["flavour"] = "acumatica"
            for tenant in inst["tenants"]:
                tenant.pop("licence_types", None)
                for user in tenant.get("users") or []:
                    user.pop("licence_types", None)
    seed_copy["acumatica"]["switches"]["licence_view_on_acumatica"] = switch
    sandbox.reset(seed=seed_copy)


def published(sandbox, instance):
    inst = next(i for i in sandbox.erp.state()["instances"] if i["name"] == instance)
    return sorted(inst["tenants"][0]["published"])


def licence_type_only_on_myob_sites(site):
    """The inventory as a partner writes it for a plain Acumatica charlie: no licence type there."""
    shared = site.vars_file()
    shared.write_text(shared.read_text().replace(LICENCE_LINE, ""))
    for host in ("acme", "bravo"):
        site.append(host, LICENCE_LINE)


@pytest.mark.parametrize("switch", ["publish_fails", "breaks_api"])
def test_a_plain_acumatica_site_gets_the_core_endpoint_only(site, sandbox, seed_copy, switch):
    plain_charlie(sandbox, seed_copy, switch)
    licence_type_only_on_myob_sites(site)
    run = site.provision()
    assert run.rc == 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "changed", "charlie": "changed"}
    assert published(sandbox, "charlie") == ["OcerraUserAdmin"]
    assert published(sandbox, "acme") == ["OcerraUserAdmin", "OcerraUserAdminMyob"]
    assert site.api_user("charlie")["licence_types"] == [] and site.api_user("acme")["licence_types"]
    before = site.writes()
    again = site.provision()
    assert again.statuses() == {"acme": "ok", "bravo": "ok", "charlie": "ok"} and site.writes() == before


@pytest.mark.parametrize("switch", ["publish_fails", "breaks_api"])
def test_a_licence_type_named_for_a_plain_acumatica_site_fails_it_alone(site, sandbox, seed_copy, switch):
    plain_charlie(sandbox, seed_copy, switch)
    untouched = site.connections("charlie")
    run = site.provision()
    assert run.rc != 0, run
    assert run.statuses() == {"acme": "changed", "bravo": "changed", "charlie": "failed"}
    reason = run.report["sites"]["charlie"]["reason"]
    assert "remove api_user_licence_type" in reason
    said = {"publish_fails": "the core endpoint UserAdmin/1.0.0 is published and unchanged",
            "breaks_api": "was unpublished again"}[switch]
    assert said in reason
    assert published(sandbox, "charlie") == ["OcerraUserAdmin"]
    assert site.connections("charlie") == untouched          # its entities left as they were
    licence_type_only_on_myob_sites(site)                     # the advice taken: it provisions
    fixed = site.provision()
    assert fixed.rc == 0, fixed
    assert fixed.statuses()["charlie"] == "changed"
