"""Flask plumbing shared by both fake servers: request log, counters, faults, control API.

`install_common(app, model, log, faults, clock)` wires into a Flask app:

* **Request log.** Every product request (anything outside `/_sandbox/`) is appended to
  `log` (a `sandbox.log.RequestLog`): time, method, path, query, status, site, user and
  the body, redacted by `sandbox.log.redact` (JSON and form bodies are stored parsed, so
  secret keys at any depth are masked; other bodies are stored as their size only).
  Headers are never stored, so cookies and Authorization cannot leak.
* **Counters.** Route handlers say which site/client a request belongs to by setting
  `flask.g.site` (the counter key) and `flask.g.user`; the request then counts `requests`
  and, for PUT/POST/DELETE, `writes`, unless the handler set `flask.g.write = False`
  (sign-in and sign-out do). A request whose handler set no `g.site` is logged uncounted.
* **Faults.** Before each product request, `faults.take(method, path)` may fire: `latency`
  (sleep `seconds`, then answer normally), `status` (answer `status`, JSON `body`),
  `throttle` (429 with the IIS text or `body`, `Retry-After` when the fault has
  `retry_after`), `drop` (close the connection unanswered).
  A route may also raise `sandbox.faults.DropConnection` to drop its connection.
* **Date.** Every product answer carries the fake clock's time in its `Date` header.
* **Control API** under `/_sandbox/` (JSON, never logged, never faulted):
  `POST reset` (body: optional seed section; also clears log, counters, faults and the
  clock offset), `GET state`, `GET|PUT switches` (PUT merges), `GET clock`,
  `POST clock/advance {"seconds": N}`, `GET|POST|DELETE faults` (POST body = `Faults.add`
  keywords), `GET|DELETE log` (DELETE keeps the counters), `GET counters`. A ValueError from the model answers 400.

The model must provide `reset(section=None)`, `state()`, `switches()`,
`set_switches(changes)` (ValueError on a bad name or value) and `counters()`.
"""
import socket
from email.utils import format_datetime

from flask import Response, g, jsonify, request

from sandbox.faults import DropConnection

CONTROL = "/_sandbox/"
WRITE_METHODS = {"PUT", "POST", "DELETE"}
THROTTLE_TEXT = "The custom error module does not recognize this error."


def drop_connection() -> Response:
    """A placeholder answer for a request whose connection is to be dropped: the request is
    logged first (so a test that saw the reset finds it), then the socket is shut."""
    g.dropped = True
    return Response(b"", 500)


def _shut_socket():
    """The client sees a reset, not an answer. Werkzeug's write of the placeholder then fails
    with a broken pipe, which it treats as a client disconnect and ignores."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _logged_body():
    if not request.content_length and not request.data:
        return None
    if request.is_json:
        parsed = request.get_json(silent=True)
        return parsed if parsed is not None else f"<{len(request.data)} bytes, invalid JSON>"
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    return f"<{len(request.get_data())} bytes>"


def _is_control() -> bool:
    return request.path.startswith(CONTROL)


def _fault_response(fault):
    kind = fault["kind"]
    if kind == "drop":
        return drop_connection()
    if kind == "throttle":
        headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") else {}
        return Response(fault.get("body", THROTTLE_TEXT), 429, headers, mimetype="text/plain")
    body = fault.get("body", {"message": "An error has occurred."})
    if isinstance(body, (dict, list)):
        return Response(jsonify(body).get_data(), fault.get("status", 500),
                        mimetype="application/json")
    return Response(str(body), fault.get("status", 500), mimetype="text/plain")


def control_route(app, rule, method):
    """Decorator: register a view under /_sandbox/{rule}; a ValueError (bad switch, seed,
    fault or user) answers 400 {"error": text}. Servers add their own control routes with it."""
    def register(view):
        def guarded():
            try:
                return view()
            except ValueError as exc:
                return jsonify({"error": str(exc)}), 400
        app.add_url_rule(CONTROL + rule, f"sandbox_{method}_{rule}", guarded, methods=[method])
        return view
    return register


def _reader(read):
    return lambda: jsonify(read())


def _clearer(clear):
    def cleared():
        clear()
        return jsonify([])
    return cleared


def install_common(app, model, log, faults, clock):
    """Install the request log, counters, fault injection and `/_sandbox/` routes."""

    @app.before_request
    def _inject_fault():
        if _is_control():
            return None
        log.enter()
        g.in_flight = True
        fault = faults.sleep_if_latency(faults.take(request.method, request.path))
        if fault and fault.get("after"):
            g.fault_after = fault           # handled first, then answered by the fault
            return None
        return _fault_response(fault) if fault else None

    @app.after_request
    def _record(response):
        if _is_control():
            return response
        if g.get("fault_after"):
            if g.fault_after["kind"] == "drop":
                g.dropped = True
            else:
                response = _fault_response(g.fault_after)
        site = g.get("site")
        log.add({"time": clock.now().isoformat(), "method": request.method, "path": request.path,
                 "query": request.args.to_dict(), "status": "dropped" if g.get("dropped")
                 else response.status_code, "site": site, "user": g.get("user"),
                 "body": _logged_body()})
        if site is not None:
            log.count(site, "requests")
            if request.method in WRITE_METHODS and g.get("write", True):
                log.count(site, "writes")
        if g.get("dropped"):
            _shut_socket()
        # As a real server: its own clock (the fake's, which tests move) in every answer.
        response.headers["Date"] = format_datetime(clock.now(), usegmt=True)
        return response

    @app.teardown_request
    def _left(_exc=None):
        if g.pop("in_flight", False):
            log.leave()

    @app.errorhandler(DropConnection)
    def _drop(_exc):
        return drop_connection()

    def body():
        data = request.get_json(silent=True, force=True)
        return data if data is not None else {}

    @control_route(app, "reset", "POST")
    def _reset():
        section = request.get_json(silent=True, force=True)
        clock.reset()
        model.reset(section or None)
        log.clear()
        faults.clear()
        return jsonify({"ok": True})

    # What the control API reads (GET) and clears (DELETE) as it is.
    for rule, read in (("state", model.state), ("switches", model.switches), ("faults", faults.describe),
                       ("log", log.snapshot), ("counters", model.counters)):
        control_route(app, rule, "GET")(_reader(read))
    for rule, clear in (("faults", faults.clear), ("log", log.clear_entries)):
        control_route(app, rule, "DELETE")(_clearer(clear))

    @control_route(app, "switches", "PUT")
    def _set_switches():
        return jsonify(model.set_switches(body()))

    @control_route(app, "clock", "GET")
    def _clock():
        return jsonify({"now": clock.now().isoformat()})

    @control_route(app, "clock/advance", "POST")
    def _advance():
        seconds = body().get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise ValueError("body must be {\"seconds\": N}")
        return jsonify({"now": clock.advance(seconds).isoformat()})

    @control_route(app, "faults", "POST")
    def _add_fault():
        params = body()
        try:
            faults.add(**params)
        except TypeError as exc:
            raise ValueError(f"bad fault {params}: {exc}") from None
        return jsonify(faults.describe()), 201
