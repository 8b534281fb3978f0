"""The `erp` fixture: the sandbox's acme/Company site, with sessions checked after every test."""
import pytest

from tests.modules.erp_support import Site


@pytest.fixture
def erp(sandbox):
    site = Site(sandbox)
    yield site
    site.assert_sessions_balanced()
