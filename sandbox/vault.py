"""A fake HashiCorp Vault serving the KV version 2 secrets engine over its HTTP API.

As ../shared/reference/stores-and-engines.md §1 reads HashiCorp's documentation and code:

* `X-Vault-Token` (or `Authorization: Bearer`) on every request; no token, an unknown token or
  a policy without the capability answer 403 with `permission denied` in `errors`.
* KV v2 under each mount: `data/<path>` (GET, `?version=N`; POST `{"options": {"cas": N},
  "data": {...}}`; DELETE soft-deletes the latest version), `metadata/<path>` (GET, LIST or
  `?list=true`, POST settings, DELETE everything), `delete|undelete|destroy/<path>` with
  `{"versions": [...]}`, and the engine's `config` (GET, POST).
* Check-and-set: `cas` must equal the key's current version (0: create only); without it a
  write is refused when the engine or the key requires it. Old versions beyond `max_versions`
  (default 10) are removed at write time.
* Errors as Vault answers them: `{"errors": [...]}` with 400 (check-and-set), 404 (`[]` for a
  path never written; the full envelope, `data.data` null, for a deleted or destroyed
  version; "no handler for route" for a mount that does not exist), 403, and 503 `Vault is
  sealed` when the switch `sealed` is on.

Seed (`reset(section)`): `{"tokens": {TOKEN: {"policy": "root" | {"paths": [prefix, ...],
"capabilities": [...]}}}, "mounts": ["secret"], "cas_required": false}`. The request log masks
every `data` member (the secrets) and never stores a header.
"""
import threading
import uuid
from datetime import datetime

from flask import Flask, Response, g, jsonify, request

from sandbox.clock import Clock
from sandbox.faults import Faults
from sandbox.http import install_common
from sandbox.log import SECRET_KEYS, RequestLog

DEFAULT_TOKEN = "hvs.sandbox-root-token"
DEFAULT_SEED = {"tokens": {DEFAULT_TOKEN: {"policy": "root"}}, "mounts": ["secret"]}
KEEP_VERSIONS = 10


class VaultError(Exception):
    def __init__(self, status, errors, body=None):
        super().__init__(status)
        self.status, self.errors, self.body = status, errors, body


def _denied():
    return VaultError(403, ["1 error occurred:\n\t* permission denied\n\n"])


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class VaultModel:
    def __init__(self, clock):
        self.clock, self.log, self.faults = clock, RequestLog(secret_keys=SECRET_KEYS | {"data"}), Faults()
        self._lock = threading.RLock()
        self.reset()

    # ---- the common sandbox interface (sandbox/http.py) -----------------------------------
    def reset(self, section=None):
        seed = {**DEFAULT_SEED, **(section or {})}
        with self._lock:
            self.tokens = dict(seed["tokens"])
            self.mounts = {m: {"config": {"max_versions": 0, "cas_required": bool(seed.get("cas_required")),
                                          "delete_version_after": "0s"}, "keys": {}} for m in seed["mounts"]}
            self._switches = {"sealed": False}

    def state(self):
        with self._lock:
            return {m: {path: {"current_version": k["current_version"], "versions": sorted(k["versions"])}
                        for path, k in mount["keys"].items()} for m, mount in self.mounts.items()}

    def switches(self):
        return dict(self._switches)

    def set_switches(self, changes):
        for name, value in changes.items():
            if name not in self._switches or not isinstance(value, bool):
                raise ValueError(f"unknown switch {name!r} or not a boolean")
        self._switches.update(changes)
        return self.switches()

    def counters(self):
        return self.log.counters()

    # ---- access ---------------------------------------------------------------------------
    def authorize(self, token, path, capability):
        if self._switches["sealed"]:
            raise VaultError(503, ["Vault is sealed"])
        if not token:
            raise _denied()
        grant = self.tokens.get(token)
        if grant is None:
            raise VaultError(403, ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"])
        policy = grant["policy"]
        if policy == "root":
            return
        if capability not in policy.get("capabilities", []) or not any(
                path.startswith(prefix) for prefix in policy.get("paths", [])):
            raise _denied()

    def mount(self, name, route):
        mount = self.mounts.get(name)
        if mount is None:
            raise VaultError(404, [f'no handler for route "{name}/{route}". route entry not found.'])
        return mount

    # ---- KV v2 ----------------------------------------------------------------------------
    def _key(self, mount, path):
        return mount["keys"].get(path)

    def _version_meta(self, number, version):
        return {"created_time": version["created_time"], "custom_metadata": None,
                "deletion_time": version["deletion_time"], "destroyed": version["destroyed"], "version": number}

    def read(self, mount, path, version=None):
        with self._lock:
            key = self._key(mount, path)
            number = version or (key and key["current_version"])
            stored = key and key["versions"].get(number)
            if not stored:
                raise VaultError(404, [])
            meta = self._version_meta(number, stored)
            if stored["destroyed"] or stored["deletion_time"]:
                raise VaultError(404, None, {"data": {"data": None, "metadata": meta}})
            return {"data": dict(stored["data"]), "metadata": meta}

    def write(self, mount, path, body):
        options, data = body.get("options") or {}, body.get("data")
        if not isinstance(data, dict):
            raise VaultError(400, ["no data provided"])
        with self._lock:
            key = self._key(mount, path)
            current = key["current_version"] if key else 0
            if "cas" in options:
                try:
                    cas = int(options["cas"])
                except (TypeError, ValueError):
                    raise VaultError(400, ["error parsing check-and-set parameter"]) from None
                if cas != current:
                    raise VaultError(400, ["check-and-set parameter did not match the current version"])
            elif mount["config"]["cas_required"] or (key and key["cas_required"]):
                raise VaultError(400, ["check-and-set parameter required for this call"])
            if key is None:
                key = mount["keys"][path] = {"current_version": 0, "oldest_version": 0, "versions": {},
                                             "max_versions": 0, "cas_required": False,
                                             "created_time": _time(self.clock.now())}
            number = current + 1
            key["versions"][number] = {"data": dict(data), "created_time": _time(self.clock.now()),
                                       "deletion_time": "", "destroyed": False}
            key["current_version"] = number
            keep = key["max_versions"] or mount["config"]["max_versions"] or KEEP_VERSIONS
            for old in sorted(key["versions"])[:-keep]:
                del key["versions"][old]
            key["oldest_version"] = min(key["versions"])
            return self._version_meta(number, key["versions"][number])

    def metadata(self, mount, path):
        with self._lock:
            key = self._key(mount, path)
            if key is None:
                raise VaultError(404, [])
            return {"cas_required": key["cas_required"], "created_time": key["created_time"],
                    "current_version": key["current_version"], "custom_metadata": None,
                    "delete_version_after": "0s", "max_versions": key["max_versions"],
                    "oldest_version": key["oldest_version"],
                    "updated_time": key["versions"][key["current_version"]]["created_time"]
                    if key["current_version"] in key["versions"] else key["created_time"],
                    "versions": {str(n): {k: v for k, v in self._version_meta(n, ver).items() if k != "version"}
                                 for n, ver in key["versions"].items()}}

    def set_metadata(self, mount, path, body):
        with self._lock:
            key = self._key(mount, path)
            if key is None:
                key = mount["keys"][path] = {"current_version": 0, "oldest_version": 0, "versions": {},
                                             "max_versions": 0, "cas_required": False,
                                             "created_time": _time(self.clock.now())}
            if "cas_required" in body:
                key["cas_required"] = bool(body["cas_required"])
            if "max_versions" in body:
                key["max_versions"] = int(body["max_versions"])

    def list(self, mount, prefix):
        with self._lock:
            prefix = prefix.rstrip("/") + "/" if prefix else ""
            keys = {p[len(prefix):].split("/", 1)[0] + ("/" if "/" in p[len(prefix):] else "")
                    for p in mount["keys"] if p.startswith(prefix)}
            if not keys:
                raise VaultError(404, [])
            return {"keys": sorted(keys)}

    def versions_op(self, mount, path, op, versions):
        with self._lock:
            key = self._key(mount, path)
            if key is None:
                return
            for number in versions or []:
                version = key["versions"].get(int(number))
                if version is None:
                    continue
                if op == "delete":
                    version["deletion_time"] = version["deletion_time"] or _time(self.clock.now())
                elif op == "undelete":
                    version["deletion_time"] = ""
                else:
                    version.update(destroyed=True, data=None)

    def delete_latest(self, mount, path):
        with self._lock:
            key = self._key(mount, path)
            if key is not None:
                self.versions_op(mount, path, "delete", [key["current_version"]])

    def delete_all(self, mount, path):
        with self._lock:
            mount["keys"].pop(path, None)


def _envelope(data, status=200):
    return jsonify({"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
                    "data": data, "wrap_info": None, "warnings": None, "auth": None, "mount_type": "kv"}), status


def create_app(model) -> Flask:
    app = Flask("sandbox.vault")
    install_common(app, model, model.log, model.faults, model.clock)

    @app.errorhandler(VaultError)
    def _error(err):
        if err.body is not None:        # a deleted or destroyed version: the normal envelope, 404
            return _envelope(err.body["data"], err.status)
        return Response(jsonify({"errors": err.errors}).get_data(), err.status, mimetype="application/json")

    def token():
        bearer = request.headers.get("Authorization", "")
        return request.headers.get("X-Vault-Token") or (bearer[7:] if bearer.startswith("Bearer ") else None)

    def body():
        return request.get_json(silent=True, force=True) or {}

    @app.route("/v1/sys/seal-status", methods=["GET"])
    def seal_status():
        return jsonify({"type": "shamir", "initialized": True, "sealed": model.switches()["sealed"],
                        "t": 1, "n": 1, "progress": 0, "version": "1.17.0"})

    @app.route("/v1/<name>/config", methods=["GET", "POST"])
    def config(name):
        model.authorize(token(), f"{name}/config", "read" if request.method == "GET" else "update")
        mount = model.mount(name, "config")
        if request.method == "GET":
            return _envelope(dict(mount["config"]))
        mount["config"].update({k: v for k, v in body().items() if k in mount["config"]})
        return Response(status=204)

    @app.route("/v1/<name>/<op>/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "LIST"])
    def kv(name, op, path):
        method = request.method
        listing = method == "LIST" or (method == "GET" and request.args.get("list") == "true")
        capability = {"GET": "read", "DELETE": "delete"}.get(method, "update")
        if listing:
            capability = "list"
        elif op == "data" and method in ("POST", "PUT"):
            existing = name in model.mounts and model.mounts[name]["keys"].get(path)
            capability = "update" if existing and existing["current_version"] else "create"
        model.authorize(token(), f"{name}/{op}/{path}", capability)
        mount = model.mount(name, f"{op}/{path}")
        g.site = f"{name}/{path}"
        if op == "data" and method == "GET":
            version = request.args.get("version")
            return _envelope(model.read(mount, path, int(version) if version and version != "0" else None))
        if op == "data" and method in ("POST", "PUT"):
            return _envelope(model.write(mount, path, body()))
        if op == "data" and method == "DELETE":
            model.delete_latest(mount, path)
            return Response(status=204)
        if op == "metadata" and listing:
            return _envelope(model.list(mount, path))
        if op == "metadata" and method == "GET":
            return _envelope(model.metadata(mount, path))
        if op == "metadata" and method in ("POST", "PUT"):
            model.set_metadata(mount, path, body())
            return Response(status=204)
        if op == "metadata" and method == "DELETE":
            model.delete_all(mount, path)
            return Response(status=204)
        if op in ("delete", "undelete", "destroy") and method in ("POST", "PUT"):
            model.versions_op(mount, path, op, body().get("versions"))
            return Response(status=204)
        raise VaultError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])

    return app


def start(seed=None, host="127.0.0.1", port=0):
    """(server, model, url): the fake Vault on loopback, serving on a daemon thread."""
    from sandbox.harness import serve

    model = VaultModel(Clock())
    model.reset(seed)
    server = serve(host, port, create_app(model))
    return server, model, f"http://{host}:{server.server_port}"
