"""The store's bytes per synced record after a real first cycle over a local org.

A synced record is one record mapsync writes and keeps a shadow of: a plan, a milestone, an
Opportunity's rollup. The figure is the whole store (every table, indexes included) over the
records the cycle wrote, so nothing the store keeps per record escapes it. Shared by
``tests/store/test_store_size.py`` (the bound) and ``tests/benchmarks/bench_store.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import load_settings
from connectors.emulator.server import Emulator
from connectors.salesforce.client import SalesforceClient
from mappings.loader import default_mapping_path, load_mapping
from sync.cycle import Org, run_cycle
from sync.store import Store

TARGET_BYTES_PER_RECORD = 250  # issue 14: ≈ 250 MB per million synced records


@dataclass(frozen=True)
class StoreSize:
    """What one first cycle left in a store."""

    backend: str
    opportunities: int  # with a plan
    records: int  # plans + milestones + rollups + milestones' Tasks written
    tables: dict[str, int]  # bytes on disk the cycle added, indexes included

    @property
    def total(self) -> int:
        return sum(self.tables.values())

    @property
    def per_record(self) -> float:
        return self.total / max(self.records, 1)


def measure(org: Emulator, database_url: str) -> StoreSize:
    """Sync every Opportunity of ``org`` once into the empty store at ``database_url`` and
    weigh what the cycle added (an empty store's pages, a few KB per table, are not per
    record)."""
    settings = load_settings(**{k.lower(): v for k, v in org.env().items()},
                             database_url=database_url, log_level="WARNING",
                             sf_retry_max_wait=0.01, sf_bulk_poll_seconds=0.05)
    store = Store.open(settings.database_url, auto_upgrade=True)
    try:
        sync = Org.build(SalesforceClient(settings, sleep=lambda s: None), store,
                         load_mapping(default_mapping_path()))
        with store.transaction(write=False) as tx:
            empty = tx.table_sizes()
        report = run_cycle(sync)
        with store.transaction(write=False) as tx:
            tables = {name: size - empty[name] for name, size in tx.table_sizes().items()}
    finally:
        store.close()
    records = (report.plans_created + report.milestones_written + report.rollups_written
               + report.tasks_written)
    return StoreSize(store.backend, report.plans_created, records, tables)
