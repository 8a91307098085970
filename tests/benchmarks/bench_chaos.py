"""The chaos campaign: mapsync's reliability record, re-measured by every ``make bench``.

Two ``mapsync worker`` processes share one PostgreSQL store and sync a local org that fails a
share of its calls (503s, dropped connections, locked rows), expires sessions and stamps some
writes in the past. A random worker is SIGKILLed at random moments and restarted; between kills
reps edit milestones in their own sessions. Then the faults stop, the workers settle, and the
org is compared with a fault-free reference (the same seeded org synced in process until a
cycle touches nothing): duplicates, missing records, field differences and lost rep edits must
all be 0, within a bound of worker lives. The small version runs in ``make test``
(``tests/operations/test_kill_campaign.py``).

    python -m tests.benchmarks.bench_chaos [--opportunities N] [--kills N] [--fault-rate F]
                                           [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from tests.benchmarks.bench_cycle import quiet

MAPSYNC = str(Path(sys.executable).with_name("mapsync"))
PLAN_FIELDS = ("Template__c", "Status__c", "Health__c", "Percent_Complete__c",
               "Target_Close_Date__c")
MILESTONE_FIELDS = ("Name", "Status__c", "Due_Date__c", "Baseline_Due_Date__c")
SETTLE_SECONDS = 600  # faults off: the workers must settle within this
REP_STATUSES = ("In Progress", "Blocked", "Done")


def serve(opportunities: int, commands: Any, replies: Any) -> None:
    """The org (in memory, so it can be reset) in its own process, driven by commands: its
    memory and CPU are not the workers'."""
    from connectors.emulator.server import Emulator

    with Emulator(seed="demo", opportunities=opportunities) as org:
        replies.put({"env": org.env(), "instance_url": org.instance_url,
                     "ca_file": str(org.ca_file), "username": org.username})
        while True:
            command, arg = commands.get()
            if command == "stop":
                return
            try:
                if command == "knobs":
                    org.set_knobs(**arg)
                    replies.put(None)
                elif command == "token":
                    replies.put(org.access_token(arg))
                elif command == "reset":
                    org.reset(seed="demo", opportunities=opportunities)
                    replies.put(None)
            except Exception as err:  # the parent reports it in one line
                replies.put(("failed", str(err)))


class OrgHandle:
    """What ``salesforce_client`` needs of an org, for an org in another process."""

    def __init__(self, commands: Any, replies: Any) -> None:
        self.commands, self.replies = commands, replies
        hello = replies.get(timeout=600)
        self.env: dict[str, str] = hello["env"]
        self.instance_url: str = hello["instance_url"]
        self.ca_file = Path(hello["ca_file"])
        self.username: str = hello["username"]

    def ask(self, command: str, arg: Any = None) -> Any:
        self.commands.put((command, arg))
        reply = self.replies.get(timeout=600)
        if isinstance(reply, tuple) and reply[0] == "failed":
            raise RuntimeError(f"the org could not {command}: {reply[1]}")
        return reply

    def access_token(self, user_id: str | None = None) -> str:
        return str(self.ask("token", user_id))

    def client(self, user_id: str | None = None) -> Any:
        """A simple-salesforce session as the integration user or as rep ``user_id``."""
        from connectors.emulator.pytest_plugin import salesforce_client

        return salesforce_client(cast(Any, self), session_id=self.access_token(user_id))


def persist(action: Any, attempts: int = 30) -> Any:
    """A rep retries what the org refused for a fault (a PATCH is safe to repeat)."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception:  # 503s, dropped connections, locked rows
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)
    return None


def rows(sf: Any, soql: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "attributes"}
            for r in sf.query_all(soql)["records"]]


def records(sf: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    plans = rows(sf, "SELECT Id, External_Id__c, Opportunity__c, " + ", ".join(PLAN_FIELDS)
                 + " FROM Mutual_Action_Plan__c")
    milestones = rows(sf, "SELECT Id, External_Id__c, Plan__c, "
                      + ", ".join(MILESTONE_FIELDS) + " FROM MAP_Milestone__c")
    return plans, milestones


def reference(org: OrgHandle, work: Path) -> tuple[Any, int]:
    """The org synced without faults, in process, until a cycle touches nothing."""
    from config.settings import load_settings
    from connectors.salesforce.client import SalesforceClient
    from mappings.loader import default_mapping_path, load_mapping
    from sync.cycle import Org, run_cycle
    from sync.store import Store

    settings = load_settings(**{k.lower(): v for k, v in org.env.items()},
                             database_url=f"sqlite:///{work / 'reference.db'}")
    store = Store.open(settings.database_url, auto_upgrade=True)
    sync = Org.build(SalesforceClient(settings), store, load_mapping(default_mapping_path()))
    cycles = 0
    while cycles < 20:
        cycles += 1
        if run_cycle(sync).touched == 0:
            break
    store.close()
    return records(org.client()), cycles


class Workers:
    """Two ``mapsync worker`` processes on one store; each start is one life."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.alive: list[subprocess.Popen[bytes]] = []
        self.lives = 0
        self.peak_kb = 0

    def start(self) -> None:
        self.lives += 1
        out = (self.logs / f"life{self.lives}.log").open("ab")
        self.alive.append(subprocess.Popen(
            [MAPSYNC, "worker", "--interval", "0.5", "--no-reconcile", "--retry-interval", "20",
             "--heartbeat", "2", "--lease-ttl", "30"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    def sample_memory(self) -> None:
        for worker in self.alive:
            try:
                status = Path(f"/proc/{worker.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def replace_the_dead(self) -> None:
        """A worker that died on its own is restarted too: that life counts against the bound."""
        for worker in [w for w in self.alive if w.poll() is not None]:
            self.alive.remove(worker)
            self.start()

    def kill(self, rng: random.Random) -> None:
        self.sample_memory()
        victim = rng.choice(self.alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        self.alive.remove(victim)
        self.start()

    def stop(self) -> None:
        self.sample_memory()
        for worker in self.alive:
            worker.send_signal(signal.SIGTERM)
        for worker in self.alive:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def settled(store: Any, org_id: str) -> bool:
    """The last cycle touched nothing and no dead letter waits for a retry."""
    from sync.store.records import RunKind, RunOutcome

    with store.transaction(write=False) as tx:
        runs = tx.latest_runs(org_id, 1, RunKind.CYCLE)
        letters = tx.dead_letters(org_id, status="open")
    return bool(runs) and runs[0].outcome is RunOutcome.SUCCEEDED \
        and runs[0].counts.get("touched") == 0 and not letters


class Reps:
    """Reps at work during the campaign: each edit is remembered, to be found at the end."""

    def __init__(self, org: OrgHandle, rng: random.Random) -> None:
        self.org, self.rng = org, rng
        self.ids = [u["Id"] for u in rows(org.client(), "SELECT Id FROM User WHERE "
                                                        f"Username != '{org.username}'")]
        self.edits: dict[tuple[str, str], Any] = {}  # (milestone Id, field) -> value

    def edit_one(self) -> None:
        rep_id = self.rng.choice(self.ids)
        rep = self.org.client(rep_id)
        visible = persist(lambda: rows(rep, "SELECT Id FROM MAP_Milestone__c LIMIT 500"))
        if not visible:
            return
        milestone = self.rng.choice(visible)["Id"]
        if self.rng.random() < 0.5:
            field, value = "Status__c", self.rng.choice(REP_STATUSES)
        else:
            due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=self.rng.randint(5, 120))
            field, value = "Due_Date__c", due.isoformat()
        persist(lambda: rep.restful(f"sobjects/MAP_Milestone__c/{milestone}", method="PATCH",
                                    data=json.dumps({field: value})))
        self.edits[(milestone, field)] = value


def compare(expected: Any, actual: Any, edits: dict[tuple[str, str], Any]) -> dict[str, int]:
    """The counts of the record: every one must be 0."""
    (ref_plans, ref_ms), (plans, ms) = expected, actual
    edited_ms = {m for m, _ in edits}
    edited_plans = {m["Plan__c"] for m in ms if m["Id"] in edited_ms}
    plan_dupes = len(plans) - len({p["Opportunity__c"] for p in plans})
    ms_dupes = len(ms) - len({m["External_Id__c"] for m in ms})
    by_ext = {p["External_Id__c"]: p for p in plans}
    ms_by_ext = {m["External_Id__c"]: m for m in ms}
    missing = sum(p["External_Id__c"] not in by_ext for p in ref_plans) \
        + sum(m["External_Id__c"] not in ms_by_ext for m in ref_ms)
    extra = len(set(by_ext) - {p["External_Id__c"] for p in ref_plans}) \
        + len(set(ms_by_ext) - {m["External_Id__c"] for m in ref_ms})
    differences = 0
    for ref in ref_plans:
        got = by_ext.get(ref["External_Id__c"])
        if got and got["Id"] not in edited_plans:  # a rep's edit moves its plan's roll-ups
            differences += sum(ref[f] != got[f] for f in PLAN_FIELDS)
    for ref in ref_ms:
        got = ms_by_ext.get(ref["External_Id__c"])
        if got and got["Plan__c"] not in edited_plans:
            differences += sum(ref[f] != got[f] for f in MILESTONE_FIELDS)
    ms_by_id = {m["Id"]: m for m in ms}
    lost = sum(ms_by_id.get(m, {}).get(f) != v for (m, f), v in edits.items())
    return {"duplicate plans (by Opportunity)": plan_dupes,
            "duplicate milestones (by external id)": ms_dupes,
            "missing records": missing, "unexpected records": extra,
            "field differences vs reference": differences, "lost rep edits": lost}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.opportunities < 1 or args.kills < 0 or not 0 <= args.fault_rate <= 1:
        parser.error("--opportunities must be at least 1, --kills at least 0 and "
                     "--fault-rate between 0 and 1")
    quiet()
    from tests.fixtures.postgres import ServerMissing, running_postgres

    started = time.monotonic()
    rng = random.Random(args.seed)
    f = args.fault_rate
    faults = {"unavailable_rate": f / 2, "drop_rate": f / 4, "lock_rate": f / 4,
              "session_max_calls": 25, "late_stamp_rate": f}
    no_faults = {"unavailable_rate": 0.0, "drop_rate": 0.0, "lock_rate": 0.0,
                 "session_max_calls": None, "late_stamp_rate": 0.0}
    work = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    ctx = multiprocessing.get_context("spawn")
    commands, replies = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=serve, args=(args.opportunities, commands, replies))
    child.start()
    try:
        org = OrgHandle(commands, replies)
        with running_postgres() as pg:
            return campaign(org, pg, args, rng, faults, no_faults, work, started)
    except ServerMissing as err:
        print(f"bench_chaos: {err}", file=sys.stderr)
        return 1
    finally:
        commands.put(("stop", None))
        child.join(60)


def campaign(org: OrgHandle, pg: Any, args: Any, rng: random.Random, faults: dict[str, Any],
             no_faults: dict[str, Any], work: Path, started: float) -> int:
    from sync.store import Store

    t0 = time.monotonic()
    expected, ref_cycles = reference(org, work)
    ref_seconds = time.monotonic() - t0
    org.ask("reset")
    url = pg.create_database()
    store = Store.open(url, auto_upgrade=True)
    org_id = _org_id(org, url, store)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SF_", "MAPSYNC_", "DATABASE_URL", "SYNC_"))}
    env.update(org.env, DATABASE_URL=url, LOG_FORMAT="json", SYNC_CHUNK_SIZE="50",
               SF_BULK_POLL_SECONDS="0.2", SF_RETRY_MAX_WAIT="0.5")
    reps = Reps(org, rng)
    workers = Workers(env, work)
    org.ask("knobs", faults)
    t1 = time.monotonic()
    for _ in range(2):
        workers.start()
    try:
        for _ in range(args.kills):
            time.sleep(rng.uniform(2.0, 8.0))
            workers.replace_the_dead()
            reps.edit_one()
            workers.kill(rng)
        org.ask("knobs", no_faults)
        campaign_seconds = time.monotonic() - t1
        t2 = time.monotonic()
        while time.monotonic() - t2 < SETTLE_SECONDS and not settled(store, org_id):
            time.sleep(1.0)
            workers.replace_the_dead()
            workers.sample_memory()
        converged = settled(store, org_id)
        settle_seconds = time.monotonic() - t2
    finally:
        org.ask("knobs", no_faults)
        workers.stop()
        store.close()
    counts = compare(expected, records(org.client()), reps.edits)
    bound = args.kills + 2
    print(f"org: {args.opportunities} Opportunities (seed demo); reference: "
          f"{len(expected[0])} plans, {len(expected[1])} milestones, {ref_cycles} cycles in "
          f"{ref_seconds:.0f} s")
    print(f"campaign: 2 workers on PostgreSQL, {args.kills} SIGKILLs every 2-8 s, faults "
          f"{json.dumps(faults)}, SYNC_CHUNK_SIZE 50, {len(reps.edits)} rep edits, "
          f"seed {args.seed}")
    print(f"{'measure':<40}{'value':>10}{'target':>10}")
    for name, value in counts.items():
        print(f"{name:<40}{value:>10}{0:>10}")
    print(f"{'converged after faults off':<40}{'yes' if converged else 'NO':>10}{'yes':>10}")
    print(f"{'worker lives to converge':<40}{workers.lives:>10}{'<= ' + str(bound):>10}")
    print(f"wall time: {time.monotonic() - started:.0f} s (campaign {campaign_seconds:.0f} s, "
          f"settle {settle_seconds:.0f} s); peak memory of a worker: "
          f"{workers.peak_kb / 1024:.0f} MB")
    print(json.dumps({**{k.split(" (")[0].replace(" ", "_"): v for k, v in counts.items()},
                      "converged": converged, "lives": workers.lives,
                      "wall_seconds": round(time.monotonic() - started),
                      "worker_peak_mb": round(workers.peak_kb / 1024)}))
    failed = any(counts.values()) or not converged or workers.lives > bound
    return 1 if failed else 0


def _org_id(org: OrgHandle, url: str, store: Any) -> str:
    """The org's id in the store, as the workers will know it."""
    from config.settings import load_settings
    from connectors.salesforce.client import SalesforceClient
    from mappings.loader import default_mapping_path, load_mapping
    from sync.cycle import Org

    settings = load_settings(**{k.lower(): v for k, v in org.env.items()}, database_url=url)
    return str(Org.build(SalesforceClient(settings), store,
                         load_mapping(default_mapping_path())).id)


if __name__ == "__main__":
    raise SystemExit(main())
