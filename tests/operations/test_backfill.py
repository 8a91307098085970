"""``mapsync backfill``: resumable after SIGKILL, dry runs write nothing, the budget pauses it."""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from config.errors import LeaseLostError
from connectors.emulator.knobs import Knobs
from connectors.emulator.profile import profile_named
from connectors.emulator.server import Emulator
from sync.cycle import Org, RunControl
from sync.cycle.sobjects import MILESTONE_FIELDS, PLAN_FIELDS, TASK_FIELDS
from sync.cycle.spool import spool_dir
from sync.jobs.backfill import Backfill
from sync.jobs.selection import Selection
from sync.planner.model import OPPORTUNITY_ROLLUP_FIELDS
from sync.store import Transaction
from sync.store.records import BackfillStatus
from tests.operations.ops import MILESTONE, PLAN, Ops, stop, wait_for


def checkpoint_done(ops: Ops, org_id: str) -> int:
    with ops.store.transaction(write=False) as tx:
        cps = tx.checkpoints(org_id)
    return int(cps[0].counts.get("done", 0)) if cps else 0


@pytest.mark.parametrize("profile", ["flat", "realistic"])
def test_backfill_killed_with_sigkill_and_resumed_equals_an_uninterrupted_run(
        emulator_server: Emulator, tmp_path: Path, profile: str):
    # realistic: Bulk jobs queue and run batch by batch (100 times faster than an org)
    knobs = Knobs(profile=profile_named(profile, time_scale=0.01))
    emulator_server.reset(seed="empty", opportunities=5000, knobs=knobs)
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / 'killed.db'}")
    org_id = ops.sync().id
    run = ops.start("backfill", "--yes", "--batch-size", "1000", log=tmp_path / "bf.log")
    wait_for(lambda: checkpoint_done(ops, org_id) >= 2000, 60, every=0.05,
             what="two committed batches")
    stop(run, signal.SIGKILL)
    assert checkpoint_done(ops, org_id) < 5000
    resumed = ops.run("backfill", "--resume", "--yes", "--batch-size", "1000")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "backfill completed" in resumed.stdout
    killed_result, killed_counts = ops.snapshot(), (ops.count(PLAN), ops.count(MILESTONE))
    assert ops.no_duplicates()
    ops.close()

    emulator_server.reset(seed="empty", opportunities=5000, knobs=knobs)
    clean = Ops(emulator_server, f"sqlite:///{tmp_path / 'clean.db'}")
    whole = Backfill(clean.sync(), Selection(), batch_size=1000).run()
    assert whole.status == BackfillStatus.COMPLETED.value
    assert killed_counts == (clean.count(PLAN), clean.count(MILESTONE))
    assert killed_counts[0] > 3000
    assert killed_result == clean.snapshot()
    clean.close()


def spooled_jobs(ops: Ops, org_id: str) -> dict[str, list[str]]:
    with ops.store.transaction(write=False) as tx:
        cps = tx.checkpoints(org_id)
    return dict((cps[0].counts.get("spool") or {}).get("jobs") or {}) if cps else {}


def ingest_jobs(ops: Ops) -> list[tuple[str, str]]:
    """The org's Bulk ingest jobs: (object, id) each."""
    listing = ops.sync().salesforce.transport.request(  # type: ignore[attr-defined]
        "GET", "jobs/ingest", context="list ingest jobs").json()
    return sorted((str(j["object"]), str(j["id"])) for j in listing["records"])


def test_a_backfill_killed_while_its_run_spanning_jobs_process_resumes_without_uploading_again(
        emulator_server: Emulator, tmp_path: Path):
    # realistic: the org takes its time over each Bulk job, so the kill finds them running
    knobs = Knobs(profile=profile_named("realistic", time_scale=0.05))
    emulator_server.reset(seed="empty", opportunities=3000, knobs=knobs)
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / 'spooled.db'}")
    org_id = ops.sync().id
    run = ops.start("backfill", "--yes", "--batch-size", "1000", log=tmp_path / "bf.log")
    wait_for(lambda: "Opportunity" in spooled_jobs(ops, org_id), 120, every=0.05,
             what="the milestone and rollup jobs uploaded")
    stop(run, signal.SIGKILL)
    uploaded = ingest_jobs(ops)
    assert set(spooled_jobs(ops, org_id)) == {PLAN, "Task", MILESTONE, "Opportunity"}

    resumed = ops.run("backfill", "--resume", "--yes", "--batch-size", "1000")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "backfill completed" in resumed.stdout
    # collected, none uploaded again (the session's org forgets its oldest finished jobs
    # past a hundred, so what is listed may be fewer, never new)
    assert not set(ingest_jobs(ops)) - set(uploaded)
    assert ops.no_duplicates()
    assert ops.count(PLAN) > 2000
    # the store took every plan and milestone the jobs wrote: nothing left to write
    emulator_server.set_knobs(profile=profile_named("flat"))
    check = Backfill(ops.sync(), Selection(), batch_size=3000, dry_run=True).run()
    assert check.totals.plans_created == 0
    assert check.totals.plans_updated == 0
    assert check.totals.milestones_written == 0
    ops.close()


def test_dry_run_writes_nothing_and_reports_what_a_real_run_would_do(ops: Ops):
    calls_before = ops.org.api_calls
    done = ops.run("backfill", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert ops.count(PLAN) == 0
    assert ops.count(MILESTONE) == 0
    assert "plans would be created" in done.stdout
    assert "API calls a real run would cost" in done.stdout
    assert "Bulk batches a real run would take (of 15,000 a day)" in done.stdout
    assert "sample of the plans" in done.stdout
    assert ops.org.api_calls - calls_before < 10  # reads only


def test_backfill_refuses_to_start_without_yes_when_no_terminal_can_confirm(ops: Ops):
    done = ops.run("backfill")
    assert done.returncode == 2
    assert "--yes" in done.stderr
    assert ops.count(PLAN) == 0


def test_stage_and_type_filters_select_only_matching_opportunities(ops: Ops):
    done = ops.run("backfill", "--yes", "--stage", "Needs Analysis", "--type", "New Business")
    assert done.returncode == 0, done.stderr[-2000:]
    planned = {r["Opportunity__c"] for r in ops.rows(f"SELECT Opportunity__c FROM {PLAN}")}
    wanted = {r["Id"] for r in ops.rows("SELECT Id FROM Opportunity WHERE StageName = "
                                        "'Needs Analysis' AND Type = 'New Business'")}
    assert planned
    assert planned <= wanted


def test_budget_guard_pauses_a_backfill_and_resume_finishes_it_once_quota_returns(
        emulator_server: Emulator, tmp_path: Path):
    emulator_server.reset(seed="empty", opportunities=600)
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / 'm.db'}")
    emulator_server.set_knobs(daily_api_limit=100)
    emulator_server.reset_api_usage(used=40)  # the guard stops at 80% of 100
    first = Backfill(ops.sync(api_budget_share=0.8), Selection(), batch_size=100).run()
    assert first.status == BackfillStatus.PAUSED.value
    assert "API budget" in (first.totals.error or "")
    assert 0 < ops.count(PLAN) < first.selected - first.totals.skipped.get("before plan stage", 0)

    emulator_server.reset_api_usage(used=0)  # the rolling 24 hours moved on
    second = Backfill(ops.sync(api_budget_share=0.8), Selection(),
                      batch_size=100).run(resume=True)
    assert second.status == BackfillStatus.COMPLETED.value
    assert second.done == second.selected == 600
    assert ops.no_duplicates()
    emulator_server.set_knobs(daily_api_limit=1_000_000)
    emulator_server.reset_api_usage(used=0)
    check = Backfill(ops.sync(), Selection(), batch_size=600, dry_run=True).run()
    assert check.totals.plans_created == 0
    assert check.totals.plans_updated == 0
    ops.close()


def test_an_org_without_plans_is_not_asked_for_plans_batch_by_batch_and_one_with_plans_is(
        emulator_server: Emulator, tmp_path: Path):
    emulator_server.reset(seed="empty", opportunities=1000)
    first = Ops(emulator_server, f"sqlite:///{tmp_path / 'first.db'}")
    asked = QueryLog(first.sync())
    assert Backfill(asked.org, Selection(), batch_size=250).run().status == \
        BackfillStatus.COMPLETED.value
    created = first.snapshot()
    assert first.count(PLAN) > 500
    # one probe for the whole run; no query for the plans of the batches' Opportunities
    assert [q for q in asked.soqls if f"FROM {PLAN}" in q] == [f"SELECT Id FROM {PLAN} LIMIT 1"]
    first.close()

    # a new store over the same org: it holds plans now, so every batch reads them and the
    # repeat adopts them as they are (nothing created twice)
    again = Ops(emulator_server, f"sqlite:///{tmp_path / 'again.db'}")
    asked = QueryLog(again.sync())
    assert Backfill(asked.org, Selection(), batch_size=250).run().status == \
        BackfillStatus.COMPLETED.value
    assert len([q for q in asked.soqls if f"FROM {PLAN} WHERE" in q]) >= 4
    assert again.no_duplicates()
    assert again.snapshot() == created
    again.close()


class QueryLog:
    """The org's parts, recording every SOQL its Composite reads send (the client is real)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.soqls: list[str] = []
        client: Any = org.salesforce
        send = client.composite_query

        def recorded(soqls: Sequence[str], **kwargs: Any) -> Any:
            self.soqls.extend(soqls)
            return send(soqls, **kwargs)

        client.composite_query = recorded


def everything_written(ops: Ops) -> set[tuple[Any, ...]]:
    """Every plan, milestone and Task and every Opportunity's rollups, each record's Ids
    replaced by what names it in any run (its external key): two backfills of one seed
    compare equal when they wrote the same."""
    system = {"Id", "IsDeleted", "SystemModstamp", "LastModifiedById"}
    plans = ops.rows(f"SELECT {', '.join(PLAN_FIELDS)} FROM {PLAN}")
    milestones = ops.rows(f"SELECT {', '.join(MILESTONE_FIELDS)} FROM {MILESTONE}")
    tasks = ops.rows(f"SELECT {', '.join(TASK_FIELDS)}, Description FROM Task "
                     "WHERE MAP_External_Id__c != null")
    names = {r["Id"]: f"plan:{r['External_Id__c']}" for r in plans}
    names |= {r["Id"]: f"milestone:{r['External_Id__c']}" for r in milestones}
    names |= {r["Id"]: f"task:{r['MAP_External_Id__c']}" for r in tasks}

    def named(value: Any) -> Any:
        return re.sub(r"\b[a-zA-Z0-9]{18}\b", lambda m: names.get(m.group(), m.group()),
                      value) if isinstance(value, str) else value

    rollups = ops.rows(f"SELECT Id, {', '.join(sorted(OPPORTUNITY_ROLLUP_FIELDS))} "
                       "FROM Opportunity")
    return {(kind, *sorted((k, named(v)) for k, v in row.items() if k not in system))
            for kind, rows in (("plan", plans), ("milestone", milestones), ("task", tasks))
            for row in rows} | {("rollups", *sorted(r.items())) for r in rollups}


def seeded(emulator_server: Emulator, tmp_path: Path, name: str) -> Ops:
    """The demo seed (contact roles) and 2,500 Opportunities more, two of them with a
    Solutions Engineer on their Opportunity Team."""
    emulator_server.reset(seed="demo", opportunities=2500)
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / name}.db")
    engineer = ops.rows(f"SELECT Id FROM User WHERE Id != '{ops.rep_id}' AND "
                        "Department = 'Sales' ORDER BY Username LIMIT 1")[0]["Id"]
    for opp in ops.rows("SELECT Id FROM Opportunity WHERE StageName = 'Needs Analysis' "
                        f"AND OwnerId = '{ops.rep_id}' ORDER BY Id LIMIT 2"):
        ops.rep.OpportunityTeamMember.create({"OpportunityId": opp["Id"], "UserId": engineer,
                                                "TeamMemberRole": "Solutions Engineer"})
    return ops


def nothing_left_to_write(ops: Ops) -> bool:
    check = Backfill(ops.sync(), Selection(), batch_size=3000, dry_run=True).run()
    return (check.totals.plans_created, check.totals.plans_updated,
            check.totals.milestones_written) == (0, 0, 0)


def test_a_spooled_backfill_writes_what_a_backfill_batch_by_batch_writes(
        emulator_server: Emulator, tmp_path: Path):
    batched = seeded(emulator_server, tmp_path, "batched")
    # below the Bulk threshold: each batch decided, written and committed before the next
    report = Backfill(batched.sync(sf_bulk_threshold=100_000), Selection(),
                      batch_size=1000).run()
    assert report.status == BackfillStatus.COMPLETED.value
    assert report.spool is None
    expected = everything_written(batched)
    assert len([r for r in expected if r[0] == "plan"]) > 1900
    assert any(("Owner_Contact__c", None) not in r for r in expected if r[0] == "milestone")
    batched.close()

    spooled = seeded(emulator_server, tmp_path, "spooled")
    dry = Backfill(spooled.sync(sf_bulk_threshold=1000), Selection(), batch_size=1000,
                   dry_run=True).run()
    bound = Backfill(spooled.sync(sf_bulk_threshold=1000), Selection(),
                     batch_size=1000).estimated_batches(dry.selected)
    batches = emulator_server.org.bulk_tally.snapshot()["batches"]
    report = Backfill(spooled.sync(sf_bulk_threshold=1000), Selection(),
                      batch_size=1000).run()
    assert report.status == BackfillStatus.COMPLETED.value
    assert report.spool is not None
    # the day's Bulk batches it took: as its dry run said, within what was asked to confirm
    taken = emulator_server.org.bulk_tally.snapshot()["batches"] - batches
    assert taken == dry.estimated_bulk_batches > 4
    assert taken <= bound
    assert dry.would_write == {"plans": report.totals.plans_created,
                               "milestones": report.totals.milestones_written,
                               "tasks": report.totals.tasks_written,
                               "rollups": report.totals.rollups_written}
    # one job per object for the whole run
    assert {o: len(jobs) for o, jobs in report.spool["jobs"].items()} == {
        PLAN: 1, "Task": 1, MILESTONE: 1, "Opportunity": 1}
    assert everything_written(spooled) == expected
    assert nothing_left_to_write(spooled)
    spooled.close()


def test_a_spooled_backfill_stopped_while_committing_commits_the_rest_from_its_results_on_disk(
        emulator_server: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAPSYNC_SPOOL_DIR", str(tmp_path))
    ops = seeded(emulator_server, tmp_path, "lost")
    commits = []

    def lease(tx: Transaction) -> None:  # another worker takes the org at the third commit
        commits.append(tx)
        if len(commits) == 3:
            raise LeaseLostError("lease of the org lost")

    org_id = ops.sync().id
    with pytest.raises(LeaseLostError):
        Backfill(ops.sync(sf_bulk_threshold=1000), Selection(), batch_size=1000,
                 control=RunControl(guard=lease)).run()
    uploaded = ingest_jobs(ops)
    with ops.store.transaction(write=False) as tx:
        assert tx.checkpoints(org_id)[0].counts["spool"]["committed"] == 2  # of 3 batches
    org = ops.sync(sf_bulk_threshold=1000)
    asked: list[str] = []
    transport: Any = org.salesforce.transport  # type: ignore[attr-defined]
    send = transport.request

    def recorded(method: str, path: str, **kwargs: Any) -> Any:
        asked.append(path)
        return send(method, path, **kwargs)

    transport.request = recorded
    resumed = Backfill(org, Selection(), batch_size=1000).run(resume=True)
    assert resumed.status == BackfillStatus.COMPLETED.value
    # the jobs' results were read from disk: no upload, no poll, no download again
    assert asked
    assert not [path for path in asked if path.startswith("jobs/ingest")]
    # no job was added (the org lists its last 100 finished jobs: older ones may drop out)
    assert set(ingest_jobs(ops)) <= set(uploaded)
    assert ops.no_duplicates()
    assert nothing_left_to_write(ops)
    assert not list(spool_dir().iterdir())  # the spool and its tables are gone
    ops.close()
