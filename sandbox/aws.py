"""AWS Secrets Manager on loopback: moto's server mode, made as strict as AWS where
../shared/reference/stores-and-engines.md §2.3 finds moto lenient, with a throttling switch.

moto is the widely used local AWS; it is not ours. Two of its leniencies would let a store
pass here that fails on AWS, so they are closed for the tests:

* `UpdateSecretVersionStage` moving a label that another version holds without naming it in
  `RemoveFromVersionId` (AWS: "If the label is attached and you either do not specify this
  parameter, or the version ID does not match, then the operation fails"; moto checks this only
  for AWSCURRENT), and a move racing another: each move is checked and done under one lock.
* `PutSecretValue` reusing a `ClientRequestToken` with another value on a version labelled
  AWSPENDING (AWS refuses every such reuse with ResourceExistsException; moto overwrites).

The switch `throttle` answers every Secrets Manager call with ThrottlingException (HTTP 400),
as AWS does past its request quotas; moto has no quotas.
"""
import threading
from contextlib import contextmanager

from moto.core.exceptions import JsonRESTError
from moto.secretsmanager import models
from moto.server import ThreadedMotoServer

# What a boto3 client needs to talk to moto: any non-empty keys, a region.
CLIENT_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
_LOCK = threading.RLock()
_SWITCHES = {"throttle": False}
_ORIGINAL = {}


class _Refused(JsonRESTError):
    code = 400


def _strict_move(original):
    def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        with _LOCK:
            secret = self.secrets.get(secret_id) if secret_id in self.secrets else None
            if secret is not None and move_to_version_id:
                holders = [vid for vid, version in secret.versions.items()
                           if version_stage in version["version_stages"] and vid != move_to_version_id]
                if holders and remove_from_version_id != holders[0]:
                    raise _Refused("InvalidParameterException",
                                   f"The staging label {version_stage} is currently attached to version {holders[0]}, "
                                   "so you must explicitly reference that version in RemoveFromVersionId.")
            return original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    return update_secret_version_stage


def _strict_put(original):
    def put_secret_value(self, secret_id, secret_string, secret_binary, client_request_token, version_stages):
        with _LOCK:
            secret = self.secrets.get(secret_id) if secret_id in self.secrets else None
            version = (secret.versions.get(client_request_token) if secret is not None and client_request_token
                       else None)
            if version is not None and version.get("secret_string") != secret_string:
                raise _Refused("ResourceExistsException",
                               f"You can't use ClientRequestToken {client_request_token} because that value is "
                               f"already in use for a version of secret {secret.arn}.")
            return original(self, secret_id, secret_string, secret_binary, client_request_token, version_stages)
    return put_secret_value


def _throttled(original):
    def call(self, *args, **kwargs):
        if _SWITCHES["throttle"]:
            raise _Refused("ThrottlingException", "Rate exceeded")
        with _LOCK:
            return original(self, *args, **kwargs)
    return call


def _install():
    """Patch moto's Secrets Manager backend once, in this process (the server's threads)."""
    if _ORIGINAL:
        return
    backend = models.SecretsManagerBackend
    for name in ("create_secret", "describe_secret", "get_secret_value", "put_secret_value",
                 "update_secret_version_stage", "restore_secret", "delete_secret"):
        _ORIGINAL[name] = getattr(backend, name)
    backend.update_secret_version_stage = _strict_move(_ORIGINAL["update_secret_version_stage"])
    backend.put_secret_value = _strict_put(_ORIGINAL["put_secret_value"])
    for name in _ORIGINAL:
        setattr(backend, name, _throttled(getattr(backend, name)))


@contextmanager
def throttled():
    """Every Secrets Manager call answered ThrottlingException while inside."""
    _SWITCHES["throttle"] = True
    try:
        yield
    finally:
        _SWITCHES["throttle"] = False


def start(host="127.0.0.1", port=0):
    """(server, url): moto's server on loopback, on a daemon thread (stop it with stop())."""
    _install()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"
