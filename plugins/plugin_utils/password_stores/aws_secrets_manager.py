"""`ocerra.acumatica.aws_secrets_manager`: the site's passwords in AWS Secrets Manager, through
boto3, shared by every controller, in AWS's own rotation model.

One secret per site (`ocerra-acumatica/<host>`), one version per password, its staging labels
saying which is which: `current` is the version labelled AWSCURRENT (what AWX's "AWS Secrets
Manager lookup" and every reader get by default), `pending` the one labelled AWSPENDING (when
it is not also AWSCURRENT), `previous` AWSPREVIOUS, which AWS moves itself when AWSCURRENT
moves. The store's version is the pair of version ids holding AWSCURRENT and AWSPENDING.

Secrets Manager has no compare-and-set on a value; a label move does: moving a label that a
version holds must name that version (`RemoveFromVersionId`) and fails when it moved. So every
value is put under a label of ours first, then AWSCURRENT or AWSPENDING is moved onto it from
the version it was read on; clearing the pending password removes AWSPENDING from the version
it was read on; a promotion moves AWSCURRENT onto the pending version (AWS's finishSecret).
Each put carries a new `ClientRequestToken`, which
the SDK's retries reuse: a retried put never makes a second version. Credentials come from the
environment or AWS's usual chain (AWX: the AWS credential), never from the inventory.
"""
import json
import os
import uuid

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ocerra.acumatica.plugins.plugin_utils.store import Conflict, Passwords, Store, StoreError

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    boto3 = None

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
STAGED = "OCERRA-STAGED"            # a new value, until AWSCURRENT is moved onto it
THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}


class PasswordStore(Store):
    OPTIONS = {
        "region": {"type": "str"},
        "name": {"type": "str", "default": "ocerra-acumatica/{host}"},
        "endpoint_url": {"type": "str"},
        "profile": {"type": "str"},
        "timeout": {"type": "int", "default": 10},
    }
    shared = True

    def __init__(self, host, options, inventory_dir, vault_id, secrets=None):
        self.options = options
        self.region = options["region"] or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.secret = options["name"].replace("{host}", host)
        self.where = f"the AWS Secrets Manager secret {self.secret} ({self.region or 'no region'})"
        self._client = None

    def check(self):
        if boto3 is None:
            raise StoreError(missing_required_lib("boto3") + f" ({self.where})")
        if not self.region:
            raise StoreError(f"{self.where}: no region (api_user_password_store_options.region, or AWS_REGION)")
        if self._session().get_credentials() is None:
            raise StoreError(f"{self.where}: no AWS credentials at hand (the environment, a profile or an instance "
                             "role; in AWX, the AWS credential). They are never read from the inventory.")

    def _session(self):
        return boto3.session.Session(profile_name=self.options["profile"], region_name=self.region)

    @property
    def client(self):
        if self._client is None:
            self.check()
            timeout = self.options["timeout"]
            self._client = self._session().client(
                "secretsmanager", endpoint_url=self.options["endpoint_url"],
                config=Config(connect_timeout=timeout, read_timeout=timeout,
                              retries={"mode": "standard", "max_attempts": 3}))
        return self._client

    def _call(self, what, name, call, conflict=False, **params):
        """`call`'s answer; `conflict`: a refusal of the request's condition is a Conflict."""
        try:
            return call(**params)
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(what, name, exc, conflict) from None

    def _failure(self, what, name, exc, conflict=False):
        """AWS's refusal as a StoreError (its messages name versions and ARNs, never a value)."""
        if isinstance(exc, BotoCoreError):
            return StoreError(f"{self.where} cannot be {what}: {type(exc).__name__} ({exc})")
        code = exc.response.get("Error", {}).get("Code", "")
        if conflict and code in ("ResourceExistsException", "InvalidParameterException"):
            return Conflict(f"{self.where} changed since it was read: another run is changing this site's password")
        if code in THROTTLED:
            return StoreError(f"{self.where} cannot be {what}: AWS throttled the requests ({code}) after retries; "
                              "run again later")
        if code == "AccessDeniedException":
            return StoreError(f"{self.where} cannot be {what}: access denied (the credentials' policy needs "
                              "secretsmanager:DescribeSecret, GetSecretValue, CreateSecret, PutSecretValue and "
                              f"UpdateSecretVersionStage on {name})")
        return StoreError(f"{self.where} cannot be {what}: {code} ({exc.response.get('Error', {}).get('Message', '')})")

    # ---- the secret's versions ----------------------------------------------------------
    def _labels(self, name):
        """{label: version id} of the secret `name`, None when there is no such secret."""
        try:
            described = self.client.describe_secret(SecretId=name)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise self._failure("read", name, exc) from None
        if described.get("DeletedDate"):
            raise StoreError(f"{self.where} cannot be read: it is scheduled for deletion (restore it: aws "
                             f"secretsmanager restore-secret --secret-id {name})")
        return {label: vid for vid, labels in (described.get("VersionIdsToStages") or {}).items() for label in labels}

    def _value(self, name, labels, label):
        if label not in labels:
            return None
        try:
            answer = self.client.get_secret_value(SecretId=name, VersionId=labels[label], VersionStage=label)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None         # a label on a version without a value (a rotation AWS started)
            raise self._failure("read", name, exc) from None
        return answer.get("SecretString")

    def _put(self, name, value):
        answer = self._call("written", name, self.client.put_secret_value, SecretId=name, SecretString=value,
                            ClientRequestToken=str(uuid.uuid4()), VersionStages=[STAGED])
        return answer["VersionId"]

    def _move(self, name, labels, label, version_id):
        """Move `label` onto `version_id` (None: only remove it) from the version it was read on;
        Conflict when it moved since."""
        move = {"RemoveFromVersionId": labels[label]} if labels.get(label) else {}
        if version_id:
            move["MoveToVersionId"] = version_id
        self._call("written", name, self.client.update_secret_version_stage, conflict=True, SecretId=name,
                   VersionStage=label, **move)

    @staticmethod
    def _version(labels):
        if labels is None:
            return 0
        pending = labels.get(PENDING) if labels.get(PENDING) != labels.get(CURRENT) else None
        return f"{labels.get(CURRENT) or '-'}/{pending or '-'}"

    # ---- the contract -------------------------------------------------------------------
    def read(self):
        labels = self._labels(self.secret)
        if labels is None:
            return Passwords()
        pending = self._value(self.secret, labels, PENDING) if labels.get(PENDING) != labels.get(CURRENT) else None
        return Passwords(self._value(self.secret, labels, CURRENT), pending,
                         self._value(self.secret, labels, PREVIOUS), self._version(labels))

    def write(self, passwords, expected_version, over_damaged=False):
        name = self.secret
        if over_damaged:
            try:
                self._labels(name)
            except StoreError:          # scheduled for deletion: restored, then written as read
                self._call("written", name, self.client.restore_secret, SecretId=name)
        labels = self._labels(name)
        if self._version(labels) != expected_version:
            raise Conflict(f"{self.where} changed since it was read: another run is changing this site's password")
        if passwords.pending and not passwords.current:
            raise StoreError(f"{self.where}: a pending password needs a current one (AWS makes a secret's first "
                             "value current)")
        if labels is None:              # the first value becomes AWSCURRENT; a second create fails
            self._call("written", name, self.client.create_secret, conflict=True, Name=name,
                       SecretString=passwords.current, ClientRequestToken=str(uuid.uuid4()),
                       Description="The API user's passwords of one site (ocerra.acumatica)")
            labels = self._labels(name)
        stored = self.read()
        pending_id = labels.get(PENDING) if labels.get(PENDING) != labels.get(CURRENT) else None
        if passwords.current != stored.current:
            if pending_id and passwords.current == stored.pending:
                self._move(name, labels, CURRENT, pending_id)           # promote, as finishSecret does
            else:
                self._move(name, labels, CURRENT, self._put(name, passwords.current))
            labels = self._labels(name)
            stored = self.read()
        if passwords.pending != stored.pending:
            self._move(name, labels, PENDING, self._put(name, passwords.pending) if passwords.pending else None)
        elif not passwords.pending and labels.get(PENDING):       # AWSPENDING left on the current version
            self._move(name, labels, PENDING, None)
        written = self.read()
        if (written.current, written.pending) != (passwords.current, passwords.pending):
            raise Conflict(f"{self.where} changed right after this run wrote it: another run is changing this "
                           "site's password")
        return written

    def read_record(self, name):
        secret = f"{self.secret}.{name}"
        labels = self._labels(secret)
        if not labels or CURRENT not in labels:
            return None, 0
        text = self._value(secret, labels, CURRENT)
        try:
            return json.loads(text or "null"), labels[CURRENT]
        except ValueError:
            raise StoreError(f"{self.where}: the {name} record {secret} is not JSON (damaged?)") from None

    def write_record(self, name, document, expected_version):
        secret, text = f"{self.secret}.{name}", json.dumps(document)
        labels = self._labels(secret)
        if (labels or {}).get(CURRENT, 0) != expected_version:
            raise Conflict(f"the {name} record {secret} changed since it was read")
        if labels is None:
            self._call("written", secret, self.client.create_secret, conflict=True, Name=secret, SecretString=text,
                       ClientRequestToken=str(uuid.uuid4()),
                       Description=f"The {name} record of one site (ocerra.acumatica)")
            return self._labels(secret)[CURRENT]
        version_id = self._put(secret, text)
        self._move(secret, labels, CURRENT, version_id)
        return version_id
