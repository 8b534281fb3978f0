"""Seed and helpers for the Ocerra module tests: three entities share the acme API user."""
import base64
import json
from unittest import mock

import pytest
from ansible.module_utils import _internal

from tests.modules.erp_support import API_PW, NEW_PW, api_user, erp_seed, leaked_forms, run_module

SVC, SVC_PW = "svc@partner.example", "Svc-Canary-Pw-8Kd!e2Q"
SOLO, SOLO_PW = "solo@partner.example", "Solo-Canary-Pw-3Rz!u7W"
LIVE, TEST, TWO = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
                   "33333333-3333-3333-3333-333333333333")
NEW = "44444444-4444-4444-4444-444444444444"        # not configured yet
BETA = "55555555-5555-5555-5555-555555555555"       # the service user is only an employee there
SHARED = (LIVE, TEST, TWO)
SECRETS = (API_PW, NEW_PW, SVC_PW, SOLO_PW, base64.b64encode(f"{SVC}:{SVC_PW}".encode()).decode())


def ocerra_seed(switches=None, **erp):
    configured = {"baseUrl": "{acumatica}/acme", "tenant": "Company", "login": "OcerraAPI",
                  "password": API_PW, "enableConnection": True}
    ocerra = {
        "switches": switches or {},
        "users": [{"login": SVC, "password": SVC_PW,
                   "clients": [LIVE, TEST, TWO, NEW, {"id": BETA, "role": "employee"}]},
                  {"login": SOLO, "password": SOLO_PW, "clients": [TWO]}],
        "clients": [{"id": LIVE, "name": "Acme Live", "settings": configured},
                    {"id": TEST, "name": "Acme Test", "settings": configured},
                    {"id": TWO, "name": "Acme Two", "settings": configured},
                    {"id": NEW, "name": "Acme New", "settings": {}},
                    {"id": BETA, "name": "Beta", "settings": {}}],
    }
    return {**erp_seed(api_user(), **erp), "ocerra": ocerra}


class Ocerra:
    """The sandbox's fake Ocerra as the module tests see it, and a runner for the modules."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def seed(self, switches=None, **erp):
        self.sandbox.reset(seed=ocerra_seed(switches, **erp))
        # Seeded statuses read "tested now"; a real run comes later than the last test.
        self.sandbox.clock.advance(60)

    def args(self, **over):
        """Module arguments; an option given as None is left out, as a playbook would."""
        given = {"ocerra_url": self.sandbox.ocerra_url, "ocerra_username": SVC, "ocerra_password": SVC_PW,
                 **over}
        return {k: v for k, v in given.items() if v is not None}

    def connect_args(self, client_id=LIVE, **over):
        return self.args(**{"client_id": client_id, "erp_url": f"{self.sandbox.acumatica_url}/acme",
                            "tenant": "Company", "login": "OcerraAPI", "password": API_PW,
                            "status_retry_delay": 0, **over})

    def run(self, name="ocerra_connection", check=False, **args):
        """The module's result; fails the test if any secret leaked into it. Runs as a module
        process would: once any test imported controller code, Ansible would otherwise send
        module warnings to the display instead of the result."""
        with mock.patch.object(_internal, "is_controller", False):
            result = run_module(name, args, check=check)
        assert_no_secret(json.dumps(result))
        return result

    def connect(self, client_id=LIVE, check=False, **over):
        return self.run(check=check, **self.connect_args(client_id, **over))

    # ---- what the fake saw -----------------------------------------------------------------
    def log(self):
        return [(e["method"], e["path"], e["query"].get("clientId")) for e in self.sandbox.ocerra.log.snapshot()]

    def clear_log(self):
        self.sandbox.ocerra.log.clear()

    def writes(self):
        return [e for e in self.log() if e[0] != "GET"]

    def puts(self):
        return [e for e in self.log() if e[0] == "PUT"]

    def tests(self):
        return [e for e in self.log() if e[1].endswith("/Connection/Test")]

    def settings(self, client_id):
        return next(c["settings"] for c in self.sandbox.ocerra.state()["clients"] if c["clientId"] == client_id)

    def switch(self, **switches):
        self.sandbox.ocerra.set_switches(switches)

    # ---- the ERP side -----------------------------------------------------------------------
    def erp_user(self, **fields):
        self.sandbox.erp.upsert_user("acme", "Company", {"username": "OcerraAPI", **fields})

    def erp_counts(self):
        users = self.sandbox.erp.counters()["acme/Company"]["users"]
        return users.get("OcerraAPI", {"signins": 0, "signouts": 0, "failed_signins": 0})

    def erp_locked(self):
        users = self.sandbox.erp.state()["instances"][0]["tenants"][0]["users"]
        return next(u for u in users if u["username"] == "OcerraAPI")["locked"]

    def assert_erp_sessions_balanced(self):
        for site, counts in self.sandbox.erp.counters().items():
            assert counts["signins"] == counts["signouts"] and counts["sessions_open"] == 0, (site, counts)


@pytest.fixture
def oc(sandbox):
    """The fixture of the Ocerra module and playbook tests (import it): an `Ocerra` on the
    default `ocerra_seed()`; after the test, every ERP session was closed."""
    ocerra = Ocerra(sandbox)
    ocerra.seed()
    yield ocerra
    ocerra.assert_erp_sessions_balanced()


def assert_no_secret(text):
    for secret in SECRETS:
        assert not any(form in text for form in leaked_forms(secret)), "a secret leaked"
