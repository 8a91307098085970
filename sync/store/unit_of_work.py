"""The unit of work: everything one sync step writes, committed together or not at all.

A cycle's watermarks, shadow values, plan index, run record and dead letters must agree with
each other after any crash: a watermark ahead of its shadow loses records, a shadow without
its run hides a write. So they are written through one :class:`Transaction`, which is one
database transaction: it commits when the ``with`` block ends and rolls back if it raises.

The methods are thin: each concept's SQL lives in its own module (``watermarks``, ``shadow``,
``plan_index``, ``runs``, ``dead_letters``, ``checkpoints``); this class binds them to one
connection and one clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from sync.store import (
    checkpoints,
    dead_letters,
    leases,
    plan_index,
    runs,
    shadow,
    size,
    watermarks,
)
from sync.store.records import (
    BackfillCheckpoint,
    BackfillStatus,
    DeadLetter,
    DeadLetterStatus,
    PlanIndexEntry,
    Run,
    RunKind,
    RunOutcome,
    ShadowRecord,
    ShadowWrite,
    Tombstone,
    Watermark,
)

Clock = Callable[[], datetime]


class Transaction:
    """One open database transaction of the store; obtain it from ``Store.transaction()``."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self._clock = clock

    def now(self) -> datetime:
        """The store's clock (UTC), as stamped on what this transaction writes."""
        return self._clock()

    # --- watermarks -------------------------------------------------------------------------

    def watermark(self, org_id: str, object_name: str) -> Watermark | None:
        return watermarks.get(self.connection, org_id, object_name)

    def set_watermark(self, org_id: str, object_name: str, mark: Watermark) -> None:
        watermarks.put(self.connection, org_id, object_name, mark, self.now())

    def watermarks(self, org_id: str) -> dict[str, Watermark]:
        return watermarks.all_for(self.connection, org_id)

    def watermarks_updated_at(self, org_id: str) -> dict[str, datetime]:
        return watermarks.updated_at(self.connection, org_id)

    def table_sizes(self) -> dict[str, int]:
        """Bytes on disk of each store table, indexes included (``sync.store.size``)."""
        return size.table_sizes(self.connection)

    def shadow_records(self) -> int:
        """How many records the shadow keeps, every org's."""
        return size.shadow_records(self.connection)

    # --- shadow -----------------------------------------------------------------------------

    def shadow(
        self, org_id: str, object_name: str, external_ids: Iterable[str]
    ) -> dict[str, ShadowRecord]:
        return shadow.get(self.connection, org_id, object_name, external_ids)

    def iter_shadow(self, org_id: str, object_name: str) -> Iterator[ShadowRecord]:
        return shadow.iterate(self.connection, org_id, object_name)

    def put_shadow(
        self, org_id: str, object_name: str, external_id: str, record_id: str | None,
        fields: Mapping[str, Any],
    ) -> None:
        self.put_shadows(org_id, object_name, [ShadowWrite(external_id, record_id, dict(fields))])

    def put_shadows(self, org_id: str, object_name: str, writes: Iterable[ShadowWrite]) -> int:
        return shadow.put(self.connection, org_id, object_name, writes, self.now())

    def delete_shadow(self, org_id: str, object_name: str, external_ids: Iterable[str]) -> int:
        return shadow.remove(self.connection, org_id, object_name, external_ids)

    # --- plan index and tombstones ----------------------------------------------------------

    def plan_index(self, org_id: str, opportunity_ids: Iterable[str]) -> dict[str, PlanIndexEntry]:
        return plan_index.get(self.connection, org_id, opportunity_ids)

    def plan_by_plan_id(self, org_id: str, plan_id: str) -> PlanIndexEntry | None:
        return plan_index.by_plan_id(self.connection, org_id, plan_id)

    def put_plan_index(
        self, org_id: str, opportunity_id: str, plan_id: str | None,
        milestones: Mapping[str, str | None],
    ) -> None:
        self.put_plan_indexes(org_id, [PlanIndexEntry(opportunity_id, plan_id, dict(milestones))])

    def put_plan_indexes(self, org_id: str, entries: Iterable[PlanIndexEntry]) -> int:
        return plan_index.put(self.connection, org_id, entries, self.now())

    def delete_plan_index(self, org_id: str, opportunity_ids: Iterable[str]) -> int:
        return plan_index.remove(self.connection, org_id, opportunity_ids)

    def add_tombstone(
        self, org_id: str, opportunity_id: str, deleted_by: str | None = None,
        deleted_at: datetime | None = None,
    ) -> None:
        plan_index.add_tombstone(self.connection, org_id, opportunity_id, self.now(),
                            deleted_by, deleted_at)

    def remove_tombstone(self, org_id: str, opportunity_id: str) -> bool:
        return plan_index.remove_tombstone(self.connection, org_id, opportunity_id)

    def tombstone(self, org_id: str, opportunity_id: str) -> Tombstone | None:
        return plan_index.tombstone(self.connection, org_id, opportunity_id)

    def is_tombstoned(self, org_id: str, opportunity_id: str) -> bool:
        return self.tombstone(org_id, opportunity_id) is not None

    def tombstoned_ids(self, org_id: str, opportunity_ids: Iterable[str]) -> set[str]:
        return plan_index.tombstoned_ids(self.connection, org_id, opportunity_ids)

    # --- runs -------------------------------------------------------------------------------

    def start_run(self, org_id: str, kind: RunKind | str) -> int:
        return runs.start(self.connection, org_id, kind, self.now())

    def finish_run(
        self, run_id: int, outcome: RunOutcome | str, counts: Mapping[str, Any],
        api_calls: int, error: str | None = None,
    ) -> None:
        runs.finish(self.connection, run_id, outcome, counts, api_calls, self.now(), error)

    def run(self, run_id: int) -> Run | None:
        return runs.get(self.connection, run_id)

    def latest_runs(self, org_id: str, n: int = 10, kind: RunKind | str | None = None) -> list[Run]:
        return runs.latest(self.connection, org_id, n, kind)

    # --- dead letters -----------------------------------------------------------------------

    def add_dead_letter(
        self, org_id: str, object_name: str, external_id: str, operation: str,
        payload: Mapping[str, Any], code: str | None, message: str,
        next_attempt_at: datetime | None = None,
    ) -> int:
        return dead_letters.add(self.connection, org_id, object_name, external_id, operation,
                                payload, code, message, self.now(), next_attempt_at)

    def dead_letter(self, letter_id: int) -> DeadLetter | None:
        return dead_letters.get(self.connection, letter_id)

    def dead_letters(
        self, org_id: str, status: DeadLetterStatus | str | None = None,
        object_name: str | None = None, limit: int | None = None,
    ) -> list[DeadLetter]:
        return dead_letters.listing(self.connection, org_id, status, object_name, limit)

    def due_dead_letters(self, org_id: str, limit: int | None = None) -> list[DeadLetter]:
        return dead_letters.due(self.connection, org_id, self.now(), limit)

    def dead_letter_counts(self, org_id: str) -> dict[DeadLetterStatus, int]:
        return dead_letters.counts(self.connection, org_id)

    def mark_attempt(
        self, letter_id: int, next_attempt_at: datetime | None,
        code: str | None = None, message: str | None = None,
    ) -> None:
        dead_letters.mark_attempt(self.connection, letter_id, next_attempt_at, self.now(),
                                  code, message)

    def resolve_dead_letter(self, letter_id: int) -> None:
        dead_letters.resolve(self.connection, letter_id, self.now())

    def discard_dead_letter(self, letter_id: int, reason: str) -> None:
        dead_letters.discard(self.connection, letter_id, reason, self.now())

    def park(self, letter_id: int) -> None:
        dead_letters.park(self.connection, letter_id, self.now())

    def reopen(self, letter_id: int) -> None:
        dead_letters.reopen(self.connection, letter_id, self.now())

    # --- leases ---------------------------------------------------------------------------

    def holds_lease(self, org_id: str, holder: str) -> bool:
        """Whether ``holder`` still holds ``org_id``'s lease; on PostgreSQL the lease cannot
        change hands until this unit commits. Check it before committing a cycle's writes."""
        return leases.holds(self.connection, org_id, holder, self.now())

    # --- backfill checkpoints ---------------------------------------------------------------

    def checkpoint(self, backfill_id: str) -> BackfillCheckpoint | None:
        return checkpoints.get(self.connection, backfill_id)

    def put_checkpoint(
        self, backfill_id: str, org_id: str, parameters: Mapping[str, Any], cursor: str | None,
        counts: Mapping[str, Any], status: BackfillStatus | str = BackfillStatus.RUNNING,
    ) -> None:
        checkpoints.put(self.connection, backfill_id, org_id, parameters, cursor, counts,
                        status, self.now())

    def checkpoints(
        self, org_id: str, statuses: tuple[BackfillStatus, ...] | None = None
    ) -> list[BackfillCheckpoint]:
        return checkpoints.listing(self.connection, org_id, statuses)

    def resumable_backfills(self, org_id: str) -> list[BackfillCheckpoint]:
        return checkpoints.listing(self.connection, org_id, checkpoints.RESUMABLE)
