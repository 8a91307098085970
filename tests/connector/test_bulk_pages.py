"""A Bulk query's result page: on disk, not in memory, while its rows are read.

A streamed first cycle reads the org's Opportunities from one Bulk query, a result page per
call; a page held in memory while its rows are planned made its size a trade of memory
against calls (20,000 rows a page, ≈ 30 MB). Kept on disk, a page costs the memory of a row.
The local org runs in a child process here, so what is traced is the client's alone.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from config.settings import load_settings
from connectors.salesforce import SalesforceClient
from tests.benchmarks.profiles import BenchProfile, OrgProcess

OPPORTUNITIES = 20_000
FIELDS = "Id, Name, StageName, Amount, CloseDate, AccountId, OwnerId, SystemModstamp"


def test_a_query_result_page_is_not_held_in_memory_while_its_rows_are_read(
        tmp_path: Path) -> None:
    with OrgProcess(tmp_path, BenchProfile("flat", latency_ms=0), seed="empty",
                    opportunities=OPPORTUNITIES) as org:
        client = SalesforceClient(load_settings(**{k.lower(): v for k, v in org.jwt_env.items()},
                                                sf_bulk_poll_seconds=0.05))
        client.connect()
        before = org.tally()
        tracemalloc.start()
        try:
            rows = page = 0
            for row in client.bulk_query(f"SELECT {FIELDS} FROM Opportunity",
                                         max_records=OPPORTUNITIES):
                rows += 1
                page += sum(len(str(v)) + 1 for v in row.values())  # its cells as CSV, roughly
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        after = org.tally()
    assert rows == OPPORTUNITIES
    assert sum(1 for _, path in after["journal"][len(before["journal"]):]
               if path.endswith("/results")) == 1
    assert page > 2_000_000
    assert peak < page / 4  # a page held as text (and as the bytes it arrived in) is 2 x
