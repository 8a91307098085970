"""``mapsync db rebuild``: an admin moves to a new store and refills it from Salesforce."""

from __future__ import annotations

from sync.cycle import run_cycle
from tests.operations.ops import Ops


def test_db_rebuild_on_a_new_store_reports_what_salesforce_holds(ops: Ops, tmp_path) -> None:
    run_cycle(ops.sync())
    plans = ops.count("Mutual_Action_Plan__c")
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    done = ops.run("db", "rebuild", DATABASE_URL=fresh)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("rebuilt from Salesforce in ")
    assert f" {plans} plans, " in line
    assert "0 plans reps deleted" in line
