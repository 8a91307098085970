"""Backfill checkpoints: a backfill resumes from the last cursor committed with its data."""

from __future__ import annotations

from datetime import date

import pytest

from sync.store import BackfillStatus, ShadowWrite, Store
from tests.store.conftest import ManualClock

ORG = "00D000000000001AAA"
PARAMS = {"since": date(2025, 1, 1), "until": None, "dry_run": False}


def test_a_checkpoint_keeps_parameters_cursor_counts_and_status(
    store: Store, clock: ManualClock
) -> None:
    created = clock.now
    with store.transaction() as tx:
        assert tx.checkpoint("bf-1") is None
        tx.put_checkpoint("bf-1", ORG, PARAMS, None, {"plans": 0})
    clock.advance(60)
    with store.transaction() as tx:
        tx.put_checkpoint("bf-1", ORG, PARAMS, "006000000000200AAA", {"plans": 200})
        point = tx.checkpoint("bf-1")
    assert point is not None
    assert point.parameters == {"dry_run": False, "since": "2025-01-01", "until": None}
    assert (point.cursor, point.counts) == ("006000000000200AAA", {"plans": 200})
    assert point.status is BackfillStatus.RUNNING
    assert (point.created_at, point.updated_at) == (created, clock.now)


def test_only_running_or_paused_backfills_are_offered_for_resume(
    store: Store, clock: ManualClock
) -> None:
    with store.transaction() as tx:
        for backfill_id, status in [("done", "completed"), ("old", "paused"),
                                    ("failed", "failed"), ("new", "running")]:
            tx.put_checkpoint(backfill_id, ORG, PARAMS, None, {}, status)
            clock.advance(1)
        assert [c.backfill_id for c in tx.resumable_backfills(ORG)] == ["new", "old"]
        assert len(tx.checkpoints(ORG)) == 4
        assert tx.resumable_backfills("00D000000000002AAA") == []


def test_a_checkpoint_rolls_back_with_the_batch_it_covers(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_checkpoint("bf-1", ORG, PARAMS, "cursor-1", {"plans": 1})
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put_shadows(ORG, "Mutual_Action_Plan__c", [ShadowWrite("006000000000002AAA", None, {})])
        tx.put_checkpoint("bf-1", ORG, PARAMS, "cursor-2", {"plans": 2})
        raise RuntimeError("push failed")
    with store.transaction() as tx:
        point = tx.checkpoint("bf-1")
        assert point is not None
        assert point.cursor == "cursor-1"
        assert tx.shadow(ORG, "Mutual_Action_Plan__c", ["006000000000002AAA"]) == {}
