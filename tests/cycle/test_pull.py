"""Pull on its own: what it asks Salesforce, what it hands on, where it moves the read position."""

from __future__ import annotations

import datetime as dt

from sync.cycle import pull
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.cycle.watermark import row_key
from sync.store.records import Watermark
from tests.cycle.fakes import ME, REP, FakeSalesforce, opportunity

LOOKBACK = dt.timedelta(minutes=10)
OPP_A, OPP_B, OPP_C = "006000000000001AAA", "006000000000002AAA", "006000000000003AAA"


def test_a_first_read_asks_for_everything_and_every_contact_role_in_one_request() -> None:
    sf = FakeSalesforce(rows={OPPORTUNITY: [opportunity(OPP_A)], "OpportunityContactRole": [
        {"Id": "00K000000000001AAA", "OpportunityId": OPP_A, "ContactId": "003000000000001AAA",
         "Role": "Champion", "SystemModstamp": "2030-01-02T10:00:00.000+0000"}]})
    pulled = pull.read(sf, {}, LOOKBACK, ME, teams=False)
    assert sf.composite_calls == 1
    assert len(sf.queries) == 5  # three objects, stage history and contact roles
    assert all("SystemModstamp >=" not in q for q in sf.queries)
    assert all(f"LastModifiedById != '{ME}'" in q for q in sf.queries[:3])  # echo left out
    assert "FROM OpportunityHistory WHERE CreatedDate >= YESTERDAY" in sf.queries[3]
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
    taken = opportunity(OPP_A, stamp=stamp)
    mark = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC), frozenset({row_key(taken)}))
    sf = FakeSalesforce(rows={OPPORTUNITY: [
        taken, opportunity(OPP_B, stamp="2030-01-02T10:00:05.000+0000")]})
    pulled = pull.read(sf, {OPPORTUNITY: mark, PLAN_OBJECT: mark, MILESTONE_OBJECT: mark},
                       LOOKBACK, ME)
    assert "SystemModstamp >= 2030-01-02T09:50:00Z" in sf.queries[0]
    assert len(sf.queries) == 5  # three objects and two histories; contact roles on a first read
    assert sf.composite_calls == 1
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
    assert {obj: pulled.marks[obj] for obj in marks} == marks


def test_a_reps_change_masked_by_a_later_write_of_mapsyncs_is_found_in_history() -> None:
    mark = Watermark(dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC))
    marks = {OPPORTUNITY: mark, PLAN_OBJECT: mark, MILESTONE_OBJECT: mark}
    sf = FakeSalesforce(rows={
        "OpportunityHistory": [{"Id": "008000000000001AAA", "OpportunityId": OPP_A,
                                "StageName": "Closed Won", "CreatedById": REP,
                                "CreatedDate": "2030-01-02T10:00:03.000+0000"}],
        "MAP_Milestone__History": [{
            "Id": "017000000000001AAA", "ParentId": "a01000000000001AAA", "Field": "Status__c",
            "Parent": {"External_Id__c": f"{OPP_B}:legal"}, "CreatedById": REP,
            "CreatedDate": "2030-01-02T10:00:04.000+0000"}]})
    pulled = pull.read(sf, marks, LOOKBACK, ME)
    assert sf.composite_calls == 1
    history = [q for q in sf.queries if "History" in q]
    assert len(history) == 2
    assert all(f"CreatedById != '{ME}'" in q for q in history)
    assert all("CreatedDate >= 2030-01-02T09:50:00Z" in q for q in history)
    assert sorted(pulled.touched) == [OPP_A, OPP_B]


def test_a_first_read_takes_every_opportunity_team_member_in_one_more_call() -> None:
    sf = FakeSalesforce(rows={OPPORTUNITY: [opportunity(OPP_A)], "OpportunityTeamMember": [
        {"OpportunityId": OPP_A, "UserId": REP, "TeamMemberRole": "Solutions Engineer"}]})
    pulled = pull.read(sf, {}, LOOKBACK, ME)
    assert sf.composite_calls == 2
    assert "FROM OpportunityTeamMember ORDER BY" in sf.queries[-1]
    assert pulled.team == {OPP_A: [("Solutions Engineer", REP)]}
