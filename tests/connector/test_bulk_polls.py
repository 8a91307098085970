"""What waiting on Bulk jobs costs in calls, against the local HTTPS org (real time, real jobs).

A large first cycle waits on several ingest jobs at once (milestones beside rollups, a job
split at the upload limit): each poll is an API call, and those of a job the cycle would not
read before the largest is done buy nothing.
"""

from __future__ import annotations

import time
from collections import Counter

from connectors.emulator.knobs import Knobs
from connectors.emulator.profile import REALISTIC, Spread
from connectors.emulator.server import Emulator
from connectors.salesforce import SalesforceClient
from connectors.salesforce.bulk import BulkJobs, Ingest
from connectors.salesforce.bulk_polls import LONGEST_WAIT, Poll
from tests.connector.test_against_emulator import settings_for

# one internal batch per job, 1,000 records a second: a job's records all count as processed
# at its end, so its polls are the doubling schedule's until then
PACED = REALISTIC.changed(latency=Spread(), bulk_queue=Spread(), bulk_ingest_per_second=1_000.0)
LARGE, SMALL = 1_200, 60  # records: ≈ 1.2 s and 0.06 s
FAST_JOB = 6_000


def _polls(org: Emulator) -> Counter[str]:
    """GETs of each ingest job's state (its Id), from the org's journal of calls."""
    return Counter(path.rsplit("/", 1)[-1] for _, _, method, path in org.org.journal
                   if method == "GET" and path.rstrip("/").split("/")[-2] == "ingest")


def test_of_jobs_side_by_side_only_the_largest_is_polled_while_it_runs(
        emulator_server: Emulator, org_knobs: Knobs) -> None:
    emulator_server.reset(seed="empty", opportunities=LARGE, knobs=org_knobs)
    emulator_server.set_knobs(profile=PACED, journal=True)
    client = SalesforceClient(settings_for(emulator_server, sf_bulk_poll_seconds=0.02),
                              sleep=time.sleep)
    opportunities = [r["Id"] for r in client.query("SELECT Id FROM Opportunity")]
    rollups, plans = client.bulk.write([
        Ingest("Opportunity", "Id", [{"Id": o, "MAP_Health__c": "On Track"}
                                     for o in opportunities], "update"),
        Ingest("Mutual_Action_Plan__c", "External_Id__c", [
            {"External_Id__c": o, "Opportunity__c": o, "Name": "Plan", "Status__c": "Active"}
            for o in opportunities[:SMALL]])])
    assert len(rollups) == LARGE
    assert len(plans) == SMALL
    assert all(r.success for r in rollups + plans)
    polls = _polls(emulator_server)
    assert len(polls) == 2
    large, small = polls.most_common()
    # the small job was done long before the large one: one poll, in the large one's last
    # round (polled beside it in every round, it cost a poll per round until it was done)
    assert small[1] == 1
    assert large[1] >= 4  # 0.02 s doubling: the schedule's rounds until ≈ 1.2 s


def test_a_long_job_after_one_seen_done_is_first_polled_near_its_end_not_at_the_longest_wait(
        emulator_server: Emulator, org_knobs: Knobs) -> None:
    emulator_server.reset(seed="empty", opportunities=LARGE, knobs=org_knobs)
    # 200 records a second: the jobs' seconds well above the requests' (the schedule runs on
    # the waits asked for, so a pace taken from a few polls of a short job is flattered)
    emulator_server.set_knobs(profile=PACED.changed(bulk_ingest_per_second=200.0),
                              journal=True)
    client = SalesforceClient(settings_for(emulator_server), sleep=time.sleep)
    # a young job's longest wait 0.5 s here (10 s in production, as a first cycle's jobs of
    # hundreds of thousands of records take minutes)
    bulk = BulkJobs(client.transport, 0.02, max_poll_seconds=0.5)
    opportunities = [r["Id"] for r in client.query("SELECT Id FROM Opportunity")]
    health = [{"Id": o, "MAP_Health__c": "On Track"} for o in opportunities]
    assert all(r.success for r in bulk.update("Opportunity", health[:300]))  # ≈ 1.5 s
    polls = sum(_polls(emulator_server).values())  # the first job learns the pace
    assert all(r.success for r in bulk.update("Opportunity", health[300:1200]))  # ≈ 4.5 s
    # three times the records: first polled at 80 % of three times what the first took,
    # then a few times more, a quarter of its age apart (a poll every 0.5 s: a dozen)
    assert sum(_polls(emulator_server).values()) - polls <= 4


def test_a_large_job_of_unknown_pace_is_first_polled_when_the_fastest_job_could_be_done(
        emulator_server: Emulator, org_knobs: Knobs) -> None:
    emulator_server.reset(seed="empty", opportunities=FAST_JOB, knobs=org_knobs)
    emulator_server.set_knobs(profile=PACED.changed(bulk_ingest_per_second=5_000.0),
                              journal=True)  # ≈ 1.2 s
    client = SalesforceClient(settings_for(emulator_server, sf_bulk_poll_seconds=0.02),
                              sleep=time.sleep)
    health = [{"Id": r["Id"], "MAP_Health__c": "On Track"}
              for r in client.query("SELECT Id FROM Opportunity")]
    assert all(r.success for r in client.bulk.update("Opportunity", health))
    # first at 0.3 s (6,000 records at 20,000 a second), then 0.6, 1.2 s: not at 0.02,
    # 0.06, 0.14, 0.3, 0.62 and 1.26 s
    assert sum(_polls(emulator_server).values()) <= 4


def test_a_job_polled_thousands_of_times_is_still_polled_every_ten_minutes() -> None:
    # (a client whose sleeps return at once polls a running job thousands of times: the
    # waits asked for must not grow without bound)
    poll = Poll("jobs/ingest/750X", 0.25, total=50_000)
    for n in range(5_000):
        poll.next(poll.due, min(49_999, 10_000 * (1 + n // 100)), 0.25, 10.0)
    assert poll.wait == LONGEST_WAIT
