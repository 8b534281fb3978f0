"""Fixtures of the playbook tests: the sandbox reset to the demo's seed, and a `site` that runs
ansible-playbook on a copy of inventories/sandbox pointed at it (tests/integration/helpers.py).

Every test ends with the ERP's sign-ins equal to its sign-outs (the toolkit's admin and probe
sessions and Ocerra's connection tests alike) and no session left open.
"""
import copy

import pytest
import yaml

from tests.integration.helpers import DEFAULT_SEED, Site


def default_seed_dict():
    seed = yaml.safe_load(DEFAULT_SEED.read_text())
    # The fake publication answers "in progress" to one poll instead of three, so a fresh
    # site's first run does not wait ten seconds on it; the publish flow is the same.
    seed["acumatica"].setdefault("switches", {})["customization"] = {"publish_polls": 1}
    return seed


@pytest.fixture
def seed():
    return default_seed_dict()


@pytest.fixture
def site(sandbox, tmp_path):
    runner = Site(sandbox, tmp_path)
    yield runner
    runner.assert_sessions_balanced()


@pytest.fixture
def seed_copy():
    """A fresh, editable copy of the default seed (for tests that reset to a variant)."""
    return copy.deepcopy(default_seed_dict())
