"""pytest fixtures that give a test a real local Salesforce org over HTTPS.

One server runs per test session; each test gets a freshly seeded org swapped in behind it
(a few milliseconds), so tests are isolated without paying a server start each.

    def test_something(emulator):            # empty org: organization, stages, users
        sf = salesforce_client(emulator)
    def test_other(demo_org): ...            # the demo seed: accounts, contacts, 50 opps

Register with ``pytest_plugins = ["connectors.emulator.pytest_plugin"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connectors.emulator.server import API_VERSION, Emulator


def client_session(org: Emulator) -> requests.Session:
    """A requests session that trusts the org's CA (and ignores REQUESTS_CA_BUNDLE)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(org.ca_file)
    return session


def salesforce_client(org: Emulator, version: str = API_VERSION,
                      session_id: str | None = None) -> object:
    """A simple-salesforce client logged in to ``org`` as the integration user."""
    from simple_salesforce import Salesforce

    return Salesforce(instance_url=org.instance_url,
                      session_id=session_id or org.access_token(),
                      session=client_session(org), version=version)


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The session's one HTTPS server; prefer ``emulator`` or ``demo_org``."""
    keys: Path = tmp_path_factory.mktemp("sf-org-keys")
    with Emulator(seed="empty", keys_dir=keys) as org:
        yield org


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """A fresh empty org (organization, stages, users), all knobs off."""
    emulator_server.reset(seed="empty")
    return emulator_server


@pytest.fixture
def demo_org(emulator_server: Emulator) -> Emulator:
    """A fresh org holding the demo seed."""
    emulator_server.reset(seed="demo")
    return emulator_server
