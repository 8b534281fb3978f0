"""Real ansible-playbook runs against the session's in-process sandbox.

`Site` copies inventories/sandbox into a temporary folder with the fake servers' ephemeral
URLs instead of 127.0.0.1:8601/8602, runs a playbook on it as a subprocess (cwd = the repo
root, ANSIBLE_CONFIG = ansible.cfg, the report written into the same temporary folder) and
reads the sandbox's counters and request logs. Every run is checked for leaked secrets: no
password of the inventory (nor its Basic, URL-encoded or JSON-escaped form) may appear in its
stdout or stderr.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.modules.erp_support import leaked_forms

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_INVENTORY = ROOT / "inventories" / "sandbox"
DEFAULT_SEED = ROOT / "sandbox" / "seeds" / "default.yml"
VAULT_PASSWORD = (SANDBOX_INVENTORY / "vault-password.txt").read_text().strip()
ANSIBLE_BIN = Path(sys.executable).parent
SITES = ("acme", "bravo", "charlie")
ENTITIES = {
    "acme": ["ac3e0000-0000-4000-8000-000000000001", "ac3e0000-0000-4000-8000-000000000002",
             "ac3e0000-0000-4000-8000-000000000003"],
    "bravo": ["b4a00000-0000-4000-8000-000000000001"],
    "charlie": ["c4a41000-0000-4000-8000-000000000001", "c4a41000-0000-4000-8000-000000000002"],
}
INSTANCE_TENANT = {"acme": "acme/Company", "bravo": "bravo/BravoLive", "charlie": "charlie/Main"}
SECRET_NAMES = ("erp_admin_password", "api_user_password", "ocerra_password")
OCERRA_LOGIN = "ocerra-svc@partner.example.com"
API_LOGIN = "OcerraAPI"
# The fake Ocerra's settings route and the fake Acumatica's password action (request logs).
SETTINGS_PATH = "/api/Acumatica/Settings"
RESET_ACTION = re.compile(r"/User/ResetPasswordOK$")


def vault_block(name, plaintext, indent=""):
    """`name: !vault |` with `plaintext` encrypted under the sandbox's vault id."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(VAULT_PASSWORD.encode())
    body = VaultLib([("sandbox", secret)]).encrypt(plaintext, secret, vault_id="sandbox").decode()
    return "%s%s: !vault |\n%s\n" % (indent, name, "\n".join(indent + "  " + line for line in body.splitlines()))


def decrypt(ciphertext):
    from ansible.parsing.vault import VaultLib, VaultSecret
    return VaultLib([("sandbox", VaultSecret(VAULT_PASSWORD.encode()))]).decrypt(ciphertext).decode()


class _VaultLoader(yaml.SafeLoader):
    pass


_VaultLoader.add_constructor("!vault", lambda loader, node: decrypt(loader.construct_scalar(node)))
_VaultLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def ansible_playbook(folder: Path, playbook, *args, env=None, timeout=300):
    """ansible-playbook -i folder/inventory.yml folder/<playbook> ARGS (cwd = the repo root,
    ANSIBLE_CONFIG = ansible.cfg, no colour, logged to folder/ansible.log): the finished
    process and its whole output (stdout, stderr, then the log)."""
    log = folder / "ansible.log"
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_LOG_PATH=str(log), **(env or {}))
    done = subprocess.run([str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(folder / "inventory.yml"),
                           str(folder / playbook), *args],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    return done, done.stdout + done.stderr + (log.read_text() if log.exists() else "")


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    report: dict | None
    args: list

    @property
    def out(self):
        return self.stdout + self.stderr

    def status(self, site):
        return self.report["sites"][site]["status"]

    def statuses(self):
        return {site: entry["status"] for site, entry in self.report["sites"].items()}

    def recap(self, host):
        """PLAY RECAP counters of a host, e.g. {"ok": 5, "changed": 1, ...}."""
        match = re.search(r"^%s\s*:\s*(.*)$" % re.escape(host), self.stdout, re.M)
        assert match, self.out
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def __str__(self):
        return "rc=%s args=%s\n--- stdout\n%s\n--- stderr\n%s" % (self.rc, self.args, self.stdout, self.stderr)


@dataclass
class Started:
    proc: subprocess.Popen
    cmd: list
    report_path: Path


class Site:
    """A temporary copy of the sandbox inventory pointed at the `sandbox` fixture's servers."""

    def __init__(self, sandbox, tmp_path: Path):
        self.sandbox = sandbox
        self.tmp = tmp_path
        self.inventory = tmp_path / "inv"
        self.report_path = tmp_path / "report.json"
        self.state_dir = tmp_path / "state"     # the controller's journals and locks
        for src in SANDBOX_INVENTORY.rglob("*"):
            if src.is_file():
                dst = self.inventory / src.relative_to(SANDBOX_INVENTORY)
                dst.parent.mkdir(parents=True, exist_ok=True)
                text = src.read_text()
                text = text.replace("http://127.0.0.1:8601", sandbox.acumatica_url)
                text = text.replace("http://127.0.0.1:8602", sandbox.ocerra_url)
                dst.write_text(text)
        self.extra_secrets = set()

    # ---- inventory -----------------------------------------------------------------------
    def vars_file(self, host=None):
        return self.inventory / ("host_vars/%s.yml" % host if host else "group_vars/all.yml")

    def variables(self, host):
        """The host's own variables (host_vars) over group_vars/all, vault values decrypted."""
        merged = yaml.load(self.vars_file().read_text(), Loader=_VaultLoader) or {}
        merged.update(yaml.load(self.vars_file(host).read_text(), Loader=_VaultLoader) or {})
        return merged

    def set_api_password(self, host, password):
        """Replace the host's vaulted api_user_password (the inventory's desired password)."""
        self.set_secret(host, "api_user_password", password)

    def set_secret(self, host, name, value):
        """Replace the vaulted variable `name` of the host (None: of group_vars/all) with
        `value`, which the secret checks then look for too."""
        self.extra_secrets.add(value)
        self._replace_secret(host, name, vault_block(name, value).replace("\\", "\\\\"))

    def drop_secret(self, host, name):
        """Remove the vaulted variable `name` of the host (None: of group_vars/all)."""
        self._replace_secret(host, name, "")

    def _replace_secret(self, host, name, replacement):
        path = self.vars_file(host)
        text, n = re.subn(r"^%s: !vault \|\n(?:[ \t]+.*\n)+" % name, replacement, path.read_text(), flags=re.M)
        assert n == 1, text
        path.write_text(text)

    def append(self, host, text):
        path = self.vars_file(host)
        path.write_text(path.read_text() + text)

    def secrets(self):
        """Every password the inventory holds (all hosts), plus those a test added."""
        found = set(self.extra_secrets)
        for host in SITES:
            if not self.vars_file(host).exists():
                continue
            values = self.variables(host)
            found |= {values[name] for name in SECRET_NAMES if isinstance(values.get(name), str)}
        return found

    def forbidden_strings(self):
        forms = set()
        for secret in self.secrets():
            forms |= leaked_forms(secret)
            for login in (OCERRA_LOGIN, API_LOGIN, "admin"):
                forms.add(base64.b64encode(("%s:%s" % (login, secret)).encode()).decode())
        return forms

    # ---- runs ----------------------------------------------------------------------------
    def start(self, playbook, *args, env=None, ansible_bin=ANSIBLE_BIN, report_path=None, state_dir=None,
              project=None):
        """Start ansible-playbook playbooks/<playbook> (or a path, or a collection's playbook by
        its FQCN) on this inventory (with the ansible-playbook of `ansible_bin`, in `project`
        with its ansible.cfg, else in the repository) without waiting: a Started to finish()."""
        report_path = Path(report_path or self.report_path)
        if report_path.exists():
            report_path.unlink()
        named = Path(str(playbook)).is_absolute() or str(playbook).startswith("ocerra.acumatica.")
        path = str(playbook) if named else "playbooks/%s" % playbook
        cmd = [str(Path(ansible_bin) / "ansible-playbook"), path, "-i", str(self.inventory),
               "-e", "toolkit_report_path=%s" % report_path, "-e", "toolkit_state_dir=%s" % (state_dir or self.state_dir),
               *args]
        cwd = Path(project or ROOT)
        full_env = dict(os.environ, ANSIBLE_CONFIG=str(cwd / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_FORCE_COLOR="0", **(env or {}))
        full_env.pop("ANSIBLE_STDOUT_CALLBACK", None)
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return Started(proc, cmd, report_path)

    def finish(self, started, check_secrets=True, sessions_balanced=True):
        """Wait for a started run; its Run, checked for leaked secrets and tracebacks (and,
        unless told otherwise, for ERP sessions left open)."""
        stdout, stderr = started.proc.communicate(timeout=600)
        path = started.report_path
        report = json.loads(path.read_text()) if path.exists() else None
        run = Run(started.proc.returncode, stdout, stderr, report, started.cmd[1:])
        if check_secrets:
            self.assert_no_secret(run)
        assert "Traceback" not in run.out, run
        if sessions_balanced:
            self.assert_sessions_balanced()
        return run

    def play(self, playbook, *args, check_secrets=True, env=None, ansible_bin=ANSIBLE_BIN, project=None):
        """ansible-playbook playbooks/<playbook> (or a path, or an FQCN) on this inventory; a Run."""
        return self.finish(self.start(playbook, *args, env=env, ansible_bin=ansible_bin, project=project),
                           check_secrets)

    def provision(self, *args, **kw):
        return self.play("provision.yml", *args, **kw)

    def assert_no_secret(self, run):
        text = run.out
        leaked = sorted(f for f in self.forbidden_strings() if f in text)
        # Never print the secret itself: name where it was found instead.
        assert not leaked, "%d secret form(s) leaked into the output of %s" % (len(leaked), run.args)

    # ---- sandbox -------------------------------------------------------------------------
    def writes(self):
        """Write requests seen so far: (ERP total, Ocerra total)."""
        erp = sum(c.get("writes", 0) for c in self.sandbox.erp.counters().values())
        ocerra = sum(c.get("writes", 0) for c in self.sandbox.ocerra.counters().values())
        return erp, ocerra

    def erp_write_requests(self):
        """The ERP's logged requests that change something: every non-GET but sign-in, sign-out
        and the Customization API's read-only get* methods, which are POSTs."""
        return [e for e in self.erp_log() if e["method"] not in ("GET", "HEAD")
                and not re.search(r"/entity/auth/log(in|out)$|/CustomizationApi/get[A-Za-z]+$", e["path"])]

    def assert_sessions_balanced(self):
        """Every ERP sign-in was signed out (the toolkit's and Ocerra's connection tests), but
        for sessions that idled out (those of a run killed on purpose), and none is open."""
        for site, c in self.sandbox.erp.counters().items():
            assert c["signins"] == c["signouts"] + c["sessions_expired"], (site, c)
            assert c["sessions_open"] == 0, (site, c)

    def api_user(self, host):
        instance, tenant = INSTANCE_TENANT[host].split("/")
        for inst in self.sandbox.erp.state()["instances"]:
            if inst["name"] == instance:
                for t in inst["tenants"]:
                    if t["name"] == tenant:
                        for user in t["users"]:
                            if user["username"].casefold() == API_LOGIN.casefold():
                                return user
        return None

    def connections(self, host=None):
        """client id -> settings (without password) from the fake Ocerra's state."""
        wanted = set(ENTITIES[host]) if host else {c for cs in ENTITIES.values() for c in cs}
        return {c["clientId"] if "clientId" in c else c["id"]: c["settings"]
                for c in self.sandbox.ocerra.state()["clients"]
                if (c.get("clientId") or c.get("id")) in wanted}

    def patch_api_user(self, host, **fields):
        instance, tenant = INSTANCE_TENANT[host].split("/")
        return self.sandbox.erp.upsert_user(instance, tenant, {"username": API_LOGIN, **fields})

    def erp_log(self):
        return self.sandbox.erp.log.snapshot()

    def ocerra_log(self):
        return self.sandbox.ocerra.log.snapshot()
