"""The nightly reconcile repairs drift the incremental cycle cannot see."""

from __future__ import annotations

import json

from sync.cycle import run_cycle
from sync.jobs.reconcile import reconcile
from tests.operations.ops import MILESTONE, PLAN, Ops


def test_reconcile_repairs_plans_changed_and_milestones_deleted_outside_mapsync(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    plan = ops.rows(f"SELECT Id, Opportunity__c, Health__c FROM {PLAN} LIMIT 1")[0]
    opp = plan["Opportunity__c"]
    milestones = ops.rows(f"SELECT Id, Key__c FROM {MILESTONE} "
                          f"WHERE Plan__r.Opportunity__c = '{opp}'")
    drifted = "Off Track" if plan["Health__c"] != "Off Track" else "On Track"
    # A data load under the integration user: the cycle reads it as its own echo.
    ops.admin.restful(f"sobjects/{PLAN}/{plan['Id']}", method="PATCH",
                      data=json.dumps({"Health__c": drifted}))
    ops.admin.restful(f"sobjects/{MILESTONE}/{milestones[0]['Id']}", method="DELETE")
    run_cycle(org)
    assert ops.rows(f"SELECT Health__c FROM {PLAN} WHERE Id = '{plan['Id']}'")[0][
        "Health__c"] == drifted

    report = reconcile(org)
    assert report.outcome == "succeeded"
    assert ops.rows(f"SELECT Health__c FROM {PLAN} WHERE Id = '{plan['Id']}'")[0][
        "Health__c"] == plan["Health__c"]
    keys = {r["Key__c"] for r in ops.rows(f"SELECT Key__c FROM {MILESTONE} "
                                          f"WHERE Plan__r.Opportunity__c = '{opp}'")}
    assert keys == {m["Key__c"] for m in milestones}
    assert ops.no_duplicates()


def test_reconcile_of_an_org_in_sync_writes_nothing(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    report = reconcile(org)
    assert report.plans_created == report.plans_updated == report.milestones_written == 0


def test_reconcile_leaves_a_milestone_a_rep_deleted_deleted(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    opp = ops.rows(f"SELECT Opportunity__c FROM {PLAN} LIMIT 1")[0]["Opportunity__c"]
    milestone = ops.rows(f"SELECT Id, Key__c FROM {MILESTONE} "
                         f"WHERE Plan__r.Opportunity__c = '{opp}' LIMIT 1")[0]
    ops.rep.restful(f"sobjects/{MILESTONE}/{milestone['Id']}", method="DELETE")
    run_cycle(org)
    reconcile(org)
    keys = {r["Key__c"] for r in ops.rows(f"SELECT Key__c FROM {MILESTONE} "
                                          f"WHERE Plan__r.Opportunity__c = '{opp}'")}
    assert milestone["Key__c"] not in keys


def test_reconcile_through_a_bulk_query_sends_no_order_by_and_covers_every_opportunity(
        ops: Ops):
    org = ops.sync(sf_bulk_threshold=10)
    run_cycle(org)
    state = ops.org._app.state  # the org's own record of the Bulk jobs
    before = {j.id for j in state.bulk_jobs.all("query")} \
        if hasattr(state, "bulk_jobs") else set()
    report = reconcile(org)
    assert report.outcome == "succeeded"
    assert report.touched == ops.admin.query("SELECT COUNT() FROM Opportunity")[
        "totalSize"]
    jobs = [j for j in state.bulk_jobs.all("query") if j.id not in before]
    assert jobs
    assert all("ORDER BY" not in (j.query or "").upper() for j in jobs)
