"""A process killed with SIGKILL in the middle of a store write leaves the store with the
whole unit of work or none of it, and the store works normally afterwards."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from sync.store import Store, Watermark
from tests.store import crash_writer as w

REPO = Path(__file__).resolve().parents[2]


def _start(url: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.store.crash_writer", url, mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=REPO)


def _wait_for(child: subprocess.Popen[str], prefix: str) -> str:
    assert child.stdout is not None
    assert child.stderr is not None
    line = child.stdout.readline()
    if not line.startswith(prefix):
        child.kill()
        raise AssertionError(f"writer said {line!r}; stderr: {child.stderr.read()[-2000:]}")
    return line


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def _assert_consistent(store: Store, n: int, records: int) -> None:
    with store.transaction(write=False) as tx:
        mark = tx.watermark(w.ORG, "Opportunity")
        shadows = list(tx.iter_shadow(w.ORG, w.OBJ))
        runs = tx.latest_runs(w.ORG, 10_000)
    assert mark == Watermark(w.BASE + timedelta(seconds=n), frozenset({f"006{n:015d}"}))
    assert len(shadows) == records
    assert {s.fields["n"] for s in shadows} == {n}
    assert len(runs) == n + 1
    assert runs[0].counts == {"n": n}
    assert runs[0].api_calls == n


def _assert_usable(store: Store) -> None:
    if store.backend == "sqlite":
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    with store.transaction() as tx:
        tx.set_watermark(w.ORG, "Account", Watermark(w.BASE))
    with store.transaction() as tx:
        assert tx.watermark(w.ORG, "Account") == Watermark(w.BASE)
    assert store.try_acquire_lease(w.ORG, "after-crash", 60)


def test_a_unit_killed_while_writing_leaves_nothing_behind(database_url: str) -> None:
    child = _start(database_url, "midway")
    _wait_for(child, "baseline committed")
    _wait_for(child, "writing")
    _kill(child)
    with Store.open(database_url) as store:
        _assert_consistent(store, 0, 10)
        _assert_usable(store)


def test_units_killed_at_random_moments_are_each_all_or_nothing(database_url: str) -> None:
    rng = random.Random(20260301)
    for _ in range(2):
        child = _start(database_url, "loop")
        _wait_for(child, "committed")
        time.sleep(rng.uniform(0.05, 0.6))
        _kill(child)
        assert child.stdout is not None
        printed = [int(line.split()[1]) for line in child.stdout.read().splitlines()]
        with Store.open(database_url) as store:
            with store.transaction(write=False) as tx:
                mark = tx.watermark(w.ORG, "Opportunity")
            assert mark is not None
            n = int((mark.systemmodstamp - w.BASE).total_seconds())
            assert n >= max(printed, default=0)  # nothing reported committed was lost
            _assert_consistent(store, n, w.LOOP_RECORDS)
            _assert_usable(store)
        _reset(database_url)


def _reset(url: str) -> None:
    with Store.open(url) as store, store.transaction() as tx:
        for table in ("watermark", "shadow", "sync_run", "lease"):
            tx.connection.execute(text(f"DELETE FROM {table}"))
