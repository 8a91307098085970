"""Real clients, unmodified, against the local org with only the login host redirected.

simple-salesforce (its own environment) logs in over SOAP with password and security token
and reads through ``sf.bulk`` (Bulk API 1.0); tap-salesforce (its own environment) logs in
with a refresh token at login.salesforce.com, discovers the org from the global describe and
replicates Opportunity through Bulk API 1.0. ``tests/benchmarks/bench_peers.py`` runs them
with Airbyte's source and mapsync's poll through late commits; these are the quick checks.
The first run installs the two peers (about a minute); they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.emulator.login_proxy import LoginProxy
from connectors.emulator.server import Emulator
from tests.peers.clients import SimpleSalesforceBulk, TapSalesforce

pytestmark = pytest.mark.peers


@pytest.fixture
def proxy(demo_org: Emulator) -> Iterator[LoginProxy]:
    with LoginProxy(demo_org) as running:
        yield running


def test_simple_salesforce_soap_login_and_bulk_query_read_every_opportunity(
        demo_org: Emulator, proxy: LoginProxy) -> None:
    peer = SimpleSalesforceBulk(demo_org, proxy)
    first = peer.poll()
    assert len(first.ids) == len(set(first.ids)) == 50
    # SOAP login at login.salesforce.com, everything else at the serverUrl it answered
    assert proxy.tunnelled == ["login.salesforce.com:443"]
    assert peer.poll().ids == []  # nothing changed since the greatest SystemModstamp read


def test_tap_salesforce_bulk_discovers_the_org_and_replicates_opportunity(
        demo_org: Emulator, proxy: LoginProxy, tmp_path: Path) -> None:
    tap = TapSalesforce(demo_org, proxy, tmp_path, "BULK")
    streams = tap.discover()
    assert {"Opportunity", "Mutual_Action_Plan__c", "MAP_Milestone__c"} <= set(streams)
    before = demo_org.api_calls
    read = tap.poll()
    assert sorted(set(read.ids)) == sorted(
        str(r[0]) for r in demo_org.org.store.conn.execute("SELECT Id FROM Opportunity"))
    assert tap.state is not None
    assert "SystemModstamp" in tap.state["bookmarks"]["Opportunity"]
    # limits, then the Bulk 1.0 job: create, batch, close, batch status, result list, result
    assert demo_org.api_calls - before == 7
    assert proxy.refused == []
