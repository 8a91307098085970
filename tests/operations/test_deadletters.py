"""Dead letters: listed with Salesforce's error, retried once the cause is fixed, parked after
too many attempts, discarded with a reason."""

from __future__ import annotations

import datetime as dt

from sync.cycle import run_cycle
from sync.jobs import deadletters
from sync.store.records import DeadLetter, DeadLetterStatus
from tests.operations.ops import MILESTONE, PLAN, Ops


def refused_plan(ops: Ops) -> str:
    """An Opportunity whose plan Salesforce refuses: its rows stay locked by another job."""
    opp = ops.opportunity(name="Deal behind a locked row")
    ops.org.set_knobs(lock_rate=1.0)
    return opp


def fix_the_lock(ops: Ops) -> None:
    ops.org.set_knobs(lock_rate=0.0)


def open_letters(ops: Ops, org_id: str) -> list[DeadLetter]:
    with ops.store.transaction(write=False) as tx:
        return tx.dead_letters(org_id, status=DeadLetterStatus.OPEN)


def test_retry_after_the_cause_is_fixed_lands_the_record_and_resolves_the_letter(ops: Ops):
    opp = refused_plan(ops)
    org = ops.sync()
    report = run_cycle(org)
    assert report.dead_letters >= 1
    assert ops.rows(f"SELECT Id FROM {PLAN} WHERE Opportunity__c = '{opp}'") == []

    listing = ops.run("deadletters", "list")
    assert listing.returncode == 0
    letter = open_letters(ops, org.id)[0]
    assert letter.error_code
    assert letter.error_code in listing.stdout
    assert any(x.external_id == opp for x in open_letters(ops, org.id))

    still_broken = ops.run("deadletters", "retry", "--all")
    assert still_broken.returncode == 1
    assert len(open_letters(ops, org.id)) == report.dead_letters

    fix_the_lock(ops)
    fixed = ops.run("deadletters", "retry", "--all")
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert open_letters(ops, org.id) == []
    assert ops.rows(f"SELECT Id FROM {PLAN} WHERE Opportunity__c = '{opp}'")
    assert ops.rows(f"SELECT Id FROM {MILESTONE} WHERE Plan__r.Opportunity__c = '{opp}'")


def test_a_letter_that_keeps_failing_is_parked_for_a_person(ops: Ops):
    refused_plan(ops)
    org = ops.sync()
    run_cycle(org)
    policy = deadletters.RetryPolicy(max_attempts=3)
    deadletters.retry(org, open_letters(ops, org.id), policy)
    assert open_letters(ops, org.id)  # attempt 2: still open
    result = deadletters.retry(org, open_letters(ops, org.id), policy)
    assert result.parked
    assert open_letters(ops, org.id) == []
    with ops.store.transaction(write=False) as tx:
        parked = tx.dead_letters(org.id, status=DeadLetterStatus.PARKED)
    assert {p.id for p in parked} == set(result.parked)
    assert all(p.attempts == 3 for p in parked)


def test_discard_needs_a_reason_and_keeps_it(ops: Ops):
    refused_plan(ops)
    org = ops.sync()
    run_cycle(org)
    fix_the_lock(ops)
    letter = open_letters(ops, org.id)[0]
    assert ops.run("deadletters", "discard", str(letter.id), "--reason", " ").returncode == 2
    done = ops.run("deadletters", "discard", str(letter.id), "--reason", "buyer left the deal")
    assert done.returncode == 0, done.stderr
    with ops.store.transaction(write=False) as tx:
        kept = tx.dead_letter(letter.id)
    assert kept is not None
    assert kept.status is DeadLetterStatus.DISCARDED
    assert kept.discard_reason == "buyer left the deal"


def test_backoff_doubles_per_attempt_up_to_its_ceiling():
    policy = deadletters.RetryPolicy(base=dt.timedelta(minutes=5),
                                     ceiling=dt.timedelta(hours=1))
    assert [policy.delay(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
