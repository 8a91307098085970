"""Get Updated / Get Deleted windows on their own: what the poll adds to its request, what it
reads back, where each object's mark moves."""

from __future__ import annotations

import datetime as dt

import pytest

from config.errors import MapsyncError
from sync.cycle import pull, updated
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_OBJECT,
    TEAM_MEMBER,
)
from sync.cycle.watermark import row_key
from sync.store.records import Watermark
from tests.cycle.fakes import ME, REP, FakeSalesforce

LOOKBACK = dt.timedelta(minutes=10)
FIELDS = {CONTACT_ROLE: ("OpportunityId", "ContactId", "Role")}
NOW = dt.datetime(2030, 1, 2, 10, 7, 42, tzinfo=dt.UTC)
OPP = "006000000000001AAA"
ROLE_ID = "00K000000000001AAA"


def _mark(at: dt.datetime, *rows: dict) -> Watermark:
    return Watermark(at, frozenset(row_key(r) for r in rows))


def _role(stamp: str = "2030-01-02T10:05:10.000+0000", by: str = REP,
          deleted: bool = False) -> dict:
    return {"Id": ROLE_ID, "IsDeleted": deleted, "SystemModstamp": stamp,
            "LastModifiedById": by, "OpportunityId": OPP, "ContactId": "003000000000001AAA",
            "Role": "Champion"}


def test_window_runs_in_whole_minutes_from_the_mark_to_now() -> None:
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, 0, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    assert prepared.resources() == [
        f"sobjects/{CONTACT_ROLE}/updated/?start=2030-01-02T10%3A03%3A00Z"
        "&end=2030-01-02T10%3A07%3A00Z",
        f"sobjects/{CONTACT_ROLE}/deleted/?start=2030-01-02T10%3A03%3A00Z"
        "&end=2030-01-02T10%3A07%3A00Z"]


def test_window_under_a_minute_is_not_asked_and_its_mark_stays() -> None:
    mark = _mark(dt.datetime(2030, 1, 2, 10, 7, 0, tzinfo=dt.UTC))
    prepared = updated.prepare([CONTACT_ROLE], {CONTACT_ROLE: mark}, NOW, since=None,
                               lookback=LOOKBACK)
    assert prepared.resources() == []
    found = updated.collect(FakeSalesforce(), prepared, [], {CONTACT_ROLE: mark}, FIELDS, ME,
                            NOW)
    assert CONTACT_ROLE not in found.marks  # nothing to commit: the old mark holds


def test_window_older_than_salesforce_answers_for_starts_inside_its_reach() -> None:
    long_ago = _mark(NOW - dt.timedelta(days=40))
    prepared = updated.prepare([CONTACT_ROLE], {CONTACT_ROLE: long_ago}, NOW, since=None,
                               lookback=LOOKBACK)
    [window] = prepared.windows
    assert NOW - window.start < updated.REACH


def test_object_newly_polled_starts_at_the_records_read_position() -> None:
    since = dt.datetime(2030, 1, 2, 9, 58, 30, tzinfo=dt.UTC)
    prepared = updated.prepare([CONTACT_ROLE], {}, NOW, since=since, lookback=LOOKBACK)
    assert prepared.windows[0].start == dt.datetime(2030, 1, 2, 9, 58, tzinfo=dt.UTC)


def test_first_read_asks_nothing_and_marks_the_poll_less_the_lookback() -> None:
    prepared = updated.prepare([CONTACT_ROLE], {}, NOW, since=None, lookback=LOOKBACK)
    assert prepared.resources() == []
    found = updated.collect(FakeSalesforce(), prepared, [], {}, FIELDS, ME, NOW)
    assert found.marks[CONTACT_ROLE] == Watermark(dt.datetime(2030, 1, 2, 9, 57, tzinfo=dt.UTC))


def test_ids_answered_are_read_by_id_and_the_mark_moves_to_latest_date_covered() -> None:
    sf = FakeSalesforce(rows={CONTACT_ROLE: [_role()]}, updated={CONTACT_ROLE: [ROLE_ID]})
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    _, answers = sf.composite_read([], prepared.resources())
    found = updated.collect(sf, prepared, answers, marks, FIELDS, ME, NOW)
    assert sf.composite_calls == 1  # the follow-up read: one call
    assert f"WHERE Id IN ('{ROLE_ID}')" in sf.queries[0]
    assert "OpportunityId" in sf.queries[0]
    assert [r["Id"] for r in found.rows[CONTACT_ROLE]] == [ROLE_ID]
    mark = found.marks[CONTACT_ROLE]
    assert mark is not None
    assert mark.systemmodstamp == dt.datetime(2030, 1, 2, 10, 7, tzinfo=dt.UTC)


def test_latest_date_covered_before_the_end_is_where_the_next_window_starts() -> None:
    sf = FakeSalesforce()
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    open_transaction = "2030-01-02T10:05:00.000+0000"
    answers = [(200, {"ids": [], "latestDateCovered": open_transaction}),
               (200, {"deletedRecords": [], "latestDateCovered": "2030-01-02T10:07:00.000+0000"})]
    found = updated.collect(sf, prepared, answers, marks, FIELDS, ME, NOW)
    mark = found.marks[CONTACT_ROLE]
    assert mark is not None
    assert mark.systemmodstamp == dt.datetime(2030, 1, 2, 10, 5, tzinfo=dt.UTC)
    assert sf.composite_calls == 0  # no Ids: no second call


def test_rows_mapsync_changed_itself_are_its_echo_and_dropped() -> None:
    sf = FakeSalesforce(rows={CONTACT_ROLE: [_role(by=ME)]}, updated={CONTACT_ROLE: [ROLE_ID]})
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    _, answers = sf.composite_read([], prepared.resources())
    assert updated.collect(sf, prepared, answers, marks, FIELDS, ME, NOW).rows[CONTACT_ROLE] == []


def test_row_named_again_by_an_overlapping_window_is_not_handed_on_twice() -> None:
    row = _role(stamp="2030-01-02T10:07:10.000+0000")
    sf = FakeSalesforce(rows={CONTACT_ROLE: [row]}, updated={CONTACT_ROLE: [ROLE_ID]})
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 7, tzinfo=dt.UTC), row)}
    later = NOW + dt.timedelta(minutes=1)
    prepared = updated.prepare([CONTACT_ROLE], marks, later, since=None, lookback=LOOKBACK)
    _, answers = sf.composite_read([], prepared.resources())
    found = updated.collect(sf, prepared, answers, marks, FIELDS, ME, later)
    assert found.rows[CONTACT_ROLE] == []


def test_deleted_ids_are_read_with_their_opportunity_from_the_recycle_bin() -> None:
    sf = FakeSalesforce(rows={CONTACT_ROLE: [_role(deleted=True)]}, gone={CONTACT_ROLE: [ROLE_ID]})
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    _, answers = sf.composite_read([], prepared.resources())
    found = updated.collect(sf, prepared, answers, marks, FIELDS, ME, NOW)
    assert [(r["OpportunityId"], r["IsDeleted"]) for r in found.rows[CONTACT_ROLE]] == [
        (OPP, True)]


def test_window_salesforce_refuses_raises_its_error() -> None:
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    refused = (400, [{"errorCode": "INVALID_REPLICATION_DATE", "message": "bad window"}])
    with pytest.raises(MapsyncError, match="bad window"):
        updated.collect(FakeSalesforce(), prepared, [refused, refused], marks, FIELDS, ME, NOW)


# --- in the poll ---------------------------------------------------------------------------

def _later_marks() -> dict[str, Watermark | None]:
    at = dt.datetime(2030, 1, 2, 10, 0, tzinfo=dt.UTC)
    return {OPPORTUNITY: _mark(at), PLAN_OBJECT: _mark(at), MILESTONE_OBJECT: _mark(at),
            CONTACT_ROLE: _mark(at), TEAM_MEMBER: _mark(at)}


def test_idle_poll_with_contact_role_polling_costs_one_call() -> None:
    sf = FakeSalesforce()
    pulled = pull.read(sf, _later_marks(), LOOKBACK, ME, now=NOW)
    assert sf.composite_calls == 1
    assert len(sf.queries) == 5  # still five queries: Get Updated is no query
    assert [tuple(r.split("/")[1:3]) for r in sf.resources] == [
        (CONTACT_ROLE, "updated"), (CONTACT_ROLE, "deleted"),
        (TEAM_MEMBER, "updated"), (TEAM_MEMBER, "deleted"),
        ("Task", "updated"), ("Task", "deleted")]  # a rep working a milestone's Task
    assert pulled.touched == []
    assert pulled.marks[CONTACT_ROLE] == Watermark(dt.datetime(2030, 1, 2, 10, 7, tzinfo=dt.UTC))


def test_contact_role_change_alone_touches_its_opportunity_in_the_next_poll() -> None:
    sf = FakeSalesforce(rows={CONTACT_ROLE: [_role()]}, updated={CONTACT_ROLE: [ROLE_ID]})
    pulled = pull.read(sf, _later_marks(), LOOKBACK, ME, now=NOW)
    assert pulled.touched == [OPP]
    assert sf.composite_calls == 2  # the poll, and the contact role read by its Id


def test_org_without_teams_asks_for_no_team_members() -> None:
    sf = FakeSalesforce()
    pulled = pull.read(sf, _later_marks(), LOOKBACK, ME, now=NOW, teams=False)
    assert {r.split("/")[1] for r in sf.resources} == {CONTACT_ROLE, "Task"}
    assert TEAM_MEMBER not in pulled.marks


def test_roles_a_first_read_took_are_not_news_when_the_next_window_names_them() -> None:
    role = _role(stamp="2030-01-02T10:07:10.000+0000")
    sf = FakeSalesforce(rows={CONTACT_ROLE: [role]}, server_time=NOW)
    first = pull.read(sf, {}, LOOKBACK, ME, now=NOW, teams=False)
    assert first.roles == {OPP: [("Champion", "003000000000001AAA")]}
    marks = {**_later_marks(), CONTACT_ROLE: first.marks[CONTACT_ROLE]}
    sf.updated = {CONTACT_ROLE: [ROLE_ID]}  # the window of the next minute names it again
    later = NOW + dt.timedelta(minutes=1)
    assert pull.read(sf, marks, LOOKBACK, ME, now=later, teams=False).touched == []


def test_window_naming_more_ids_than_one_call_reads_is_read_by_its_changes() -> None:
    """A cycle that wrote thousands of Tasks sees them all named by the next window; reading
    them back by Id would cost a call per 1,500 to drop them as mapsync's own."""
    named = [f"00T{n:015d}" for n in range(updated.IDS_PER_QUERY * updated.QUERIES_PER_CALL + 1)]
    sf = FakeSalesforce(rows={CONTACT_ROLE: [_role()]}, updated={CONTACT_ROLE: named})
    marks = {CONTACT_ROLE: _mark(dt.datetime(2030, 1, 2, 10, 3, tzinfo=dt.UTC))}
    prepared = updated.prepare([CONTACT_ROLE], marks, NOW, since=None, lookback=LOOKBACK)
    _, answers = sf.composite_read([], prepared.resources())
    found = updated.collect(sf, prepared, answers, marks, FIELDS, ME, NOW)
    assert sf.queries == [
        f"SELECT Id, IsDeleted, SystemModstamp, LastModifiedById, OpportunityId, ContactId, Role "
        f"FROM {CONTACT_ROLE} WHERE SystemModstamp >= 2030-01-02T10:03:00Z "
        f"AND LastModifiedById != '{ME}' ORDER BY SystemModstamp, Id"]
    assert [r["Id"] for r in found.rows[CONTACT_ROLE]] == [ROLE_ID]
    mark = found.marks[CONTACT_ROLE]
    assert mark is not None
    assert mark.systemmodstamp == dt.datetime(2030, 1, 2, 10, 7, tzinfo=dt.UTC)
