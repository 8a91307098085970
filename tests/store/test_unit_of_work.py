"""The unit of work: watermarks, shadow, plan index, tombstones and runs, committed together."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sync.store import (
    PlanIndexEntry,
    RunKind,
    RunOutcome,
    ShadowWrite,
    Store,
    Watermark,
    canonical_fields,
    fields_hash,
)
from tests.store.conftest import ManualClock

ORG = "00D000000000001AAA"
OTHER_ORG = "00D000000000002AAA"
OPP = "006000000000001AAA"
MILESTONE = "MAP_Milestone__c"


class Boom(Exception):
    pass


def test_watermark_is_absent_before_the_first_read(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.watermark(ORG, "Opportunity") is None


def test_watermark_round_trips_with_its_tie_break_ids_in_utc(store: Store) -> None:
    stamp = datetime(2026, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(stamp, frozenset({"006B", "006A"})))
    with store.transaction(write=False) as tx:
        mark = tx.watermark(ORG, "Opportunity")
    assert mark == Watermark(stamp, frozenset({"006A", "006B"}))
    assert mark is not None
    assert mark.systemmodstamp.utcoffset() is not None


def test_a_newer_watermark_replaces_the_old_one_and_records_when(
    store: Store, clock: ManualClock
) -> None:
    first = Watermark(datetime(2026, 3, 1, tzinfo=UTC), frozenset({"006A"}))
    second = Watermark(datetime(2026, 3, 2, tzinfo=UTC), frozenset())
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", first)
    clock.advance(120)
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", second)
        assert tx.watermarks(ORG) == {"Opportunity": second}
        assert tx.watermarks_updated_at(ORG) == {"Opportunity": clock.now}


def test_orgs_sharing_a_database_never_see_each_others_state(store: Store) -> None:
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))
        tx.put_shadow(ORG, MILESTONE, f"{OPP}:kickoff", None, {"Status__c": "Done"})
        tx.add_tombstone(ORG, OPP)
    with store.transaction() as tx:
        assert tx.watermark(OTHER_ORG, "Opportunity") is None
        assert tx.shadow(OTHER_ORG, MILESTONE, [f"{OPP}:kickoff"]) == {}
        assert not tx.is_tombstoned(OTHER_ORG, OPP)


def test_a_naive_timestamp_is_refused_rather_than_guessed(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"), store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1)))


def test_shadow_returns_written_values_in_canonical_form_with_their_hash(store: Store) -> None:
    fields = {"Due_Date__c": date(2026, 4, 1), "Days_Slipped__c": Decimal("3.0"),
              "Status__c": "Not Started"}
    with store.transaction() as tx:
        tx.put_shadow(ORG, MILESTONE, f"{OPP}:kickoff", "a01000000000001AAA", fields)
    with store.transaction() as tx:
        got = tx.shadow(ORG, MILESTONE, [f"{OPP}:kickoff", f"{OPP}:missing"])
    assert list(got) == [f"{OPP}:kickoff"]
    record = got[f"{OPP}:kickoff"]
    assert record.record_id == "a01000000000001AAA"
    assert record.fields == {"Due_Date__c": "2026-04-01", "Days_Slipped__c": 3,
                             "Status__c": "Not Started"}
    assert record.fields == canonical_fields(fields)
    assert record.hash == fields_hash({"Status__c": "Not Started", "Days_Slipped__c": 3,
                                       "Due_Date__c": "2026-04-01"})


def test_rewriting_a_shadow_replaces_its_values_and_hash(store: Store) -> None:
    key = f"{OPP}:kickoff"
    with store.transaction() as tx:
        tx.put_shadow(ORG, MILESTONE, key, None, {"Status__c": "Not Started"})
    with store.transaction() as tx:
        tx.put_shadow(ORG, MILESTONE, key, "a01000000000001AAA", {"Status__c": "Done"})
        record = tx.shadow(ORG, MILESTONE, [key])[key]
    assert record.fields == {"Status__c": "Done"}
    assert record.hash == fields_hash({"Status__c": "Done"})
    assert record.record_id == "a01000000000001AAA"


def test_shadow_reads_any_number_of_external_ids(store: Store) -> None:
    writes = [ShadowWrite(f"{OPP}:m{i:04d}", None, {"Sequence__c": i}) for i in range(2500)]
    with store.transaction() as tx:
        assert tx.put_shadows(ORG, MILESTONE, writes) == 2500
    wanted = [w.external_id for w in writes[::2]]
    with store.transaction() as tx:
        got = tx.shadow(ORG, MILESTONE, wanted)
        streamed = list(tx.iter_shadow(ORG, MILESTONE))
    assert sorted(got) == sorted(wanted)
    assert got[f"{OPP}:m2498"].fields == {"Sequence__c": 2498}
    assert [r.external_id for r in streamed] == [w.external_id for w in writes]


def test_deleted_records_lose_their_shadow(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_shadows(ORG, MILESTONE, [ShadowWrite(f"{OPP}:a", None, {}),
                                        ShadowWrite(f"{OPP}:b", None, {})])
    with store.transaction() as tx:
        assert tx.delete_shadow(ORG, MILESTONE, [f"{OPP}:a", f"{OPP}:zzz"]) == 1
        assert list(tx.shadow(ORG, MILESTONE, [f"{OPP}:a", f"{OPP}:b"])) == [f"{OPP}:b"]


def test_plan_index_maps_opportunity_to_plan_and_milestones_both_ways(store: Store) -> None:
    entry = PlanIndexEntry(OPP, "a00000000000001AAA",
                           {"kickoff": "a01000000000001AAA", "go_live": None})
    with store.transaction() as tx:
        tx.put_plan_index(ORG, entry.opportunity_id, entry.plan_id, entry.milestones)
    with store.transaction() as tx:
        assert tx.plan_index(ORG, [OPP, "006000000000009AAA"]) == {OPP: entry}
        assert tx.plan_by_plan_id(ORG, "a00000000000001AAA") == entry
        assert tx.plan_by_plan_id(ORG, "a00000000000009AAA") is None
        assert tx.delete_plan_index(ORG, [OPP]) == 1
        assert tx.plan_index(ORG, [OPP]) == {}


def test_tombstone_keeps_the_first_deletion_and_can_be_lifted(
    store: Store, clock: ManualClock
) -> None:
    first = clock.now
    with store.transaction() as tx:
        tx.add_tombstone(ORG, OPP, deleted_by="005000000000001AAA")
    clock.advance(3600)
    with store.transaction() as tx:
        tx.add_tombstone(ORG, OPP)
        stone = tx.tombstone(ORG, OPP)
        assert stone is not None
        assert (stone.deleted_at, stone.deleted_by) == (first, "005000000000001AAA")
        assert tx.tombstoned_ids(ORG, [OPP, "006000000000009AAA"]) == {OPP}
        assert tx.remove_tombstone(ORG, OPP)
        assert not tx.is_tombstoned(ORG, OPP)
        assert not tx.remove_tombstone(ORG, OPP)


def test_a_run_records_kind_times_outcome_counts_and_api_calls(
    store: Store, clock: ManualClock
) -> None:
    started = clock.now
    with store.transaction() as tx:
        run_id = tx.start_run(ORG, RunKind.CYCLE)
        assert tx.run(run_id) is not None
        assert tx.run(run_id).outcome is RunOutcome.RUNNING  # type: ignore[union-attr]
    clock.advance(42)
    with store.transaction() as tx:
        tx.finish_run(run_id, RunOutcome.PARTIAL, {"pushed": 12, "dead_lettered": 1}, 7,
                      error="1 record refused")
        run = tx.run(run_id)
    assert run is not None
    assert (run.kind, run.outcome, run.api_calls) == (RunKind.CYCLE, RunOutcome.PARTIAL, 7)
    assert (run.started_at, run.finished_at) == (started, clock.now)
    assert run.counts == {"dead_lettered": 1, "pushed": 12}
    assert run.error == "1 record refused"


def test_latest_runs_are_newest_first_and_filter_by_kind(store: Store, clock: ManualClock) -> None:
    ids = []
    for kind in ("cycle", "backfill", "cycle", "retry"):
        with store.transaction() as tx:
            ids.append(tx.start_run(ORG, kind))
        clock.advance(1)
    with store.transaction(write=False) as tx:
        assert [r.id for r in tx.latest_runs(ORG, 3)] == [ids[3], ids[2], ids[1]]
        assert [r.id for r in tx.latest_runs(ORG, 10, kind="cycle")] == [ids[2], ids[0]]
        assert tx.latest_runs(OTHER_ORG) == []


def test_a_run_cannot_finish_as_running_or_as_an_unknown_run(store: Store) -> None:
    with store.transaction() as tx:
        run_id = tx.start_run(ORG, "cycle")
    with pytest.raises(ValueError, match="running"), store.transaction() as tx:
        tx.finish_run(run_id, "running", {}, 0)
    with pytest.raises(LookupError), store.transaction() as tx:
        tx.finish_run(run_id + 1000, "succeeded", {}, 0)


def test_an_exception_rolls_back_every_write_of_the_unit(store: Store) -> None:
    with pytest.raises(Boom), store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))
        tx.put_shadow(ORG, MILESTONE, f"{OPP}:kickoff", None, {"Status__c": "Done"})
        tx.start_run(ORG, "cycle")
        tx.add_dead_letter(ORG, MILESTONE, f"{OPP}:x", "upsert", {}, "X", "refused")
        raise Boom
    with store.transaction(write=False) as tx:
        assert tx.watermark(ORG, "Opportunity") is None
        assert tx.shadow(ORG, MILESTONE, [f"{OPP}:kickoff"]) == {}
        assert tx.latest_runs(ORG) == []
        assert tx.dead_letters(ORG) == []


def test_uncommitted_writes_are_invisible_to_other_connections(store: Store) -> None:
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))
        with store.transaction(write=False) as reader:
            assert reader.watermark(ORG, "Opportunity") is None
    with store.transaction(write=False) as reader:
        assert reader.watermark(ORG, "Opportunity") is not None


def test_an_unknown_record_id_keeps_the_one_already_recorded(store: Store) -> None:
    key = f"{OPP}:kickoff"
    with store.transaction() as tx:
        tx.put_shadow(ORG, MILESTONE, key, "a01000000000001AAA", {"Status__c": "Not Started"})
        tx.put_plan_index(ORG, OPP, "a00000000000001AAA", {"kickoff": "a01000000000001AAA"})
    bulk = [ShadowWrite(key, None, {"Status__c": "Done"})]
    bulk += [ShadowWrite(f"{OPP}:m{i}", None, {}) for i in range(1200)]  # the bulk path too
    with store.transaction() as tx:
        tx.put_shadows(ORG, MILESTONE, bulk)
        tx.put_plan_index(ORG, OPP, None, {"kickoff": "a01000000000001AAA", "go_live": None})
    with store.transaction() as tx:
        record = tx.shadow(ORG, MILESTONE, [key])[key]
        entry = tx.plan_index(ORG, [OPP])[OPP]
    assert (record.record_id, record.fields) == ("a01000000000001AAA", {"Status__c": "Done"})
    assert entry.plan_id == "a00000000000001AAA"
    assert entry.milestones == {"kickoff": "a01000000000001AAA", "go_live": None}


def test_a_read_transaction_refuses_writes(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)read.only|readonly"), \
            store.transaction(write=False) as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))
    with store.transaction() as tx:  # and the next writer is not affected
        tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))


def test_on_sqlite_a_write_nested_in_a_write_fails_at_once_instead_of_waiting(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'nested.db'}")
    with store.transaction() as tx:
        tx.start_run(ORG, "cycle")
        with pytest.raises(RuntimeError, match="would wait for itself"), store.transaction():
            pass
        with pytest.raises(RuntimeError, match="would wait for itself"):
            store.try_acquire_lease(ORG, "worker-a", 60)
        with store.transaction(write=False) as reader:  # reading alongside is fine
            assert reader.latest_runs(ORG) == []
    assert store.try_acquire_lease(ORG, "worker-a", 60)
    store.close()
