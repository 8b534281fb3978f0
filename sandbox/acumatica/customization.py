"""The Customization Web API (§10): projects stored per tenant, published asynchronously.

Every answer is 200 with a `log`; errors come in-band as `logType: error` entries, except an
invalid project name (HTTP 500). Publishing takes an instance-wide lock and completes only
when polled (`publishEnd`), as switch `customization` decides: polls needed, outcome, and
connections dropped while the site "restarts".
"""
import base64
import binascii
import re

from . import endpoint, texts
from .errors import AcumaticaError, NotFound, http_error
from .state import Project
from sandbox.faults import DropConnection

_NAME = re.compile(r"^[A-Za-z0-9]+$")
# POSTs that only read: not counted as writes, so tests can assert "zero writes".
READ_ONLY_METHODS = {"getpublished", "getproject"}


class CustomizationApi:
    def __init__(self, instance, tenant, switches, now):
        self.instance, self.tenant, self.now = instance, tenant, now
        self.settings = switches["customization"]
        self.licence_view = switches["licence_view_on_acumatica"]

    def call(self, method, body) -> dict:
        handler = {"import": self.import_, "publishbegin": self.publish_begin,
                   "publishend": self.publish_end, "getpublished": self.get_published,
                   "getproject": self.get_project, "delete": self.delete,
                   "unpublishall": self.unpublish_all}.get(method.lower())
        if handler is None:
            raise NotFound(f"/{self.instance.name}/CustomizationApi/{method}")
        # ASP.NET binds JSON members case-insensitively.
        fields = {str(k).lower(): v for k, v in (body or {}).items()} if isinstance(body, dict) else {}
        return handler(fields)

    def _entry(self, message, log_type="information"):
        return {"timestamp": self.now.isoformat(), "logType": log_type, "message": message}

    def _error(self, message, **extra):
        return {**extra, "log": [self._entry(message, "error")]}

    def _tenants(self, body):
        mode = body.get("tenantmode") or "Current"
        if mode == "Current":
            return [self.tenant], None
        if mode == "All":
            return list(self.instance.tenants.values()), None
        names = body.get("tenantloginnames") or []
        missing = [n for n in names if n not in self.instance.tenants]
        if mode != "List" or missing or not names:
            return None, f"Invalid tenant selection: mode {mode!r}, tenants {missing or names}."
        return [self.instance.tenants[n] for n in names], None

    def import_(self, body):
        name = body.get("projectname") or ""
        if not _NAME.match(name):
            raise AcumaticaError(500, http_error(texts.INVALID_PROJECT_NAME))
        content = body.get("projectcontentbase64")
        existing = self.tenant.projects.get(name)
        if not content:
            if existing is None:
                return self._error(texts.PROJECT_NOT_FOUND.format(name))
            del self.tenant.projects[name]
            return {"log": [self._entry(f"Remove project: {name}")]}
        if existing is not None and not body.get("isreplaceifexists"):
            return self._error(texts.PROJECT_EXISTS.format(name))
        try:
            parsed = endpoint.parse_project(base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError) as exc:
            return self._error(str(exc) if isinstance(exc, endpoint.ProjectError)
                               else "The project content is not valid base64.")
        description = body.get("projectdescription") or parsed.description
        self.tenant.projects[name] = Project(name, description, int(body.get("projectlevel") or 0),
                                             endpoint.package(parsed.xml, description),
                                             parsed.endpoints)
        verb = "Update project" if existing else "Create new project"
        return {"log": [self._entry(f"{verb}: {name}")]}

    def publish_begin(self, body):
        names = body.get("projectnames") or []
        if not names:
            return self._error("No projects to publish.")
        missing = [n for n in names if n not in self.tenant.projects]
        if missing:
            return self._error(texts.PROJECT_NOT_FOUND.format(", ".join(missing)))
        tenants, problem = self._tenants(body)
        if problem:
            return self._error(problem)
        running = self.instance.publication and not self.instance.publication["result"]
        if running or self.settings["publish_outcome"] == "lock_conflict":
            return self._error(texts.PUBLISH_LOCKED)
        self.instance.publication = {
            "projects": [self.tenant.projects[n] for n in names], "tenants": tenants,
            "merge": body.get("ismergewithexistingpackages", True) is not False,
            "validate_only": bool(body.get("isonlyvalidation")),
            "polls_left": self.settings["publish_polls"],
            "drops_left": self.settings["restart_drops"],
            "outcome": self.settings["publish_outcome"], "result": None}
        return {"log": [self._entry("Publishing has started.")]}

    def publish_end(self, _body):
        pub = self.instance.publication
        if pub is None:
            return self._error(texts.NO_PUBLICATION, isCompleted=True, isFailed=True)
        if pub["result"]:
            return pub["result"]
        if pub["drops_left"] > 0:
            pub["drops_left"] -= 1
            raise DropConnection()
        pub["polls_left"] -= 1
        if pub["polls_left"] > 0:
            return {"isCompleted": False, "isFailed": False,
                    "log": [self._entry("Publishing is in progress.", "trace")]}
        if pub["outcome"] == "failed":
            pub["result"] = self._error(texts.PUBLISH_FAILED, isCompleted=True, isFailed=True)
        elif self._licences_refused(pub):
            pub["result"] = self._error(
                texts.NO_SUCH_VIEW.format(endpoint.LICENCE_VIEW, endpoint.USER_SCREEN),
                isCompleted=True, isFailed=True)
        elif pub["outcome"] == "inband_error":
            pub["result"] = self._error(texts.PUBLISH_INBAND, isCompleted=True, isFailed=False)
        else:
            if not pub["validate_only"]:
                for tenant in pub["tenants"]:
                    if not pub["merge"]:
                        tenant.published.clear()
                    tenant.published.update({p.name: p for p in pub["projects"]})
            pub["result"] = {"isCompleted": True, "isFailed": False,
                             "log": [self._entry("Website updated.")]}
        return pub["result"]

    def _licences_refused(self, pub):
        """Plain Acumatica has no licence view: an endpoint mapping it fails to publish, unless
        switch licence_view_on_acumatica says the publish goes through (and breaks the API)."""
        return (self.instance.flavour == "acumatica" and self.licence_view == "publish_fails" and
                any(endpoint.maps_licences(e) for p in pub["projects"] for e in p.endpoints))

    def get_published(self, _body):
        if not self.tenant.published:
            return {"log": []}   # no `projects` key when nothing is published (3P)
        items = [{"key": f"{e.name}/{e.version}", "screenId": None, "type": "EntityEndpoint"}
                 for p in self.tenant.published.values() for e in p.endpoints]
        return {"projects": [{"name": n} for n in self.tenant.published], "items": items,
                "log": []}

    def get_project(self, body):
        name = body.get("projectname") or ""
        project = self.tenant.projects.get(name)
        if project is None:
            return self._error(texts.PROJECT_NOT_FOUND.format(name))
        return {"projectContentBase64": base64.b64encode(project.content).decode(),
                "hasConflicts": False, "log": []}

    def delete(self, body):
        name = body.get("projectname") or ""
        if name not in self.tenant.projects:
            return self._error(texts.PROJECT_NOT_FOUND.format(name))
        if name in self.tenant.published:
            return self._error(texts.PROJECT_PUBLISHED.format(name))
        del self.tenant.projects[name]
        return {"log": [self._entry(f"The project {name} has been deleted.")]}

    def unpublish_all(self, body):
        tenants, problem = self._tenants(body)
        if problem:
            return self._error(problem)
        for tenant in tenants:
            tenant.published.clear()
        return {"log": [self._entry("All projects have been unpublished.")]}
