"""Pull on its own: what it asks Salesforce, what it hands on, where it moves the read position."""

from __future__ import annotations

import datetime as dt

from sync.cycle import pull
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.store.records import Watermark
from tests.cycle.fakes import ME, FakeSalesforce, opportunity

LOOKBACK = dt.timedelta(minutes=10)
OPP_A, OPP_B, OPP_C = "006000000000001AAA", "006000000000002AAA", "006000000000003AAA"


def test_a_first_read_asks_for_everything_and_every_contact_role_in_one_request() -> None:
    sf = FakeSalesforce(rows={OPPORTUNITY: [opportunity(OPP_A)], "OpportunityContactRole": [
        {"Id": "00K000000000001AAA", "OpportunityId": OPP_A, "ContactId": "003000000000001AAA",
         "Role": "Champion", "SystemModstamp": "2030-01-02T10:00:00.000+0000"}]})
    pulled = pull.read(sf, {}, LOOKBACK, ME)
    assert sf.composite_calls == 1
    assert len(sf.queries) == 4
    assert all("SystemModstamp >=" not in q for q in sf.queries)
    assert all(f"LastModifiedById != '{ME}'" in q for q in sf.queries)  # echo left out
    assert "FROM OpportunityContactRole" in sf.queries[3]
    assert pulled.first_read
    assert pulled.touched == [OPP_A]
    assert pulled.roles == {OPP_A: [("Champion", "003000000000001AAA")]}


def test_plan_and_milestone_changes_touch_their_opportunity_by_external_id() -> None:
    sf = FakeSalesforce(rows={
        PLAN_OBJECT: [{"Id": "a00000000000001AAA", "External_Id__c": OPP_B,
                       "SystemModstamp": "2030-01-02T10:00:00.000+0000"}],
        MILESTONE_OBJECT: [{"Id": "a01000000000001AAA", "External_Id__c": f"{OPP_C}:legal",
                            "SystemModstamp": "2030-01-02T10:00:01.000+0000"}]})
    pulled = pull.read(sf, {}, LOOKBACK, ME, extra=[OPP_A])
    assert pulled.touched == [OPP_B, OPP_C, OPP_A]


def test_a_later_read_starts_a_lookback_before_the_mark_and_drops_rows_already_taken() -> None:
    stamp = "2030-01-02T10:00:00.000+0000"
    mark = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC),
                     frozenset({f"{OPP_A}@{stamp}"}))
    sf = FakeSalesforce(rows={OPPORTUNITY: [
        opportunity(OPP_A, stamp=stamp),
        opportunity(OPP_B, stamp="2030-01-02T10:00:05.000+0000")]})
    pulled = pull.read(sf, {OPPORTUNITY: mark, PLAN_OBJECT: mark, MILESTONE_OBJECT: mark},
                       LOOKBACK, ME)
    assert "SystemModstamp >= 2030-01-02T09:50:00Z" in sf.queries[0]
    assert len(sf.queries) == 4  # contact roles changed since the Opportunities' mark
    assert "SystemModstamp >= 2030-01-02T09:50:00Z" in sf.queries[3]
    assert pulled.touched == [OPP_B]
    new_mark = pulled.marks[OPPORTUNITY]
    assert new_mark is not None
    assert new_mark.systemmodstamp == dt.datetime(2030, 1, 2, 10, 0, 5, tzinfo=dt.UTC)


def test_a_read_that_finds_nothing_keeps_the_marks_and_touches_nothing() -> None:
    mark = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC))
    marks = {OPPORTUNITY: mark, PLAN_OBJECT: mark, MILESTONE_OBJECT: mark}
    sf = FakeSalesforce()
    pulled = pull.read(sf, marks, LOOKBACK, ME)
    assert sf.composite_calls == 1
    assert pulled.touched == []
    assert pulled.marks == {**marks, "OpportunityContactRole": mark}


def test_a_contact_role_change_touches_its_opportunity_in_the_same_request() -> None:
    mark = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC))
    marks = {OPPORTUNITY: mark, PLAN_OBJECT: mark, MILESTONE_OBJECT: mark}
    sf = FakeSalesforce(rows={"OpportunityContactRole": [
        {"Id": "00K000000000001AAA", "OpportunityId": OPP_C, "ContactId": "003000000000001AAA",
         "Role": "Champion", "SystemModstamp": "2030-01-02T10:00:07.000+0000"}]})
    pulled = pull.read(sf, marks, LOOKBACK, ME)
    assert sf.composite_calls == 1
    assert pulled.touched == [OPP_C]
    role_mark = pulled.marks["OpportunityContactRole"]
    assert role_mark is not None
    assert role_mark.systemmodstamp == dt.datetime(2030, 1, 2, 10, 0, 7, tzinfo=dt.UTC)
