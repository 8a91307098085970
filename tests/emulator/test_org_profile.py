"""The realistic profile: a production org's latency, write cost, Bulk queue and batches, and
Salesforce's limits on concurrent long-running requests, reproducible from a seed."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
import requests

from connectors.emulator.pace import Pace
from connectors.emulator.profile import REALISTIC, Profile, Spread, profile_named
from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient

DATA = "/services/data/v59.0"


def session(org: Emulator) -> requests.Session:
    s = client_session(org)
    s.headers["Authorization"] = "Bearer " + org.access_token()
    return s


def accounts(n: int, tag: str) -> dict[str, Any]:
    return {"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Name": f"{tag} {i}"} for i in range(n)]}


def test_realistic_latency_has_a_150_ms_median_and_a_1_s_p99_drawn_from_its_seed() -> None:
    def draws(seed: int) -> list[float]:
        pace = Pace(lambda: profile_named("realistic", seed=seed))
        return [pace.latency() for _ in range(4000)]

    seconds = draws(7)
    cuts = statistics.quantiles(seconds, n=100)
    assert 0.135 <= statistics.median(seconds) <= 0.165
    assert 0.8 <= cuts[98] <= 1.25  # the 99th percentile
    assert cuts[24] >= 0.07  # no call is free: the first quartile is ~85 ms
    assert max(seconds) <= REALISTIC.latency.cap
    assert draws(7) == seconds
    assert draws(8) != seconds


def test_time_scale_multiplies_every_modelled_duration() -> None:
    slow = Pace(lambda: profile_named("realistic", seed=3))
    fast = Pace(lambda: profile_named("realistic", time_scale=0.01, seed=3))
    assert [round(fast.latency(), 9) for _ in range(50)] == \
        [round(slow.latency() * 0.01, 9) for _ in range(50)]
    assert fast.write_cost(200) == pytest.approx(0.01)  # 200 records x 5 ms, scaled
    assert slow.write_cost(200) == pytest.approx(1.0)


def test_a_200_record_collections_write_costs_5_ms_per_record(emulator: Emulator) -> None:
    emulator.set_knobs(profile=REALISTIC.changed(latency=Spread(), time_scale=0.2))
    s = session(emulator)
    started = time.monotonic()
    r = s.post(f"{emulator.instance_url}{DATA}/composite/sobjects", json=accounts(200, "Acme"))
    took = time.monotonic() - started
    assert r.status_code == 200
    assert all(x["success"] for x in r.json())
    assert took >= 0.2  # 200 x 5 ms = 1 s, at a fifth of the time
    started = time.monotonic()
    r = s.get(f"{emulator.instance_url}{DATA}/limits")  # a read writes nothing: no cost
    assert r.status_code == 200
    assert time.monotonic() - started < 0.2


def fixed_queue(seconds: float, time_scale: float) -> Profile:
    """The realistic profile with a queue wait of exactly ``seconds`` and no latency."""
    return REALISTIC.changed(latency=Spread(), bulk_queue=Spread(seconds, seconds),
                             time_scale=time_scale)


def start_ingest(bulk: BulkClient, rows: int) -> str:
    job = bulk.create_ingest("Account", "insert")
    csv_text = "Name\n" + "".join(f"Account {i}\n" for i in range(rows))
    put = bulk.call("PUT", f"ingest/{job['id']}/batches", data=csv_text.encode(),
                    headers={"Content-Type": "text/csv"})
    assert put.status_code == 201, put.text
    close = bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
    assert close.status_code == 200, close.text
    return str(job["id"])


def poll_until_done(bulk: BulkClient, kind: str, job_id: str,
                    every: float = 0.02) -> list[tuple[str, int]]:
    """(state, numberRecordsProcessed) at every poll until the job finishes."""
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = bulk.call("GET", f"{kind}/{job_id}").json()
        seen.append((info["state"], info["numberRecordsProcessed"]))
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return seen
        time.sleep(every)
    raise AssertionError(f"the job never finished: {seen[-3:]}")


def test_bulk_ingest_job_is_not_complete_at_its_first_poll_and_completes_after_several(
        emulator: Emulator) -> None:
    emulator.set_knobs(profile=fixed_queue(5.0, time_scale=0.04))  # queued 0.2 s
    bulk = BulkClient(emulator)
    polls_before = emulator.org.bulk_tally.snapshot()["polls"]
    seen = poll_until_done(bulk, "ingest", start_ingest(bulk, 2_000))  # 2 s of batch
    assert seen[0] == ("UploadComplete", 0)
    assert seen[-1] == ("JobComplete", 2_000)
    states = [s for s, _ in seen]
    assert states.index("InProgress") > 0
    assert len(seen) >= 5
    assert emulator.org.bulk_tally.snapshot()["polls"] - polls_before == len(seen)


def test_bulk_ingest_job_is_processed_in_batches_of_10000_records_its_count_growing(
        emulator: Emulator) -> None:
    emulator.set_knobs(profile=fixed_queue(1.0, time_scale=0.05))  # a batch: 0.5 s
    bulk = BulkClient(emulator)
    # the last batch (5,000 records) takes 0.25 s too, long enough to be seen between polls
    seen = poll_until_done(bulk, "ingest", start_ingest(bulk, 25_000), every=0.05)
    counts = [n for _, n in seen]
    assert counts == sorted(counts)
    assert {n for s, n in seen if s == "InProgress"} >= {0, 10_000, 20_000}
    assert set(counts) <= {0, 10_000, 20_000, 25_000}
    assert seen[-1] == ("JobComplete", 25_000)


def test_bulk_query_job_queues_then_takes_time_in_proportion_to_its_rows(
        demo_org: Emulator) -> None:
    demo_org.set_knobs(profile=fixed_queue(2.0, time_scale=0.05)  # queued 0.1 s
                       .changed(bulk_query_per_second=10.0))  # 50 opps: 5 s, so 0.25 s
    bulk = BulkClient(demo_org)
    started = time.monotonic()
    job = bulk.call("POST", "query", json={"operation": "query",
                                           "query": "SELECT Id FROM Opportunity"}).json()
    seen = poll_until_done(bulk, "query", job["id"], every=0.01)
    states = [s for s, _ in seen]
    assert states[0] == "UploadComplete"
    assert "InProgress" in states
    assert seen[-1] == ("JobComplete", 50)
    assert time.monotonic() - started >= 0.35


def concurrently(n: int, send: Any) -> tuple[list[threading.Thread], list[Any]]:
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(send())) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, answers


def test_the_11th_concurrent_long_write_is_refused_with_concurrent_per_org_long_txn(
        emulator: Emulator) -> None:
    # Writes whose triggers take 150 ms a record: 200 records run 30 s, a long transaction
    # after 5 s. A tenth of the time: each write lasts 3 s and is long after 0.5 s.
    emulator.set_knobs(profile=REALISTIC.changed(latency=Spread(0.1, 0.1),
                                                 write_ms_per_record=150.0, time_scale=0.1))
    url = f"{emulator.instance_url}{DATA}/composite/sobjects"
    threads, answers = concurrently(10, lambda: session(emulator).post(
        url, json=accounts(200, "Long"), timeout=30))
    time.sleep(1.5)
    s = session(emulator)
    refused = s.post(url, json=accounts(1, "Eleventh"))
    read = s.get(f"{emulator.instance_url}{DATA}/limits")
    for t in threads:
        t.join(30)
    assert refused.status_code == 403
    assert refused.json() == [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert read.status_code == 200  # reads run no Apex: not refused
    assert [a.status_code for a in answers] == [200] * 10
    assert s.post(url, json=accounts(1, "After")).status_code == 200  # the ten are done


def test_the_26th_concurrent_request_running_20_s_is_refused_with_concurrent_requests(
        emulator: Emulator) -> None:
    # Calls answering in 40 s (a slow report, a heavy query): long once they have run 20 s.
    emulator.set_knobs(profile=REALISTIC.changed(latency=Spread(40.0, 40.0), time_scale=0.05))
    url = f"{emulator.instance_url}{DATA}/limits"
    threads, answers = concurrently(25, lambda: session(emulator).get(url, timeout=30))
    time.sleep(1.4)  # each has run 28 s of org time
    refused = session(emulator).get(url)
    for t in threads:
        t.join(30)
    assert refused.status_code == 403
    assert refused.json() == [{"message": "ConcurrentRequests (Concurrent API Requests) "
                                          "Limit exceeded.",
                               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert [a.status_code for a in answers] == [200] * 25


def test_an_unknown_profile_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown profile 'fast': choose flat or realistic"):
        profile_named("fast")


def test_the_bulk_tally_counts_the_csv_bytes_uploaded_to_ingest_jobs_by_object(
        emulator: Emulator) -> None:
    bulk = BulkClient(emulator)
    before = emulator.org.bulk_tally.snapshot()["uploaded"]
    start_ingest(bulk, 300)
    start_ingest(bulk, 20)
    csv_bytes = sum(len("Name\n" + "".join(f"Account {i}\n" for i in range(n)))
                    for n in (300, 20))
    after = emulator.org.bulk_tally.snapshot()["uploaded"]
    assert after.get("Account", 0) - before.get("Account", 0) == csv_bytes
    assert set(after) - set(before) <= {"Account"}
