"""`Sandbox`: both fake servers in one process, on loopback, sharing one Clock.

Each Flask app runs in werkzeug's threaded dev server on a daemon thread. With `tls=True`
both serve HTTPS with a certificate for 127.0.0.1 and localhost issued by a throw-away
trustme CA, whose PEM is written to `state_dir` (a temporary directory by default).
"""
import os
import socket
import ssl
import tempfile
import threading
from pathlib import Path

import trustme
import yaml
from werkzeug.serving import WSGIRequestHandler, make_server

from sandbox.acumatica.model import AcumaticaModel
from sandbox.acumatica.routes import create_app as acumatica_app
from sandbox.clock import Clock
from sandbox.erp_probe import erp_signin
from sandbox.ocerra.model import OcerraModel
from sandbox.ocerra.routes import create_app as ocerra_app


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the sandbox keeps its own request log. HTTP/1.1 keeps a
    client's connection open between requests, as IIS and Ocerra's servers do."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        pass

    def send_response(self, code, message=None):
        """As the standard library's, without its own Date: the apps set it from the
        sandbox's clock (sandbox/http.py)."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


def load_seed(seed) -> dict:
    """A seed given as a path, a mapping or None (empty)."""
    if seed is None:
        return {}
    if isinstance(seed, dict):
        return seed
    loaded = yaml.safe_load(Path(seed).read_text(encoding="utf-8"))
    if loaded is not None and not isinstance(loaded, dict):
        raise ValueError(f"{seed}: a seed must be a mapping")
    return loaded or {}


def _tls_context(state_dir: Path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = state_dir / "sandbox-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context, str(ca_path)


class PortBusy(OSError):
    """A port the sandbox was told to use is taken (by an earlier sandbox, most often)."""


def _listen(host, port, app, context):
    if port:  # werkzeug would print its own lines and exit: find out first, say it once
        try:
            socket.create_server((host, port)).close()
        except OSError as exc:
            raise PortBusy(f"the sandbox cannot listen on {host}:{port}: {os.strerror(exc.errno) if exc.errno else exc} "
                           "(another sandbox running? choose other ports with --acumatica-port/"
                           "--ocerra-port)") from None
    try:
        return make_server(host, port, app, threaded=True, request_handler=_QuietHandler,
                           ssl_context=context)
    except SystemExit:   # werkzeug prints why and exits when it cannot bind
        raise PortBusy(f"the sandbox cannot listen on {host}:{port}") from None


def serve(host, port, app, context=None):
    """A server for `app` on a daemon thread (stop it with shutdown() and server_close())."""
    server = _listen(host, port, app, context)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                     name=f"sandbox-{app.name}").start()
    return server


class Sandbox:
    def __init__(self, seed, acumatica_port, ocerra_port, tls, host, state_dir):
        self._seed = load_seed(seed)
        self.clock = Clock()
        self._tmp = None
        if state_dir is None and tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="sandbox-")
            state_dir = self._tmp.name
        context, self.ca_path = _tls_context(Path(state_dir)) if tls else (None, None)
        scheme = "https" if tls else "http"
        self.erp = AcumaticaModel(self.clock)
        self.ocerra = OcerraModel(self.clock, erp_signin=erp_signin,
                                  erp_verify=self.ca_path or True)
        self._servers = []
        try:
            for port, app in ((acumatica_port, acumatica_app(self.erp)),
                              (ocerra_port, ocerra_app(self.ocerra))):
                self._servers.append(_listen(host, port, app, context))
            self.acumatica_url, self.ocerra_url = (f"{scheme}://{host}:{s.server_port}"
                                                   for s in self._servers)
            self.reset()
        except Exception:
            for server in self._servers:     # e.g. the second port was taken
                server.server_close()
            raise
        # A short poll interval makes stop() quick; the servers idle cheaply either way.
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                                          daemon=True, name=f"sandbox-{i}")
                         for i, s in enumerate(self._servers)]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls, seed=None, acumatica_port=0, ocerra_port=0, tls=False, host="127.0.0.1",
              state_dir=None) -> "Sandbox":
        """Both servers listening; ports 0 = ephemeral. `seed`: path, mapping or None."""
        return cls(seed, acumatica_port, ocerra_port, tls, host, state_dir)

    def reset(self, seed=None) -> None:
        """Back to the seed, or to a new one: state, clock, logs, counters, switches, faults."""
        if seed is not None:
            self._seed = load_seed(seed)
        unknown = set(self._seed) - {"acumatica", "ocerra"}
        if unknown:
            raise ValueError(f"seed: unknown sections {sorted(unknown)}")
        self.clock.reset()
        self.erp.reset(self._seed.get("acumatica") or {})
        self.ocerra.from_seed(self._seed.get("ocerra") or {}, self.acumatica_url)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
