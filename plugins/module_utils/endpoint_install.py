"""Install the User endpoint on a site, idempotently (erp_endpoint and erp_user share it).

The published project is compared by the digest its description carries, read back with
getProject because getPublished can list a project whose content vanished. Only a
different (or missing) digest imports and publishes; check mode never publishes.
"""
from . import acumatica_errors as ae
from . import user_endpoint as ue


def installed_digest(client):
    """The digest of the published OcerraUserAdmin project in this tenant, or None."""
    names = {str(n).casefold() for n in client.published_projects()}
    if ue.PROJECT.casefold() not in names:
        return None
    content = client.get_project(ue.PROJECT)
    return ue.digest_of_package(content) if content else None


def endpoint_listed(client):
    return (ue.ENDPOINT, ue.VERSION) in client.endpoints()


def ensure_published(client, check_mode, *, missing=False):
    """Make the tenant serve UserAdmin/1.0.0 from this release's project.

    `missing=True` (the caller just got a 404 from the endpoint) skips the comparison and
    publishes. Returns changed, digest, published_digest (before) and publish_log.
    """
    want = ue.digest()
    have = None
    if not missing:
        have = installed_digest(client)
        if have == want and endpoint_listed(client):
            return {"changed": False, "digest": want, "published_digest": have, "publish_log": []}
    if check_mode:
        return {"changed": True, "digest": want, "published_digest": have, "publish_log": []}
    client.import_project(ue.PROJECT, ue.description(), ue.project_zip())
    log = client.publish([ue.PROJECT])
    if not endpoint_listed(client):
        raise ae.CustomizationFailed(
            f"{ue.PROJECT} was published on MYOB Acumatica {client.site}, but GET /entity does not list "
            f"{ue.ENDPOINT}/{ue.VERSION}. Check Web Service Endpoints (SM207060) in this tenant.",
            publish_log=log)
    return {"changed": True, "digest": want, "published_digest": have, "publish_log": log}
