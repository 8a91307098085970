"""Leases: one worker per org at a time; a dead worker's lease expires and is taken over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from sync.store import Store
from tests.store.conftest import ManualClock

ORG = "00D000000000001AAA"
OTHER_ORG = "00D000000000002AAA"


def test_a_free_org_is_leased_to_the_first_worker_only(store: Store) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    assert not store.try_acquire_lease(ORG, "worker-b", 60)
    assert store.lease_holder(ORG) == "worker-a"


def test_each_org_has_its_own_lease(store: Store) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    assert store.try_acquire_lease(OTHER_ORG, "worker-b", 60)
    assert (store.lease_holder(ORG), store.lease_holder(OTHER_ORG)) == ("worker-a", "worker-b")


def test_the_holder_may_take_its_own_lease_again(store: Store, clock: ManualClock) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    acquired = clock.now
    clock.advance(30)
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    lease = store.lease(ORG)
    assert lease is not None
    assert (lease.acquired_at, lease.expires_at) == (acquired, clock.now + timedelta(seconds=60))


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew_it(
    store: Store, clock: ManualClock
) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    clock.advance(59)
    assert not store.try_acquire_lease(ORG, "worker-b", 60)
    clock.advance(1)
    assert store.lease_holder(ORG) is None
    assert store.try_acquire_lease(ORG, "worker-b", 60)
    assert store.lease_holder(ORG) == "worker-b"
    assert not store.renew_lease(ORG, "worker-a", 60)
    assert not store.heartbeat(ORG, "worker-a")
    assert not store.release_lease(ORG, "worker-a")
    assert store.lease_holder(ORG) == "worker-b"


def test_heartbeats_keep_a_lease_alive_for_its_time_to_live(
    store: Store, clock: ManualClock
) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    for _ in range(5):
        clock.advance(45)
        assert store.heartbeat(ORG, "worker-a")
        assert not store.try_acquire_lease(ORG, "worker-b", 60)
    lease = store.lease(ORG)
    assert lease is not None
    assert (lease.heartbeat_at, lease.expires_at) == (clock.now, clock.now + timedelta(seconds=60))


def test_renewing_sets_a_new_time_to_live(store: Store, clock: ManualClock) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    assert store.renew_lease(ORG, "worker-a", 600)
    clock.advance(300)
    assert not store.try_acquire_lease(ORG, "worker-b", 60)


def test_a_released_lease_is_free_at_once(store: Store) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    assert store.release_lease(ORG, "worker-a")
    assert store.lease_holder(ORG) is None
    assert store.try_acquire_lease(ORG, "worker-b", 60)


def test_a_lease_needs_a_positive_time_to_live(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.try_acquire_lease(ORG, "worker-a", 0)


def test_racing_workers_never_both_get_the_lease(database_url: str, clock: ManualClock) -> None:
    workers = [f"worker-{i}" for i in range(8)]
    stores = [Store.open(database_url, clock=clock) for _ in workers]
    start = threading.Barrier(len(workers))
    won: list[str] = []

    def contend(store: Store, name: str) -> None:
        start.wait()
        for _ in range(10):
            if store.try_acquire_lease(ORG, name, 60):
                won.append(name)

    threads = [threading.Thread(target=contend, args=(s, n)) for s, n in zip(stores, workers,
                                                                           strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(set(won)) == 1
    assert stores[0].lease_holder(ORG) == won[0]


def test_on_postgresql_a_worker_skips_a_lease_row_another_is_busy_with(
    postgres_store: Store,
) -> None:
    store = postgres_store
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    with store.engine.connect() as other:
        other.execute(text("SELECT * FROM lease WHERE org_id = :o FOR UPDATE"), {"o": ORG})
        outcome: list[bool] = []
        attempt = threading.Thread(
            target=lambda: outcome.append(store.try_acquire_lease(ORG, "worker-b", 60)))
        attempt.start()
        attempt.join(timeout=5)
        assert outcome == [False], "try_acquire_lease waited on a locked lease row"
        other.rollback()


def test_a_unit_of_work_can_check_its_writer_still_holds_the_lease(
    store: Store, clock: ManualClock
) -> None:
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    with store.transaction() as tx:
        assert tx.holds_lease(ORG, "worker-a")
        assert not tx.holds_lease(ORG, "worker-b")
        assert not tx.holds_lease(OTHER_ORG, "worker-a")
    clock.advance(61)
    with store.transaction() as tx:
        assert not tx.holds_lease(ORG, "worker-a")


def test_on_postgresql_no_takeover_happens_between_the_fence_and_the_commit(
    postgres_store: Store, clock: ManualClock
) -> None:
    store = postgres_store
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    with store.transaction() as tx:
        assert tx.holds_lease(ORG, "worker-a")
        clock.advance(61)  # the lease lapses while the unit is still committing
        assert not store.try_acquire_lease(ORG, "worker-b", 60)
    assert store.try_acquire_lease(ORG, "worker-b", 60)
