"""A large first cycle on an org without plans: streamed, spooled, one Bulk job per object.

The local org's Bulk threshold is set to 3 and the chunk to one Opportunity, so eight
Opportunities take the streamed path in eight chunks (the chunked path pays Bulk jobs for
each).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.knobs import Knobs
from connectors.emulator.server import Emulator
from sync.cycle import RunControl, first_cycle_push
from sync.cycle.decide import Decisions
from sync.cycle.sobjects import OPPORTUNITY, PLAN_OBJECT
from sync.cycle.spool import Spool
from sync.store import Transaction
from tests.sync.world import World

STREAMED = {"sf_bulk_threshold": 3}
STAGES = ["Needs Analysis", "Proposal/Price Quote", "Closed Won", "Prospecting",
          "Qualification", "Closed Lost", "Negotiation/Review", "Perception Analysis"]


def _world(emulator: Emulator, tmp_path: Path, settings: dict[str, Any]) -> World:
    world = World(emulator, tmp_path, settings=settings, chunk_size=1)
    contact, primary = (world.rep.Contact.create(
        {"LastName": name, "AccountId": world.account_id})["id"] for name in ("Moreau", "Ito"))
    for n, stage in enumerate(STAGES):
        opp = world.opportunity(stage=stage, close_in_days=30 + 9 * n, name=f"Deal {n}")
        if n % 3 == 0:
            world.rep.OpportunityContactRole.create(
                {"OpportunityId": opp, "ContactId": contact, "Role": "Economic Buyer"})
        if n == 2:  # a seller-side milestone of this role names the team member
            world.rep.OpportunityTeamMember.create(
                {"OpportunityId": opp, "UserId": _engineer(world),
                 "TeamMemberRole": "Solutions Engineer"})
        if n == 1:  # two in one role: the primary contact is the one named, whatever the order
            for who, first in ((contact, False), (primary, True)):
                world.rep.OpportunityContactRole.create(
                    {"OpportunityId": opp, "ContactId": who, "Role": "Economic Buyer",
                     "IsPrimary": first})
    return world


def _engineer(world: World) -> str:
    """A user other than the rep (the Opportunities' owner) and mapsync."""
    return str(world.query(f"SELECT Id FROM User WHERE Id != '{world.rep_id}' AND "
                           f"Id != '{world.client.user_id}' ORDER BY Username LIMIT 1")[0]["Id"])


def _written(world: World) -> tuple[set[tuple[Any, ...]], list[str], list[str]]:
    """Plans and milestones as Salesforce holds them, the Tasks' and milestones' keys."""
    tasks = [r["MAP_External_Id__c"] for r in world.query(
        "SELECT MAP_External_Id__c FROM Task WHERE MAP_External_Id__c != null")]
    owners = [f"{r['External_Id__c']}={r['Owner_Contact__c']}/{r['Owner_User__c']}"
              for r in world.query("SELECT External_Id__c, Owner_Contact__c, Owner_User__c "
                                   "FROM MAP_Milestone__c")]
    return world.snapshot(), sorted(tasks), sorted(owners)


def _marks(world: World) -> Any:
    with world.store.transaction(write=False) as tx:
        return tx.watermark(world.org_id, OPPORTUNITY)


def test_the_streamed_first_cycle_writes_what_the_chunked_one_writes(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path) -> None:
    chunked = _world(emulator, tmp_path / "chunked", {})
    assert chunked.cycle().outcome == "succeeded"
    expected = _written(chunked)
    assert any(owner.endswith(_engineer(chunked)) for owner in expected[2])
    assert len(expected[1]) > 0
    assert len(expected[0]) > 20
    emulator.reset(seed="empty", knobs=org_knobs)
    world = _world(emulator, tmp_path / "streamed", STREAMED)
    jobs = emulator.org.bulk_tally.jobs
    report = world.cycle()
    assert report.outcome == "succeeded"
    assert report.plans_created == 6
    assert report.touched == 8
    # one query job each for Opportunities, contact roles and team members, then one
    # ingest job per object (plans, Tasks, milestones, rollups): not four per chunk
    assert emulator.org.bulk_tally.jobs - jobs == 7
    assert _written(world) == expected
    assert _marks(world) is not None
    assert world.cycle().api_calls == 1  # the read position stands: an idle poll after it


def _ingest_jobs(world: World) -> dict[str, str]:
    """The org's Bulk ingest jobs: the object of each, by Id."""
    listing = world.client.transport.request("GET", "jobs/ingest", context="list").json()
    return {str(j["id"]): str(j["object"]) for j in listing["records"]}


def _new(jobs: dict[str, str], before: dict[str, str]) -> list[str]:
    return sorted(sobject for job, sobject in jobs.items() if job not in before)


def _new_jobs(world: World, before: dict[str, str], sobject: str) -> list[str]:
    """The Ids of the ingest jobs of ``sobject`` created since ``before``, in creation order."""
    return sorted(job for job, of in _ingest_jobs(world).items()
                  if job not in before and of == sobject)


def _killed_at_write(world: World, n: int) -> None:
    """A cycle of ``world`` whose process dies before its ``n``-th write."""
    writes = 0

    def before_write() -> None:
        nonlocal writes
        writes += 1
        if writes == n:
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        world.cycle(RunControl(before_write=before_write))


def _killed_at_fifth_write(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[str], Any, set[tuple[str, str]], World, dict[str, str]]:
    """A first cycle cut into parts of a few rows, run clean (the object of each part's job,
    what it wrote, its Task links); then, on the org seeded afresh, one killed before its
    fifth write (both plan parts and two of the Tasks' are in), and the jobs before it."""
    monkeypatch.setattr(first_cycle_push, "UPLOAD_BYTES", 1_500)
    reference = _world(emulator, tmp_path / "reference", STREAMED)
    before = _ingest_jobs(reference)
    reference.cycle()
    parts = _new(_ingest_jobs(reference), before)
    expected, links = _written(reference), _links(reference)
    emulator.reset(seed="empty", knobs=org_knobs)
    world = _world(emulator, tmp_path / "killed", STREAMED)
    before = _ingest_jobs(world)
    _killed_at_write(world, 5)
    return parts, expected, links, world, before


def _links(world: World) -> set[tuple[str, str]]:
    """Each milestone that names a Task: its key and the Task's."""
    tasks = {r["Id"]: r["MAP_External_Id__c"] for r in world.query(
        "SELECT Id, MAP_External_Id__c FROM Task WHERE MAP_External_Id__c != null")}
    return {(r["External_Id__c"], tasks.get(r["Task_Id__c"], "?")) for r in world.query(
        "SELECT External_Id__c, Task_Id__c FROM MAP_Milestone__c WHERE Task_Id__c != null")}


def _finished(world: World, job: str) -> None:
    deadline = time.monotonic() + 30
    while world.client.transport.request("GET", f"jobs/ingest/{job}", context="poll").json()[
            "state"] != "JobComplete":
        assert time.monotonic() < deadline, f"job {job} never completed"
        time.sleep(0.05)


def _stamps(world: World) -> set[tuple[str, str]]:
    """Each plan's and Task's key and last write: what a second upload would move."""
    return {(r["External_Id__c"], r["SystemModstamp"]) for r in world.query(
        "SELECT External_Id__c, SystemModstamp FROM Mutual_Action_Plan__c")} | {
        (r["MAP_External_Id__c"], r["SystemModstamp"]) for r in world.query(
            "SELECT MAP_External_Id__c, SystemModstamp FROM Task "
            "WHERE MAP_External_Id__c != null")}


@pytest.mark.parametrize("stopped", [True, False], ids=["stop requested", "process dies"])
def test_a_first_cycle_ended_during_its_spooled_push_resumes_from_its_saved_jobs(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path, stopped: bool) -> None:
    reference = _world(emulator, tmp_path / "reference", STREAMED)
    reference.cycle()
    expected = _written(reference)
    emulator.reset(seed="empty", knobs=org_knobs)
    world = _world(emulator, tmp_path / "ended", STREAMED)
    writes = 0

    def third_write() -> None:  # the plans' and Tasks' jobs are in; the milestones' is next
        nonlocal writes
        writes += 1
        if writes == 3:
            if stopped:
                control.stop.request()
            else:
                raise SystemExit("killed")

    control = RunControl(before_write=third_write)
    before = _ingest_jobs(world)
    if stopped:
        assert world.cycle(control).outcome == "partial"
    else:
        with pytest.raises(SystemExit):
            world.cycle(control)
    assert world.counts() == (6, 0)  # the plans landed, no milestone yet
    assert _new(_ingest_jobs(world), before) == ["Mutual_Action_Plan__c", "Task"]
    assert _marks(world) is None  # so the next cycle finishes this one
    uploaded = _stamps(world)
    jobs = emulator.org.bulk_tally.jobs
    assert world.cycle().outcome == "succeeded"
    # the milestones' and rollups' jobs only: no read of the org again, nothing uploaded twice
    assert emulator.org.bulk_tally.jobs - jobs == 2
    assert _new(_ingest_jobs(world), before) == sorted(
        ["Mutual_Action_Plan__c", "Task", "MAP_Milestone__c", "Opportunity"])
    assert _stamps(world) == uploaded
    assert _written(world) == expected
    assert _marks(world) is not None
    assert world.cycle().api_calls == 1


def test_the_watermarks_move_with_the_last_committed_batch_only(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path) -> None:
    world = _world(emulator, tmp_path, STREAMED)
    commits: list[bool] = []

    def guard(tx: Transaction) -> None:  # the lease is lost after the second batch
        commits.append(True)
        if len(commits) == 3:
            raise SystemExit("lease lost")

    with pytest.raises(SystemExit):
        world.cycle(RunControl(guard=guard))
    with world.store.transaction(write=False) as tx:
        indexed = tx.plan_index(world.org_id, [str(r["Id"]) for r in world.query(
            "SELECT Id FROM Opportunity")])
    assert world.counts()[0] == 6  # every plan was written in one job before any commit
    assert 0 < len(indexed) < 6  # two batches committed
    assert _marks(world) is None
    assert world.cycle().outcome == "succeeded"
    assert world.counts()[0] == 6
    assert _marks(world) is not None


def test_a_first_cycle_killed_between_the_parts_of_a_job_uploads_only_the_parts_left(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    parts, expected, _, world, before = _killed_at_fifth_write(
        emulator, org_knobs, tmp_path, monkeypatch)  # one entry a part, each its own job
    assert parts.count(PLAN_OBJECT) == 2
    assert parts.count("Task") > 3
    assert _new(_ingest_jobs(world), before) == [PLAN_OBJECT] * 2 + ["Task"] * 2
    assert world.cycle().outcome == "succeeded"
    assert _new(_ingest_jobs(world), before) == parts  # no part uploaded twice
    assert _written(world) == expected


def test_a_first_cycle_killed_before_its_spool_was_whole_starts_over(
        emulator: Emulator, tmp_path: Path) -> None:
    world = _world(emulator, tmp_path, STREAMED)
    spool = Spool(f"killed-while-reading-{tmp_path.name}")
    spool.start()  # what a SIGKILL mid-read leaves: a spool begun, its checkpoint running
    spool.append(Decisions())
    first_cycle_push.begin(world.sync, spool)
    report = world.cycle()
    assert report.outcome == "succeeded"
    assert report.plans_created == 6  # read, planned and written afresh
    assert not spool.exists()  # the half spool is gone
    with world.store.transaction(write=False) as tx:
        cp = tx.checkpoint(first_cycle_push.checkpoint_id(world.org_id))
    assert cp is not None
    assert cp.status.value == "completed"
    assert world.cycle().api_calls == 1


def test_a_resumed_first_cycle_whose_saved_jobs_salesforce_no_longer_has_uploads_them_again(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, expected, links, world, before = _killed_at_fifth_write(
        emulator, org_knobs, tmp_path, monkeypatch)
    assert len(links) == len(expected[1])  # every Task named by its milestone
    tasks = _new_jobs(world, before, "Task")
    assert len(tasks) == 2
    for job in tasks:  # Salesforce deletes a job 7 days after it ends; so may an admin
        _finished(world, job)  # its Tasks created, the answer saying so gone with it
        deleted = world.client.transport.request("DELETE", f"jobs/ingest/{job}",
                                                 context="delete")
        assert deleted.status_code == 204
    report = world.cycle()
    assert report.outcome == "succeeded", report.error
    assert _written(world) == expected
    assert _links(world) == links  # each Task the lost jobs created named by its milestone
    with world.store.transaction(write=False) as tx:
        assert tx.dead_letters(world.org_id, status="open") == []
    assert world.cycle().api_calls == 1


def test_a_resumed_first_cycle_uploads_again_only_the_parts_whose_jobs_are_gone(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    parts, expected, links, world, before = _killed_at_fifth_write(
        emulator, org_knobs, tmp_path, monkeypatch)
    task_parts = parts.count("Task")
    assert task_parts > 2
    gone, _standing = _new_jobs(world, before, "Task")  # part 1's job is gone
    _finished(world, gone)
    deleted = world.client.transport.request("DELETE", f"jobs/ingest/{gone}", context="delete")
    assert deleted.status_code == 204
    before = _ingest_jobs(world)
    report = world.cycle()
    assert report.outcome == "succeeded", report.error
    # the gone part and those never uploaded: the second part's job still stands
    assert _new(_ingest_jobs(world), before).count("Task") == task_parts - 1
    assert _written(world) == expected
    assert _links(world) == links
    with world.store.transaction(write=False) as tx:
        assert tx.dead_letters(world.org_id, status="open") == []


def test_a_first_cycle_whose_jobs_salesforce_failed_outright_ends_with_dead_letters_not_stuck(
        emulator: Emulator, org_knobs: Knobs, tmp_path: Path) -> None:
    world = _world(emulator, tmp_path, STREAMED)
    writes = 0

    def third_write() -> None:  # the milestones' and rollups' jobs fail before one record
        nonlocal writes
        writes += 1
        if writes == 3:
            emulator.org.set_knobs(bulk_fail_after=0)

    report = world.cycle(RunControl(before_write=third_write))
    assert report.outcome == "partial", report.error
    plans, milestones = world.counts()
    assert (plans, milestones) == (6, 0)
    with world.store.transaction(write=False) as tx:
        letters = tx.dead_letters(world.org_id, status="open")
    assert {dl.object_name for dl in letters} == {"MAP_Milestone__c", "Opportunity"}
    assert {dl.error_code for dl in letters} == {"BULK_JOB_FAILED"}
    assert len([dl for dl in letters if dl.object_name == "Opportunity"]) == 6
    emulator.org.set_knobs(bulk_fail_after=None)
    assert world.cycle().outcome == "succeeded"  # the next cycle is not held by the failed job
