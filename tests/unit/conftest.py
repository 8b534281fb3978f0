"""Fixtures of the unit tests.

* ``server`` (function scope): a scripted HTTP server on 127.0.0.1 (ephemeral port). Set
  ``server.script`` to a list of ``(status, body)`` or ``(status, body, headers)``; each
  request gets the next entry (``(200, {})`` once the script is empty). A dict or list body is
  sent as JSON, a str as text/plain, ``None`` as no body. ``server.seen`` records every request
  as ``{"method", "path", "auth", "body"}`` (body parsed as JSON, ``None`` when empty).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Script(BaseHTTPRequestHandler):
    """Answers each request with the next entry of the server's script; records requests."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append({"method": self.command, "path": self.path,
                                 "auth": self.headers.get("Authorization"),
                                 "body": json.loads(self.rfile.read(length)) if length else None})
        status, body, *headers = self.server.script.pop(0) if self.server.script else (200, {})
        data = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        for k, v in (headers[0] if headers else {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Script)
    srv.script, srv.seen = [], []
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    yield srv
    srv.shutdown()
