"""pytest fixtures that give a test a real local Salesforce org over HTTPS.

One server runs per test session; each test gets a freshly seeded org swapped in behind it
(a few milliseconds), so tests are isolated without paying a server start each.

    def test_something(emulator):            # empty org: organization, stages, users
        sf = salesforce_client(emulator)
    def test_other(demo_org): ...            # the demo seed: accounts, contacts, 50 opps

Register with ``pytest_plugins = ["connectors.emulator.pytest_plugin"]``.

``pytest --org-profile realistic --org-time-scale 0.01`` runs every test against orgs with
the realistic profile (``profile.py``), a hundred times faster than a real org; a test sets
its own with ``emulator.set_knobs(profile=profile_named("realistic", time_scale=0.01))``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connectors.emulator.knobs import Knobs
from connectors.emulator.profile import PROFILES, profile_named
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("local org")
    group.addoption("--org-profile", default="flat", choices=sorted(PROFILES),
                    help="the local org's performance profile for every test (default flat)")
    group.addoption("--org-time-scale", type=float, default=0.01,
                    help="the time scale of --org-profile (default 0.01)")


@pytest.fixture(scope="session")
def org_knobs(pytestconfig: pytest.Config) -> Knobs:
    """The knobs a fresh org starts with: all off, the profile ``--org-profile`` names."""
    name = pytestconfig.getoption("--org-profile")
    if name == "flat":
        return Knobs()
    return Knobs(profile=profile_named(name, pytestconfig.getoption("--org-time-scale")))


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The session's one HTTPS server; prefer ``emulator`` or ``demo_org``."""
    keys: Path = tmp_path_factory.mktemp("sf-org-keys")
    with Emulator(seed="empty", keys_dir=keys) as org:
        yield org


@pytest.fixture
def emulator(emulator_server: Emulator, org_knobs: Knobs) -> Emulator:
    """A fresh empty org (organization, stages, users), all knobs off."""
    emulator_server.reset(seed="empty", knobs=org_knobs)
    return emulator_server


@pytest.fixture
def demo_org(emulator_server: Emulator, org_knobs: Knobs) -> Emulator:
    """A fresh org holding the demo seed."""
    emulator_server.reset(seed="demo", knobs=org_knobs)
    return emulator_server
