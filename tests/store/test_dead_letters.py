"""Dead letters: refused writes are kept with their error, counted once per record, and only
leave the active set by being resolved or discarded with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from sync.store import DeadLetterStateError, DeadLetterStatus, Store
from sync.store.models import dead_letter_table
from tests.store.conftest import ManualClock

ORG = "00D000000000001AAA"
OBJ = "MAP_Milestone__c"
KEY = "006000000000001AAA:kickoff"


def _add(store: Store, key: str = KEY, operation: str = "upsert", message: str = "refused",
         payload: dict | None = None) -> int:
    with store.transaction() as tx:
        return tx.add_dead_letter(ORG, OBJ, key, operation, payload or {"Status__c": "Done"},
                                  "FIELD_CUSTOM_VALIDATION_EXCEPTION", message)


def test_a_refused_write_is_kept_with_its_payload_and_salesforce_error(
    store: Store, clock: ManualClock
) -> None:
    letter_id = _add(store, message="Due date must be in the future")
    with store.transaction() as tx:
        letter = tx.dead_letter(letter_id)
    assert letter is not None
    assert (letter.object_name, letter.external_id, letter.operation) == (OBJ, KEY, "upsert")
    assert letter.payload == {"Status__c": "Done"}
    assert letter.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert letter.error_message == "Due date must be in the future"
    assert (letter.attempts, letter.status) == (1, DeadLetterStatus.OPEN)
    assert letter.first_seen == letter.last_seen == clock.now


def test_the_same_write_failing_again_bumps_the_open_letter_instead_of_adding_one(
    store: Store, clock: ManualClock
) -> None:
    first_seen = clock.now
    first = _add(store, message="first")
    clock.advance(600)
    again = _add(store, message="second", payload={"Status__c": "Blocked"})
    assert again == first
    with store.transaction() as tx:
        (letter,) = tx.dead_letters(ORG)
    assert letter.attempts == 2
    assert (letter.first_seen, letter.last_seen) == (first_seen, clock.now)
    assert letter.error_message == "second"
    assert letter.payload == {"Status__c": "Blocked"}


def test_a_different_operation_on_the_same_record_is_a_separate_letter(store: Store) -> None:
    assert _add(store, operation="upsert") != _add(store, operation="delete")


def test_after_a_letter_is_resolved_a_new_failure_opens_a_new_letter(store: Store) -> None:
    first = _add(store)
    with store.transaction() as tx:
        tx.resolve_dead_letter(first)
    second = _add(store)
    assert second != first
    with store.transaction() as tx:
        assert [(d.id, d.status) for d in tx.dead_letters(ORG)] == [
            (first, DeadLetterStatus.RESOLVED), (second, DeadLetterStatus.OPEN)]
        assert [d.id for d in tx.dead_letters(ORG, status="open")] == [second]


def test_the_database_itself_refuses_two_active_letters_for_one_write(store: Store) -> None:
    _add(store)
    row = {"org_id": ORG, "object_name": OBJ, "external_id": KEY, "operation": "upsert",
           "payload_json": "{}", "error_message": "x", "attempts": 1, "status": "parked"}
    with pytest.raises(IntegrityError), store.transaction() as tx:
        now = tx.now()
        tx.connection.execute(insert(dead_letter_table).values(
            first_seen=now, last_seen=now, **row))
    with store.transaction() as tx:  # an inactive duplicate is fine
        now = tx.now()
        tx.connection.execute(insert(dead_letter_table).values(
            first_seen=now, last_seen=now, **{**row, "status": "discarded"}))


def test_discarding_needs_a_reason_and_keeps_it(store: Store) -> None:
    letter_id = _add(store)
    with pytest.raises(ValueError, match="reason"), store.transaction() as tx:
        tx.discard_dead_letter(letter_id, "  ")
    with store.transaction() as tx:
        tx.discard_dead_letter(letter_id, "record merged away by the customer")
        letter = tx.dead_letter(letter_id)
    assert letter is not None
    assert letter.status is DeadLetterStatus.DISCARDED
    assert letter.discard_reason == "record merged away by the customer"


def test_a_resolved_letter_cannot_be_discarded(store: Store) -> None:
    letter_id = _add(store)
    with store.transaction() as tx:
        tx.resolve_dead_letter(letter_id)
    with pytest.raises(DeadLetterStateError, match="is resolved; only open or parked"), \
            store.transaction() as tx:
        tx.discard_dead_letter(letter_id, "too late")


def test_changing_an_unknown_letter_says_it_does_not_exist(store: Store) -> None:
    with pytest.raises(DeadLetterStateError, match="dead letter 4242 does not exist"), \
            store.transaction() as tx:
        tx.resolve_dead_letter(4242)


def test_retries_are_due_only_once_their_next_attempt_time_has_come(
    store: Store, clock: ManualClock
) -> None:
    letter_id = _add(store)
    with store.transaction() as tx:
        assert [d.id for d in tx.due_dead_letters(ORG)] == [letter_id]
        tx.mark_attempt(letter_id, clock.now + timedelta(minutes=5),
                        code="UNABLE_TO_LOCK_ROW", message="locked")
        assert tx.due_dead_letters(ORG) == []
        letter = tx.dead_letter(letter_id)
    assert letter is not None
    assert letter.attempts == 2
    assert (letter.error_code, letter.error_message) == ("UNABLE_TO_LOCK_ROW", "locked")
    clock.advance(300)
    with store.transaction() as tx:
        assert [d.id for d in tx.due_dead_letters(ORG)] == [letter_id]


def test_a_parked_letter_is_not_retried_until_reopened(store: Store) -> None:
    letter_id = _add(store)
    with store.transaction() as tx:
        tx.park(letter_id)
        assert tx.due_dead_letters(ORG) == []
        with pytest.raises(DeadLetterStateError):
            tx.mark_attempt(letter_id, None)
    with store.transaction() as tx:
        tx.reopen(letter_id)
        assert [d.id for d in tx.due_dead_letters(ORG)] == [letter_id]


def test_counts_by_status_include_every_status(store: Store) -> None:
    resolved = _add(store, key="a")
    _add(store, key="b")
    with store.transaction() as tx:
        tx.resolve_dead_letter(resolved)
        assert tx.dead_letter_counts(ORG) == {
            DeadLetterStatus.OPEN: 1, DeadLetterStatus.PARKED: 0,
            DeadLetterStatus.RESOLVED: 1, DeadLetterStatus.DISCARDED: 0,
        }


def test_failing_again_replaces_the_retry_time_so_backoff_starts_from_the_new_failure(
    store: Store, clock: ManualClock
) -> None:
    letter_id = _add(store)
    with store.transaction() as tx:
        tx.park(letter_id)
        tx.reopen(letter_id)  # an admin asks for a retry now
        reopened = tx.dead_letter(letter_id)
    assert reopened is not None
    assert reopened.next_attempt_at == clock.now
    clock.advance(60)
    _add(store, message="still refused")
    with store.transaction() as tx:
        letter = tx.dead_letter(letter_id)
        assert letter is not None
        assert (letter.next_attempt_at, letter.last_seen, letter.attempts) == \
            (None, clock.now, 2)
        later = clock.now + timedelta(hours=1)
        tx.add_dead_letter(ORG, OBJ, KEY, "upsert", {}, "X", "again", next_attempt_at=later)
        letter = tx.dead_letter(letter_id)
    assert letter is not None
    assert letter.next_attempt_at == later
