"""The record store validates, stamps and deletes as Salesforce does, with its error codes."""

from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulator.errors import RecordResult
from connectors.emulator.org import Org
from connectors.emulator.schema import FieldDef
from connectors.emulator.store import MultipleMatches


def admin_org(seed: str) -> Org:
    """An org whose integration user may do anything: these tests are of the store's rules,
    not of permissions (``test_org_permissions.py``)."""
    org = Org(seed=seed)
    org.access.make_admin(org.integration_user_id)
    return org


@pytest.fixture(scope="module")
def org():
    return admin_org("demo")


def first_id(org, sobject):
    obj = org.schema.get(sobject)
    return org.store.conn.execute(
        f'SELECT Id FROM "{obj.name}" WHERE IsDeleted = 0 ORDER BY Id LIMIT 1').fetchone()[0]


def write(org, op):
    [result] = org.store.run_batch([op])
    return result


def create(org, sobject, body):
    obj = org.schema.get(sobject)
    return write(org, lambda: RecordResult(org.store.create(obj, body, org.integration_user_id)))


def upserting(org, obj, ext, value, body):
    def op():
        rid, created = org.store.upsert(obj, ext, value, body, org.integration_user_id)
        return RecordResult(rid, created=created)
    return op


def codes(result):
    return [e.status_code for e in result.errors]


def test_create_stamps_system_fields_and_computes_opportunity_flags(org):
    result = create(org, "Opportunity", {"Name": "Deal", "StageName": "Closed Won",
                                         "CloseDate": "2026-03-31", "Amount": "250000"})
    row = org.store.find(org.schema.get("Opportunity"), result.id)
    assert result.id.startswith("006")
    assert len(result.id) == 18
    assert row["IsClosed"] == 1
    assert row["IsWon"] == 1
    assert row["Probability"] == 100.0
    assert row["Amount"] == 250000.0
    assert row["CreatedById"] == org.integration_user_id == row["OwnerId"]
    assert row["CreatedDate"] == row["SystemModstamp"]
    assert row["SystemModstamp"].endswith("+0000")


@pytest.mark.parametrize(("body", "code", "fields"), [
    ({"Name": "x", "CloseDate": "2026-01-01"}, "REQUIRED_FIELD_MISSING", ["StageName"]),
    ({"Name": "x", "StageName": "Won-ish", "CloseDate": "2026-01-01"},
     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["StageName"]),
    ({"Name": "x" * 121, "StageName": "Prospecting", "CloseDate": "2026-01-01"},
     "STRING_TOO_LONG", ["Name"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01", "Amount": "lots"},
     "INVALID_TYPE_ON_FIELD_IN_RECORD", ["Amount"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "31/01/2026"},
     "INVALID_TYPE_ON_FIELD_IN_RECORD", ["CloseDate"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01", "Colour__c": "red"},
     "INVALID_FIELD", ["Colour__c"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01", "IsWon": True},
     "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01",
      "AccountId": "001000000000000"}, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01",
      "AccountId": "003000000000000"}, "FIELD_INTEGRITY_EXCEPTION", ["AccountId"]),
    ({"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01",
      "AccountId": "not-an-id"}, "MALFORMED_ID", ["AccountId"]),
])
def test_invalid_values_fail_the_record_with_salesforces_code(org, body, code, fields):
    result = create(org, "Opportunity", body)
    assert result.id is None
    assert codes(result) == [code]
    assert result.errors[0].fields == fields


def test_failed_record_writes_nothing(org):
    opp = org.schema.get("Opportunity")
    before = org.store.count(opp)
    create(org, "Opportunity", {"Name": "x", "StageName": "Nope", "CloseDate": "2026-01-01"})
    assert org.store.count(opp) == before


def test_unique_external_id_refuses_a_second_record_with_the_same_value_in_any_case(org):
    opp_id = first_id(org, "Opportunity")
    ok = create(org, "Mutual_Action_Plan__c", {"Name": "p", "Opportunity__c": opp_id,
                                               "External_Id__c": "EXT-1"})
    dup = create(org, "Mutual_Action_Plan__c", {"Name": "p", "Opportunity__c": opp_id,
                                                "External_Id__c": "ext-1"})
    assert ok.success
    assert codes(dup) == ["DUPLICATE_VALUE"]
    assert ok.id in dup.errors[0].message


def test_upsert_creates_then_updates_the_same_record(org):
    plan = org.schema.get("Mutual_Action_Plan__c")
    ext = plan.field("External_Id__c")
    opp_id = first_id(org, "Opportunity")
    body = {"Name": "p", "Opportunity__c": opp_id, "Health__c": "On Track"}
    first = write(org, upserting(org, plan, ext, "UP-1", body))
    second = write(org, upserting(org, plan, ext, "up-1", {"Health__c": "At Risk"}))
    assert first.created is True
    assert second.created is False
    assert first.id == second.id
    assert org.store.find(plan, first.id)["Health__c"] == "At Risk"


def test_upsert_on_a_non_unique_external_id_with_two_matches_is_refused():
    org = admin_org("empty")
    account = org.schema.get("Account")
    account.add(FieldDef("Legacy_Key__c", "string", length=40, external_id=True, custom=True))
    org.store.create_tables()
    for _ in range(2):
        assert create(org, "Account", {"Name": "a", "Legacy_Key__c": "K"}).success
    with pytest.raises(MultipleMatches) as many:
        org.store.run_batch([upserting(org, account, account.field("Legacy_Key__c"), "K", {})])
    assert len(many.value.record_ids) == 2


def test_update_of_a_deleted_record_fails_entity_is_deleted(org):
    acc = create(org, "Account", {"Name": "Gone Inc"})
    assert write(org, lambda: (org.store.delete(acc.id, org.integration_user_id),
                               RecordResult(acc.id))[1]).success
    obj = org.schema.get("Account")
    result = write(org, lambda: (org.store.update(obj, acc.id, {"Name": "Back"},
                                                  org.integration_user_id),
                                 RecordResult(acc.id))[1])
    assert codes(result) == ["ENTITY_IS_DELETED"]


def test_delete_is_soft_and_cascades_to_master_detail_children(org):
    opp = create(org, "Opportunity", {"Name": "Cascade", "StageName": "Prospecting",
                                      "CloseDate": "2026-05-01"})
    plan = create(org, "Mutual_Action_Plan__c", {"Name": "p", "Opportunity__c": opp.id,
                                                 "External_Id__c": opp.id})
    step = create(org, "MAP_Milestone__c", {"Name": "Kick-off", "Plan__c": plan.id,
                                            "External_Id__c": f"{opp.id}:kickoff"})
    contact = create(org, "Contact", {"LastName": "Buyer"})
    role = create(org, "OpportunityContactRole", {"OpportunityId": opp.id,
                                                  "ContactId": contact.id,
                                                  "Role": "Economic Buyer"})
    org.store.run_batch([lambda: (org.store.delete(plan.id, org.integration_user_id),
                                  RecordResult(plan.id))[1],
                         lambda: (org.store.delete(opp.id, org.integration_user_id),
                                  RecordResult(opp.id))[1]])
    milestone = org.store.find(org.schema.get("MAP_Milestone__c"), step.id)
    ocr = org.store.find(org.schema.get("OpportunityContactRole"), role.id)
    assert milestone["IsDeleted"] == 1
    assert ocr["IsDeleted"] == 1
    assert org.store.find(org.schema.get("Contact"), contact.id)["IsDeleted"] == 0


def test_all_or_none_rolls_back_the_records_that_succeeded(org):
    acc = org.schema.get("Account")
    before = org.store.count(acc)
    ok = lambda: RecordResult(org.store.create(acc, {"Name": "fine"}, org.integration_user_id))  # noqa: E731
    bad = lambda: RecordResult(org.store.create(acc, {"Name": None}, org.integration_user_id))  # noqa: E731
    results = org.store.run_batch([ok, bad, ok], all_or_none=True)
    assert [codes(r) for r in results] == [["ALL_OR_NONE_OPERATION_ROLLED_BACK"],
                                           ["REQUIRED_FIELD_MISSING"],
                                           ["ALL_OR_NONE_OPERATION_ROLLED_BACK"]]
    assert org.store.count(acc) == before


def test_update_moves_system_modstamp_but_not_created_date():
    clock = [datetime(2026, 1, 1, 9, 0, tzinfo=UTC)]
    org = admin_org("empty")
    org.store.clock = lambda: clock[0]
    acc = create(org, "Account", {"Name": "Timely"})
    clock[0] += timedelta(minutes=5)
    obj = org.schema.get("Account")
    org.store.run_batch([lambda: (org.store.update(obj, acc.id, {"Name": "Later"},
                                                   org.integration_user_id),
                                  RecordResult(acc.id))[1]])
    row = org.store.find(obj, acc.id)
    assert row["CreatedDate"] == "2026-01-01T09:00:00.000+0000"
    assert row["SystemModstamp"] == row["LastModifiedDate"] == "2026-01-01T09:05:00.000+0000"


def test_late_commit_knob_stamps_writes_in_the_past():
    org = admin_org("empty")
    org.set_knobs(late_stamp_rate=1.0, late_stamp_ms=3000)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    org.store.clock = lambda: now
    acc = create(org, "Account", {"Name": "Late"})
    row = org.store.find(org.schema.get("Account"), acc.id)
    assert row["SystemModstamp"] == "2026-01-01T11:59:57.000+0000"


def test_child_can_name_its_parent_by_external_id(org):
    opp_id = first_id(org, "Opportunity")
    plan = create(org, "Mutual_Action_Plan__c", {"Name": "p", "Opportunity__c": opp_id,
                                                 "External_Id__c": "PARENT-1"})
    step = create(org, "MAP_Milestone__c", {"Name": "s", "External_Id__c": "PARENT-1:s",
                                            "Plan__r": {"External_Id__c": "PARENT-1"}})
    orphan = create(org, "MAP_Milestone__c", {"Name": "s", "External_Id__c": "NONE:s",
                                              "Plan__r": {"External_Id__c": "NONE"}})
    milestone = org.store.find(org.schema.get("MAP_Milestone__c"), step.id)
    assert milestone["Plan__c"] == plan.id
    assert codes(orphan) == ["INVALID_FIELD"]
    assert "Foreign key external ID: NONE not found" in orphan.errors[0].message


def test_update_may_repeat_an_unchangeable_field_but_not_change_it(org):
    opps = [create(org, "Opportunity", {"Name": f"o{n}", "StageName": "Prospecting",
                                        "CloseDate": "2026-05-01"}).id for n in (1, 2)]
    contact = create(org, "Contact", {"LastName": "Roleholder"}).id
    role = create(org, "OpportunityContactRole", {"OpportunityId": opps[0],
                                                  "ContactId": contact}).id
    obj = org.schema.get("OpportunityContactRole")

    def update(body):
        return write(org, lambda: (org.store.update(obj, role, body, org.integration_user_id),
                                   RecordResult(role))[1])

    assert update({"OpportunityId": opps[0], "Role": "Legal"}).success
    moved = update({"OpportunityId": opps[1]})
    assert codes(moved) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert moved.errors[0].fields == ["OpportunityId"]


def test_deleting_a_parent_clears_plain_lookups_and_moves_the_childs_modstamp():
    clock = [datetime(2026, 1, 1, 9, 0, tzinfo=UTC)]
    org = admin_org("empty")
    org.store.clock = lambda: clock[0]
    opp = create(org, "Opportunity", {"Name": "Lost", "StageName": "Prospecting",
                                      "CloseDate": "2026-05-01"})
    plan = create(org, "Mutual_Action_Plan__c", {"Name": "Orphaned", "Opportunity__c": opp.id,
                                                 "External_Id__c": opp.id})
    clock[0] += timedelta(minutes=1)
    assert write(org, lambda: (org.store.delete(opp.id, org.integration_user_id),
                               RecordResult(opp.id))[1]).success
    row = org.store.find(org.schema.get("Mutual_Action_Plan__c"), plan.id)
    assert row["Opportunity__c"] is None
    assert row["IsDeleted"] == 0
    assert row["SystemModstamp"] == "2026-01-01T09:01:00.000+0000"


def test_a_lookup_that_restricts_deletes_blocks_deleting_its_parent():
    org = admin_org("empty")
    contact = org.schema.get("Contact")
    contact.add(FieldDef("Guardian__c", "reference", length=18, reference_to=("Account",),
                         relationship_name="Guardian__r", restricted_delete=True, custom=True))
    org.store.create_tables()
    acc = create(org, "Account", {"Name": "Guarded"})
    create(org, "Contact", {"LastName": "Guard", "Guardian__c": acc.id})
    refused = write(org, lambda: (org.store.delete(acc.id, org.integration_user_id),
                                  RecordResult(acc.id))[1])
    assert codes(refused) == ["DELETE_FAILED"]
    assert "Guard" in refused.errors[0].message
    assert org.store.find(org.schema.get("Account"), acc.id)["IsDeleted"] == 0
