"""HTTP face of the fake Acumatica: `create_app(model)` maps requests to model calls and
renders model errors. No rules here. A site's base URL is `/{instance}`."""
import html
import json

from flask import Flask, Response, g, jsonify, request

from sandbox.http import control_route, install_common
from .customization import READ_ONLY_METHODS
from . import texts
from .errors import AcumaticaError, NotLoggedIn

SESSION_COOKIE, AUTH_COOKIE = "ASP.NET_SessionId", ".ASPXAUTH"
EXEMPT = {"logout", "error_page"}   # never throttled (§2), or no site behind it
ENTITY = "/<instance>/entity/<endpoint>/<version>/<entity>"


def _render(error: AcumaticaError) -> Response:
    if isinstance(error.body, (dict, list)):
        body, mimetype = json.dumps(error.body), "application/json"
    else:
        body, mimetype = error.body or "", error.content_type
    return Response(body, error.status, error.headers, mimetype=mimetype)


def create_app(model) -> Flask:
    app = Flask("sandbox.acumatica")
    app.url_map.strict_slashes = False

    # Registered before install_common's fault hook, so a request slowed by a latency fault
    # holds its slot as a slow real request would.
    @app.before_request
    def _take_slot():
        instance = (request.view_args or {}).get("instance")
        if instance is None or request.endpoint in EXEMPT:
            return
        model.begin_request(instance, request.path)
        g.slot = instance

    @app.teardown_request
    def _free_slot(_exc):
        if g.get("slot"):
            model.end_request(g.slot)

    install_common(app, model, model.log, model.faults, model.clock)

    @app.errorhandler(AcumaticaError)
    def _error(error):
        if error.site:
            g.site, g.user = error.site, error.user
        return _render(error)

    @app.errorhandler(405)
    def _no_verb(error):
        # ASP.NET Web API behind IIS: JSON, with the verbs the resource has in Allow.
        allow = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        return Response(json.dumps({"message": texts.NO_VERB.format(request.method)}), 405,
                        {"Allow": allow} if allow else {}, mimetype="application/json")

    def session(instance):
        s = model.session(instance, request.cookies.get(SESSION_COOKIE),
                          request.cookies.get(AUTH_COOKIE))
        g.site, g.user = s.site, s.username
        return s

    def body():
        return request.get_json(silent=True, force=True)

    @app.post("/<instance>/entity/auth/login", endpoint="login")
    def login(instance):
        g.write = False
        fields = request.form.to_dict() if request.form else (body() or {})
        s = model.sign_in(instance, fields)
        g.site, g.user = s.site, s.username
        response = Response(status=204)
        path = f"/{instance}"
        response.set_cookie(SESSION_COOKIE, s.id, path=path, httponly=True)
        response.set_cookie(AUTH_COOKIE, s.auth, path=path, httponly=True)
        response.set_cookie("UserBranch", s.branch, path=path)
        response.set_cookie("Locale", s.locale, path=path)
        response.set_cookie("CompanyID", s.tenant, path=path)
        return response

    @app.post("/<instance>/entity/auth/logout", endpoint="logout")
    def logout(instance):
        g.write = False
        s = model.sign_out(instance, request.cookies.get(SESSION_COOKIE),
                           request.cookies.get(AUTH_COOKIE),
                           request.headers.get("Content-Length") is not None)
        if s is not None:
            g.site, g.user = s.site, s.username
        response = Response(status=204)
        for name in (SESSION_COOKIE, AUTH_COOKIE):
            response.delete_cookie(name, path=f"/{instance}")
        return response

    @app.get("/<instance>/Frames/Error.aspx", endpoint="error_page")
    def error_page(instance):
        text = request.args.get("errorcode") or request.args.get("message") or "An error has occurred."
        return Response(f"<html><body><h1>Error</h1><p>{_escape(text)}</p></body></html>",
                        mimetype="text/html")

    @app.get("/<instance>/Frames/Login.aspx", endpoint="login_page")
    def login_page(instance):
        # ASP.NET WebForms' sign-in page: user and password boxes, and the tenant box only when
        # the instance has several tenants (with one, any tenant name signs in to it).
        tenants = model.login_page_tenants(instance)
        company = "" if len(tenants) < 2 else (
            '<select name="ctl00$phUser$cmbCompany" id="ctl00_phUser_cmbCompany">'
            + "".join(f'<option value="{html.escape(t)}">{html.escape(t)}</option>' for t in tenants) + "</select>")
        return Response(
            f'<html><head><title>Sign In</title></head><body><form method="post" action="./Login.aspx" id="form1">'
            '<input name="ctl00$phUser$txtUser" type="text" id="ctl00_phUser_txtUser"/>'
            '<input name="ctl00$phUser$txtPass" type="password" id="ctl00_phUser_txtPass"/>'
            f'{company}<input type="submit" name="ctl00$phUser$btnLogin" value="Sign In"/></form></body></html>',
            mimetype="text/html")

    @app.get("/<instance>/ui/error", endpoint="ui_error_page")
    def ui_error_page(instance):
        return Response("<html><body><h1>Something went wrong</h1></body></html>", mimetype="text/html")

    @app.get("/<instance>/entity")
    def endpoints(instance):
        try:
            s = session(instance)
        except NotLoggedIn:
            s = None
        return jsonify(model.list_endpoints(instance, s))

    @app.get("/<instance>/entity/swagger.json")
    def auth_swagger(instance):
        return jsonify(model.auth_swagger(instance, request.host_url.rstrip("/")))

    @app.get("/<instance>/entity/<endpoint>/<version>/swagger.json")
    def swagger(instance, endpoint, version):
        return jsonify(model.swagger(session(instance), endpoint, version, request.host_url.rstrip("/")))

    @app.get(ENTITY)
    def get_list(instance, endpoint, version, entity):
        return jsonify(model.get_list(session(instance), endpoint, version, entity, request.args))

    @app.put(ENTITY)
    def put(instance, endpoint, version, entity):
        return jsonify(model.put(session(instance), endpoint, version, entity, body(),
                                 request.args, request.headers.get("If-Match"),
                                 request.headers.get("If-None-Match")))

    @app.patch(ENTITY)
    def patch(instance, endpoint, version, entity):
        # PATCH updates the fields given of a record that exists (never inserts).
        return jsonify(model.put(session(instance), endpoint, version, entity, body(),
                                 request.args, update_only=True))

    @app.get(ENTITY + "/<path:key>")
    def get_one(instance, endpoint, version, entity, key):
        s = session(instance)
        parts = key.split("/")
        if len(parts) == 3 and parts[1] == "status":   # {Action}/status/{id} of a 202 action
            return Response(status=204 if model.action_status(s, parts[2]) else 202)
        return jsonify(model.get_one(s, endpoint, version, entity, key, request.args))

    @app.put(ENTITY + "/<key>/files/<filename>")
    def put_file(instance, endpoint, version, entity, key, filename):
        model.attach_file(session(instance), endpoint, version, entity, key, filename, request.get_data())
        return Response(status=204)

    @app.get("/<instance>/entity/files/<file_id>")
    def get_file(instance, file_id):
        return Response(model.file(session(instance), file_id), mimetype="application/octet-stream")

    @app.delete(ENTITY + "/<path:key>")
    def delete(instance, endpoint, version, entity, key):
        model.delete(session(instance), endpoint, version, entity, key)
        return Response(status=204)

    @app.post(ENTITY + "/<action>")
    def invoke(instance, endpoint, version, entity, action):
        done, location = model.invoke(session(instance), endpoint, version, entity, action, body())
        return Response(status=204 if done else 202, headers={"Location": location})

    @app.post("/<instance>/CustomizationApi/<method>")
    def customization(instance, method):
        g.write = method.lower() not in READ_ONLY_METHODS
        return jsonify(model.customization(session(instance), method, body()))

    @control_route(app, "users", "POST")
    def seed_user():
        fields = dict(body() or {})
        site = fields.pop("instance", None), fields.pop("tenant", None)
        return jsonify(model.upsert_user(*site, fields))

    return app


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
