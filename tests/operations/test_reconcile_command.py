"""``mapsync reconcile [--dry-run]``: the nightly reconcile on demand, under the org's lease."""

from __future__ import annotations

import json

from sync.cycle import run_cycle
from tests.operations.ops import PLAN, Ops


def drift(ops: Ops) -> tuple[str, str, str]:
    """A data load under the integration user changes a plan's health: the cycle reads it as
    its own echo, only a reconcile repairs it. Returns (plan Id, health, drifted health)."""
    run_cycle(ops.sync())
    plan = ops.rows(f"SELECT Id, Health__c FROM {PLAN} WHERE Status__c = 'Active' LIMIT 1")[0]
    drifted = "Off Track" if plan["Health__c"] != "Off Track" else "On Track"
    ops.admin.restful(f"sobjects/{PLAN}/{plan['Id']}", method="PATCH",
                      data=json.dumps({"Health__c": drifted}))
    return plan["Id"], plan["Health__c"], drifted


def health(ops: Ops, plan_id: str) -> str:
    return str(ops.rows(f"SELECT Health__c FROM {PLAN} WHERE Id = '{plan_id}'")[0]["Health__c"])


def test_reconcile_dry_run_finds_the_drift_and_writes_nothing(ops: Ops) -> None:
    plan_id, _, drifted = drift(ops)
    before = ops.snapshot()
    done = ops.run("reconcile", "--dry-run", COLUMNS="160")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reconcile dry run: nothing written" in done.stdout
    updated = next(line for line in done.stdout.splitlines() if "plans updated" in line)
    assert int(updated.strip(" │").split()[-1]) >= 1
    assert health(ops, plan_id) == drifted
    assert ops.snapshot() == before
    doc = json.loads(ops.run("status", "--no-api", "--json").stdout)
    assert doc["runs"][0]["kind"] == "reconcile_dry"


def test_reconcile_repairs_the_drift_with_the_workers_report(ops: Ops) -> None:
    plan_id, wanted, drifted = drift(ops)
    assert health(ops, plan_id) == drifted
    done = ops.run("reconcile", COLUMNS="160")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reconcile: succeeded" in done.stdout
    assert "milestones restored" in done.stdout
    assert health(ops, plan_id) == wanted
    kinds = {r["kind"] for r in json.loads(ops.run("status", "--no-api", "--json").stdout)[
        "runs"]}
    assert "reconcile" in kinds


def test_reconcile_waits_for_the_lease_and_names_its_holder(ops: Ops) -> None:
    org = ops.sync()
    run_cycle(org)
    assert ops.store.try_acquire_lease(org.id, "worker-on-host-7", 60)
    calls = ops.org.api_calls
    done = ops.run("reconcile", "--wait", "0.5")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"mapsync: org {org.id} is being synced by worker-on-host-7; nothing done (try again "
        "when it has finished)"]
    assert ops.org.api_calls - calls <= 1  # the login only
