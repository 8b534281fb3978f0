"""Shared seed and ERP stub for the fake Ocerra's tests (this module holds no tests)."""
from types import SimpleNamespace

import pytest

from sandbox.clock import Clock
from sandbox.ocerra import OcerraModel

ERP = "http://erp.invalid"
A, B, C = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
           "33333333-3333-3333-3333-333333333333")
EMPLOYEE_ONLY = "44444444-4444-4444-4444-444444444444"
FOREIGN = "55555555-5555-5555-5555-555555555555"
UNKNOWN = "99999999-9999-9999-9999-999999999999"
SVC, SVC_PW = "svc@partner.example", "Svc-Canary-Pw-9141"
ERP_PW = "Erp-Canary-Pw-5d2e7a1c0b"        # the API user's password, shared by A, B and C
NEW_PW = "Erp-Canary-New-Pw-83f0c2a9"


def ocerra_seed(**switches):
    settings = {"baseUrl": "{acumatica}/acme", "tenant": "Company", "branch": "HQ",
                "login": "OcerraAPI", "password": ERP_PW, "enableConnection": True,
                "autoExportStatuses": "Approved"}
    return {
        "switches": switches,
        "users": [
            {"login": SVC, "password": SVC_PW,
             "clients": [A, B, C, {"id": EMPLOYEE_ONLY, "role": "employee"}]},
            {"login": "other@partner.example", "password": "Other-Pw-1", "clients": [FOREIGN]},
            {"login": "2fa@partner.example", "password": "TwoFa-Pw-1", "clients": [A],
             "two_factor": True},
        ],
        "clients": [
            {"id": A, "name": "Acme Live", "settings": settings},
            {"id": B, "name": "Acme Test", "settings": settings},
            {"id": C, "name": "Acme Two", "settings": {**settings, "enableConnection": False}},
            {"id": EMPLOYEE_ONLY, "name": "Beta", "settings": {}},
            {"id": FOREIGN, "name": "Gamma", "settings": {}},
        ],
    }


class StubErp:
    """Stands in for sandbox.erp_probe.erp_signin: one user table with Acumatica's default
    lock-out (3 failures), and every call recorded."""

    def __init__(self):
        self.passwords = {"OcerraAPI": ERP_PW}
        self.failures = {}
        self.locked = set()
        self.forced = None          # an outcome to answer whatever the credentials
        self.calls = []
        self.during_call = None     # a callable run inside the sign-in, to stage races

    def __call__(self, base_url, tenant, branch, login, password, verify):
        self.calls.append({"base_url": base_url, "tenant": tenant, "branch": branch,
                           "login": login, "password": password, "verify": verify})
        if self.during_call:
            self.during_call()
        if self.forced:
            return SimpleNamespace(outcome=self.forced, message="forced")
        if login in self.locked:
            return SimpleNamespace(outcome="account_locked", message="locked")
        if self.passwords.get(login) != password:
            self.failures[login] = self.failures.get(login, 0) + 1
            if self.failures[login] >= 3:
                self.locked.add(login)
            return SimpleNamespace(outcome="invalid_credentials", message="bad")
        self.failures[login] = 0
        return SimpleNamespace(outcome="connected", message="")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def erp():
    return StubErp()


@pytest.fixture
def model(clock, erp):
    return OcerraModel(clock, erp_signin=erp).from_seed(ocerra_seed(), ERP)
