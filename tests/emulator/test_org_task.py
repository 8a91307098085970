"""Task in the local org: standard fields, restricted picklists, IsClosed from the status,
WhatId on Opportunities and custom objects."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import salesforce_client


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


@pytest.fixture
def opp(sf):
    return sf.Opportunity.create({"Name": "Task deal", "StageName": "Qualification",
                                  "CloseDate": "2027-01-29"})["id"]


def test_a_task_defaults_and_closes_with_its_status(sf, opp):
    task_id = sf.Task.create({"Subject": "MAP check-in: Task deal", "WhatId": opp,
                              "ActivityDate": "2026-12-07"})["id"]
    task = sf.Task.get(task_id)
    assert task_id.startswith("00T")
    assert (task["Status"], task["Priority"], task["IsClosed"]) == ("Not Started", "Normal",
                                                                    False)
    assert task["OwnerId"] == sf.query("SELECT CreatedById FROM Task")["records"][0][
        "CreatedById"]
    sf.Task.update(task_id, {"Status": "Completed"})
    assert sf.Task.get(task_id)["IsClosed"] is True
    found = sf.query(f"SELECT Id FROM Task WHERE WhatId = '{opp}' AND IsClosed = true")
    assert [r["Id"] for r in found["records"]] == [task_id]


def test_restricted_values_and_computed_fields_are_refused(sf, opp):
    with pytest.raises(SalesforceMalformedRequest) as status:
        sf.Task.create({"Subject": "x", "Status": "Done"})
    assert status.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as closed:
        sf.Task.create({"Subject": "x", "IsClosed": True})
    assert closed.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as what:
        sf.Task.create({"Subject": "x", "WhatId": "003000000000001AAA"})
    assert what.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_a_task_may_relate_to_a_custom_object(sf, opp):
    plan = sf.Mutual_Action_Plan__c.create({"Name": "Plan", "Opportunity__c": opp,
                                            "External_Id__c": opp})
    task_id = sf.Task.create({"Subject": "On the plan", "WhatId": plan["id"]})["id"]
    assert sf.Task.get(task_id)["WhatId"] == plan["id"]
