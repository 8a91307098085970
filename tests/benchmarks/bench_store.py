"""Store size per synced record on SQLite and PostgreSQL, after a real first cycle.

A local org with N qualifying Opportunities (default 2,000) is synced once by the real cycle
into an empty store on each backend; the store's tables are weighed on disk, indexes
included (``dbstat`` on SQLite, ``pg_total_relation_size`` on PostgreSQL), less what the
empty store already took. A synced record is a plan, a milestone or an Opportunity rollup
mapsync wrote. Target: 250 bytes per record (issue 14: 1,000,000 Opportunities ≈ 11 million
records must fit in ≈ 3 GB).

    python -m tests.benchmarks.bench_store [--qualifying N]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

from tests.benchmarks.bench_cycle import QUALIFYING_SHARE, quiet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--qualifying", type=int, default=2_000)
    args = parser.parse_args()
    quiet()
    from connectors.emulator.server import Emulator
    from tests.fixtures.postgres import running_postgres
    from tests.store.sizing import TARGET_BYTES_PER_RECORD, StoreSize, measure

    total = math.ceil(args.qualifying / QUALIFYING_SHARE)
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    sizes: list[StoreSize] = []
    with Emulator(seed="empty", keys_dir=work) as org, running_postgres() as pg:
        for url in (f"sqlite:///{work / 'mapsync.db'}", pg.create_database()):
            org.reset(seed="empty", opportunities=total)
            sizes.append(measure(org, url))
    print(f"first cycle over {total} Opportunities; bytes on disk per synced record "
          "(plan, milestone, rollup or Task), indexes included")
    print(f"{'backend':<12}{'plans':>7}{'records':>9}{'store MB':>10}{'bytes/rec':>11}"
          f"{'target':>8}")
    for s in sizes:
        print(f"{s.backend:<12}{s.opportunities:>7}{s.records:>9}{s.total / 1e6:>10.2f}"
              f"{s.per_record:>11.0f}{TARGET_BYTES_PER_RECORD:>8}")
    for s in sizes:
        parts = ", ".join(f"{name} {size / s.records:.0f}"
                          for name, size in sorted(s.tables.items(), key=lambda kv: -kv[1])
                          if size)
        print(f"  {s.backend} per record by table: {parts}")
    print(json.dumps({s.backend: round(s.per_record) for s in sizes}))


if __name__ == "__main__":
    main()
