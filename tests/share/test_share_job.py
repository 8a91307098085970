"""The share job against the local org: one File per plan on its Opportunity, a new version
when the plan changed, none when it did not."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from sync.jobs.share import share_plans, shared_templates
from sync.jobs.worker import Worker, WorkerOptions
from tests.share.conftest import sharing_mapping
from tests.sync.world import World


def _text(world: World, version_id: str) -> str:
    data = world.client.blob(f"sobjects/ContentVersion/{version_id}/VersionData")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def _files(world: World, opp: str) -> list[dict[str, Any]]:
    links = world.query(f"SELECT ContentDocumentId FROM ContentDocumentLink "
                        f"WHERE LinkedEntityId = '{opp}'")
    return [world.admin.ContentDocument.get(link["ContentDocumentId"]) for link in links]


def _planned(world: World) -> str:
    opp = world.opportunity(stage="Needs Analysis", name="Initech Platform")
    contact = world.rep.Contact.create({"FirstName": "Pat", "LastName": "Buyer",
                                        "Email": "pat@initech.example",
                                        "AccountId": world.account_id})["id"]
    world.rep.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact,
                                             "Role": "Economic Buyer", "IsPrimary": True})
    world.cycle()
    return opp


def test_a_plan_becomes_a_file_on_its_opportunity(world: World) -> None:
    opp = _planned(world)
    report = share_plans(world.sync)
    assert (report.created, report.versioned, report.failed) == (1, 0, [])
    files = _files(world, opp)
    assert len(files) == 1
    plan = world.query(f"SELECT Id, Shared_Version_Id__c, Last_Shared_At__c "
                       f"FROM Mutual_Action_Plan__c WHERE Opportunity__c = '{opp}'")[0]
    assert files[0]["LatestPublishedVersionId"] == plan["Shared_Version_Id__c"]
    assert plan["Last_Shared_At__c"] is not None
    version = world.admin.ContentVersion.get(plan["Shared_Version_Id__c"])
    assert version["PathOnClient"] == "Initech Platform - Mutual Action Plan.pdf"
    assert version["FileType"] == "PDF"
    text = _text(world, plan["Shared_Version_Id__c"])
    for internal in (opp, plan["Id"], "Health", "Slip Cause", "Notes"):
        assert internal not in text  # ids and internal fields never reach the buyer
    names = world.query(f"SELECT Name FROM MAP_Milestone__c "
                        f"WHERE Plan__r.Opportunity__c = '{opp}'")
    for row in names:
        assert row["Name"] in text
    for shown in ("Pat Buyer", "Economic Buyer", "pat@initech.example", "Customer stories"):
        assert shown in text


def test_an_unchanged_plan_adds_no_version(world: World) -> None:
    opp = _planned(world)
    share_plans(world.sync)
    calls = world.org.api_calls
    report = share_plans(world.sync)
    assert world.org.api_calls - calls == 3  # plans, the org's name, milestones and roles
    assert (report.created, report.versioned, report.unchanged) == (0, 0, 1)
    assert world.admin.query("SELECT COUNT() FROM ContentVersion")["totalSize"] == 1
    assert len(_files(world, opp)) == 1


def test_a_changed_plan_adds_a_version_to_the_same_file(world: World) -> None:
    opp = _planned(world)
    share_plans(world.sync)
    plan = world.query(f"SELECT Id FROM Mutual_Action_Plan__c WHERE Opportunity__c = '{opp}'")[0]
    world.edit("Mutual_Action_Plan__c", plan["Id"], Summary__c="Halve triage time by spring",
               Resources__c="Security pack | https://acme.example/security")
    report = share_plans(world.sync)
    assert (report.created, report.versioned) == (0, 1)
    files = _files(world, opp)
    assert len(files) == 1
    versions = world.query(f"SELECT Id, VersionNumber, IsLatest FROM ContentVersion "
                           f"WHERE ContentDocumentId = '{files[0]['Id']}'")
    assert sorted((v["VersionNumber"], v["IsLatest"]) for v in versions) == [
        ("1", False), ("2", True)]
    latest = next(v["Id"] for v in versions if v["IsLatest"])
    text = _text(world, latest)
    assert "Halve triage time by spring" in text
    assert "Security pack" in text


def test_a_deleted_file_is_shared_again_as_a_new_one(world: World) -> None:
    opp = _planned(world)
    share_plans(world.sync)
    world.admin.ContentDocument.delete(_files(world, opp)[0]["Id"])
    plan = world.query(f"SELECT Id FROM Mutual_Action_Plan__c WHERE Opportunity__c = '{opp}'")[0]
    world.edit("Mutual_Action_Plan__c", plan["Id"], Summary__c="Changed after the delete")
    report = share_plans(world.sync)
    assert (report.created, report.versioned, report.failed) == (1, 0, [])
    assert len(_files(world, opp)) == 1


def test_only_templates_that_ask_are_shared_by_the_worker(world: World) -> None:
    assert shared_templates(sharing_mapping(share=False)) == ()
    _planned(world)
    report = share_plans(world.sync, templates=shared_templates(sharing_mapping(share=False)))
    assert (report.created, report.unchanged) == (0, 0)


def test_the_worker_shares_and_books_check_ins_for_templates_that_ask(world: World) -> None:
    opp = _planned(world)
    worker = Worker(world.sync, WorkerOptions(holder="test-worker"))
    assert worker._scheduler.get_job("share") is not None
    worker.share()
    assert len(_files(world, opp)) == 1
    assert len(world.query(f"SELECT Id FROM Task WHERE WhatId = '{opp}' "
                           "AND Subject LIKE 'MAP check-in: %'")) == 1


def test_a_file_salesforce_refuses_is_reported_and_the_others_are_shared(world: World) -> None:
    refused = world.opportunity(name="Globex Rollout")
    shared = _planned(world)
    world.cycle()
    world.org.org.automation.add_trigger(
        "FileGuard", "ContentVersion", events=("insert",),
        when='Title = "Globex Rollout: Mutual Action Plan"')
    report = share_plans(world.sync)
    assert report.created == 1
    assert [opp for opp, _ in report.failed] == [refused]
    assert "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY" in report.failed[0][1]
    assert len(_files(world, shared)) == 1
    assert _files(world, refused) == []
    plan = world.query(f"SELECT Shared_Version_Id__c FROM Mutual_Action_Plan__c "
                       f"WHERE Opportunity__c = '{refused}'")[0]
    assert plan["Shared_Version_Id__c"] is None  # tried again next run
