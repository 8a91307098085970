"""The emulator's own tests drive the org's API mechanics as an administrator.

Permissions are their own subject (``test_org_permissions.py``, which uses strict orgs);
elsewhere here the integration user gets View All Data and Modify All Data, so a test of,
say, Collections can create Accounts without a permission set that grants them.
"""

from __future__ import annotations

import pytest

from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """A fresh empty org whose integration user is an administrator."""
    org = emulator_server.reset(seed="empty")
    org.access.make_admin(org.integration_user_id)
    return emulator_server


@pytest.fixture
def demo_org(emulator_server: Emulator) -> Emulator:
    """A fresh demo org whose integration user is an administrator."""
    org = emulator_server.reset(seed="demo")
    org.access.make_admin(org.integration_user_id)
    return emulator_server


@pytest.fixture
def strict_org(emulator_server: Emulator) -> Emulator:
    """A fresh demo org as shipped: the integration user holds only its permission set."""
    emulator_server.reset(seed="demo")
    return emulator_server


@pytest.fixture
def bulk(emulator: Emulator) -> BulkClient:
    """A Bulk API client of the integration user on the ``emulator`` org."""
    return BulkClient(emulator)
