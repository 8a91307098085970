"""Commit on its own: what a push outcome leaves in the store, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.errors import LeaseLostError
from mappings.loader import default_mapping_path, load_mapping
from sync.cycle.commit import commit
from sync.cycle.decide import Decisions, decide
from sync.cycle.gather import Gathered
from sync.cycle.push import PushResult, write
from sync.cycle.report import RunReport
from sync.cycle.run import Run, RunControl
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import Planner
from sync.store import Store, Transaction
from sync.store.records import DeadLetterStatus, RunKind, Watermark
from tests.cycle.fakes import ME, ORG_ID, FakeSalesforce, opportunity

TODAY = dt.date(2030, 1, 2)
OPP_A, OPP_B = "006000000000001AAA", "006000000000002AAA"
MAPPING = load_mapping(default_mapping_path())
MARK = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def pushed(sf: FakeSalesforce, *opp_ids: str, **extra: str) -> tuple[Decisions, PushResult]:
    planner = Planner(MAPPING, BusinessCalendar.from_spec(MAPPING.calendar))
    rows = {o: opportunity(o, **({"close": extra[o]} if o in extra else {})) for o in opp_ids}
    decisions = decide(Gathered(list(opp_ids), opportunities=rows), planner, ME, TODAY)
    result = PushResult()
    write(sf, decisions, RunControl(), result)
    return decisions, result


def a_run(store: Store, control: RunControl | None = None) -> Run:
    report = RunReport(kind=RunKind.CYCLE)
    with store.transaction() as tx:
        report.run_id = tx.start_run(ORG_ID, RunKind.CYCLE)
    return Run(RunKind.CYCLE, ORG_ID, report, control or RunControl(), store,
               FakeSalesforce().usage)


def test_what_landed_is_shadowed_indexed_and_the_marks_move(store: Store) -> None:
    decisions, result = pushed(FakeSalesforce(), OPP_A)
    commit(a_run(store), decisions, result, marks={OPPORTUNITY: MARK})
    with store.transaction(write=False) as tx:
        assert set(tx.shadow(ORG_ID, PLAN_OBJECT, [OPP_A])) == {OPP_A}
        assert len(list(tx.iter_shadow(ORG_ID, MILESTONE_OBJECT))) == 8
        assert tx.plan_index(ORG_ID, [OPP_A])[OPP_A].plan_id == result.ids(PLAN_OBJECT)[OPP_A]
        assert tx.watermark(ORG_ID, OPPORTUNITY) == MARK
        run = tx.latest_runs(ORG_ID, 1)[0]
    assert run.finished_at is not None  # the run record lands with the data


def test_refused_records_and_unplannable_opportunities_become_dead_letters_not_shadow(
        store: Store) -> None:
    sf = FakeSalesforce(refuse={OPP_A: ("STRING_TOO_LONG", "Name: data value too large")})
    decisions, result = pushed(sf, OPP_A, OPP_B, **{OPP_B: "9999-12-31"})
    commit(a_run(store), decisions, result, marks=None)
    with store.transaction(write=False) as tx:
        letters = {(d.object_name, d.external_id): d
                   for d in tx.dead_letters(ORG_ID, status=DeadLetterStatus.OPEN)}
        assert tx.shadow(ORG_ID, PLAN_OBJECT, [OPP_A, OPP_B]) == {}
        assert tx.watermarks(ORG_ID) == {}
    assert letters[(PLAN_OBJECT, OPP_A)].error_code == "STRING_TOO_LONG"
    planning = letters[(OPPORTUNITY, OPP_B)]
    assert planning.operation == "plan"
    assert OPP_B in (planning.error_message or "")


def test_a_commit_guard_that_refuses_commits_nothing(store: Store) -> None:
    decisions, result = pushed(FakeSalesforce(), OPP_A)

    def lease_lost(tx: Transaction) -> None:
        raise LeaseLostError("another worker holds the org")

    with pytest.raises(LeaseLostError):
        commit(a_run(store, RunControl(guard=lease_lost)), decisions, result,
               marks={OPPORTUNITY: MARK})
    with store.transaction(write=False) as tx:
        assert tx.shadow(ORG_ID, PLAN_OBJECT, [OPP_A]) == {}
        assert tx.watermarks(ORG_ID) == {}
