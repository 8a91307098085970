"""The parts every run of one org works with: Salesforce, the store, the planner, the clock.

A plain value, built once per process (``sync.cli.runtime``) or per test, and handed to the
cycle's sequencer and to the jobs; it has no behaviour of its own beyond naming the org.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.salesforce.usage import ApiUsage
from mappings.model import StageMapping
from sync.cycle.pull import Reader
from sync.cycle.push import Writer
from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import Planner
from sync.store import Store

Clock = Callable[[], dt.datetime]
DEFAULT_CHUNK_SIZE = 5_000  # Opportunities planned, pushed and committed at a time


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Salesforce(Reader, Writer, Protocol):
    """What the cycle and the jobs need of the Salesforce connector: the seam at the hub.

    ``connectors.salesforce.SalesforceClient`` is the real one; tests may hand in any object
    with these members."""

    @property
    def usage(self) -> ApiUsage: ...

    @property
    def org_id(self) -> str | None: ...

    @property
    def user_id(self) -> str | None: ...

    @property
    def bulk_threshold(self) -> int: ...

    @property
    def server_time(self) -> dt.datetime | None: ...

    def connect(self) -> Any: ...

    def set_write_guard(self, check: Callable[[], None] | None) -> None: ...

    def query(self, soql: str, batch_size: int = ...) -> Iterator[dict[str, Any]]: ...

    def query_all(self, soql: str, batch_size: int = ...) -> Iterator[dict[str, Any]]: ...

    def count(self, soql: str) -> int: ...

    def bulk_query(self, soql: str, *, include_deleted: bool = ...,
                   max_records: int = ...) -> Iterator[dict[str, str | None]]: ...



@dataclass(frozen=True)
class Org:
    """One Salesforce org as mapsync syncs it."""

    salesforce: Salesforce
    store: Store
    planner: Planner
    lookback: dt.timedelta = dt.timedelta(minutes=10)
    clock: Clock = utc_now
    chunk_size: int = DEFAULT_CHUNK_SIZE
    teams: bool = True  # the org has Opportunity Teams (Team Selling) to name seller owners

    @classmethod
    def build(cls, salesforce: Salesforce, store: Store, mapping: StageMapping,
              **options: Any) -> Org:
        planner = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar))
        return cls(salesforce, store, planner, **options)

    @property
    def mapping(self) -> StageMapping:
        return self.planner.mapping

    @property
    def id(self) -> str:
        """The org's Id (``00D…``), asking Salesforce once if not connected yet."""
        org = self.salesforce.org_id
        if org is None:
            self.salesforce.connect()
            org = self.salesforce.org_id
        return str(org)
