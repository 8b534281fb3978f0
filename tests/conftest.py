"""Fixtures shared by every test directory.

* ``sandbox_server`` (session scope): one ``sandbox.Sandbox`` (fake Acumatica + fake Ocerra,
  ephemeral ports, plain HTTP) started with an empty seed for the whole run (per xdist worker).
* ``seed`` (function scope): the seed the next ``sandbox`` is reset to; ``{}`` by default.
  Override it per module with your own ``seed`` fixture, or per test with
  ``@pytest.mark.parametrize("seed", [my_seed_dict_or_path])``.
* ``sandbox`` (function scope): ``sandbox_server`` reset to ``seed`` before the test (state,
  clock, switches, faults, logs and counters), so tests never see each other's traces.
  Use ``sandbox.acumatica_url`` / ``sandbox.ocerra_url`` over HTTP, ``sandbox.erp`` /
  ``sandbox.ocerra`` for the models, ``sandbox.clock.advance(s)`` for time, and
  ``sandbox.reset(seed=...)`` to switch seeds mid-test.
* ``default_seed`` (function scope): the path of sandbox/seeds/default.yml, the demo's seed.
* ``vault_server`` (module scope): the fake HashiCorp Vault (sandbox/vault.py) on loopback,
  ``(model, url)``; its root token is ``sandbox.vault.DEFAULT_TOKEN``.
* ``aws_server`` (module scope): AWS Secrets Manager (moto, sandbox/aws.py) on loopback, its
  URL; clients need ``sandbox.aws.CLIENT_ENV`` in their environment.

Example::

    @pytest.mark.parametrize("seed", [{"acumatica": {"instances": [...]}}])
    def test_x(sandbox):
        requests.post(f"{sandbox.acumatica_url}/acme/entity/auth/login", json={...})
"""
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox import aws as sandbox_aws
from sandbox import vault as sandbox_vault

DEFAULT_SEED = Path(__file__).resolve().parents[1] / "sandbox" / "seeds" / "default.yml"


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox.start(seed={})
    yield server
    server.stop()


@pytest.fixture
def seed():
    return {}


@pytest.fixture
def sandbox(sandbox_server, seed):
    sandbox_server.reset(seed=seed)
    return sandbox_server


@pytest.fixture
def default_seed():
    return DEFAULT_SEED


@pytest.fixture(scope="module")
def vault_server():
    server, model, url = sandbox_vault.start()
    yield model, url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def aws_server():
    server, url = sandbox_aws.start()
    yield url
    server.stop()
