"""Wiring: settings in, a ready connector, store, mapping and org out.

Every command that talks to Salesforce or the store builds its parts here, once, so the CLI
commands, the worker and the backfill run against exactly the same configuration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from config.logging import REDACTOR, configure_logging
from config.settings import Settings, load_settings
from connectors.salesforce.client import SalesforceClient
from mappings.loader import load_mapping, resolve_mapping_path
from mappings.model import StageMapping
from sync.cycle import Org
from sync.store import Store


@dataclass
class Runtime:
    """The parts one mapsync process works with."""

    settings: Settings
    client: SalesforceClient
    store: Store
    mapping: StageMapping
    org: Org

    def close(self) -> None:
        self.store.close()


def load_mapping_from(settings: Settings) -> StageMapping:
    return load_mapping(resolve_mapping_path(None, settings.mapsync_mappings))


def setup_logging(settings: Settings) -> None:
    configure_logging(settings.effective_log_format, settings.log_level,
                      secrets=settings.secret_values())


@contextmanager
def open_runtime(settings: Settings | None = None, *, log: bool = True) -> Iterator[Runtime]:
    """Validated settings → connector (authenticated), store (migrated), mapping, org."""
    settings = (settings or load_settings()).require_salesforce()
    if log:
        setup_logging(settings)
    mapping = load_mapping_from(settings)
    store = Store.open(settings.database_url)
    try:
        client = SalesforceClient(settings)
        token = client.connect()
        REDACTOR.add(token.access_token.get_secret_value())
        org = Org.build(client, store, mapping,
                        lookback=dt.timedelta(seconds=settings.sync_lookback_seconds),
                        chunk_size=settings.sync_chunk_size,
                        teams=settings.sync_opportunity_teams)
        yield Runtime(settings, client, store, mapping, org)
    finally:
        store.close()
