"""HTTP of the fake Ocerra (ocerra.md §3, §6.2): each route maps one model call, no rules.

The /api/Acumatica/* and /api/Client/Switch routes are the ASSUMED surface of §6, kept in
this one table so they can be swapped once Ocerra documents its real endpoints.
"""
import json

from flask import Flask, Response, g, jsonify, request

from sandbox.http import control_route, install_common
from .errors import OcerraError

PRODUCT = ("/api/", "/odata/")


def _arg(name):
    """A query parameter, matched case-insensitively as ASP.NET model binding does."""
    return next((v for k, v in request.args.items() if k.lower() == name.lower()), None)


def _on_target(client_id):
    g.site = client_id     # install_common counts requests and writes per client with it


def create_app(model) -> Flask:
    app = Flask("sandbox.ocerra")
    install_common(app, model, model.log, model.faults, model.clock)

    @app.before_request
    def _basic_auth():
        """Every product route, even an unknown one, needs Basic credentials first."""
        if request.path.startswith(PRODUCT):
            auth = request.authorization
            basic = auth if auth is not None and auth.type == "basic" else None
            g.user = model.authenticate(basic and basic.username, basic and basic.password)

    @app.errorhandler(OcerraError)
    def _error(err):
        if err.body is None:
            return Response(b"", err.status, err.headers)
        data = json.dumps(err.body) if "json" in err.content_type else err.body
        return Response(data, err.status, err.headers, content_type=err.content_type)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _no_route(err):
        return Response(b"", err.code)   # ASP.NET answers unknown routes with no body

    # ---- confirmed public API (ocerra.md §3) ----------------------------------------------
    @app.get("/api/Ping")
    def ping():
        return jsonify(_arg("message"))

    @app.get("/api/Client/Current")
    def current_client():
        return jsonify(model.current_client(g.user, _on_target))

    @app.get("/odata/OtherClients()")
    def other_clients():
        return jsonify({"@odata.context": f"{request.host_url}odata/$metadata#Client",
                        "value": model.other_clients(g.user)})

    @app.get("/api/Client")
    def list_clients():
        """ASSUMED: the REST list of the user's clients, per the §2 list convention."""
        return jsonify(model.list_clients(g.user, _arg("pageIndex"), _arg("pageSize")))

    # ---- ASSUMED integration-settings surface (ocerra.md §6.2) --------------------------------
    @app.post("/api/Client/Switch")
    def switch_client():
        return jsonify(model.switch_client(g.user, _arg("clientId"), _on_target))

    @app.get("/api/Acumatica/Settings")
    def get_settings():
        return jsonify(model.get_settings(g.user, _arg("clientId"), _on_target))

    @app.put("/api/Acumatica/Settings")
    def put_settings():
        return jsonify(model.put_settings(g.user, _arg("clientId"), request.get_json(silent=True),
                                          _on_target))

    @app.post("/api/Acumatica/Connection/Test")
    def test_connection():
        return jsonify(model.test_connection(g.user, _arg("clientId"), _on_target))

    # ---- Ocerra-only control routes ------------------------------------------------------
    @control_route(app, "sync", "POST")
    def sync():
        """The 20-minute background sync, once, now."""
        return jsonify({"results": model.sync()})

    @control_route(app, "tick", "POST")
    def tick():
        """The syncs due by the sandbox clock since the last one."""
        return jsonify({"runs": model.tick()})

    @control_route(app, "audit", "GET")
    def audit():
        return jsonify(model.audit(_arg("clientId")))

    return app
