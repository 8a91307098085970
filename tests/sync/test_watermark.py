"""Read positions: lookback re-reads, tie-breaks by Id, late commits are not lost."""

from __future__ import annotations

import datetime as dt

from sync.cycle.watermark import advance, parse_stamp, read_from, unseen
from sync.store.records import Watermark

LOOKBACK = dt.timedelta(minutes=5)


def row(rid: str, stamp: str) -> dict[str, str]:
    return {"Id": rid, "SystemModstamp": stamp}


def test_salesforce_datetime_formats_parse_to_utc():
    noon = dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC)
    assert parse_stamp("2024-01-31T12:00:00.000+0000") == noon
    assert parse_stamp("2024-01-31T13:00:00.000+0100") == noon
    assert parse_stamp("2024-01-31T12:00:00Z") == noon


def test_first_read_is_full_and_later_reads_start_a_lookback_before_the_mark():
    assert read_from(None, LOOKBACK) is None
    mark = Watermark(dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC))
    assert read_from(mark, LOOKBACK) == dt.datetime(2024, 1, 31, 11, 55, tzinfo=dt.UTC)


def test_rows_at_the_same_instant_are_taken_once():
    first = [row("a", "2024-01-31T12:00:00.000+0000"), row("b", "2024-01-31T12:00:00.000+0000")]
    mark = advance(None, first, LOOKBACK)
    again = [*first, row("c", "2024-01-31T12:00:00.000+0000")]
    assert [r["Id"] for r in unseen(again, mark)] == ["c"]


def test_late_commit_with_an_older_stamp_is_still_taken():
    mark = advance(None, [row("a", "2024-01-31T12:00:00.000+0000")], LOOKBACK)
    late = row("late", "2024-01-31T11:58:00.000+0000")  # committed after 'a' was read
    assert unseen([row("a", "2024-01-31T12:00:00.000+0000"), late], mark) == [late]


def test_a_row_changed_again_is_taken_again():
    mark = advance(None, [row("a", "2024-01-31T12:00:00.000+0000")], LOOKBACK)
    changed = row("a", "2024-01-31T12:01:00.000+0000")
    assert unseen([changed], mark) == [changed]


def test_keys_older_than_the_lookback_window_are_forgotten():
    mark = advance(None, [row("old", "2024-01-31T11:00:00.000+0000")], LOOKBACK)
    mark = advance(mark, [row("new", "2024-01-31T12:00:00.000+0000")], LOOKBACK)
    assert mark is not None
    assert mark.systemmodstamp == dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC)
    assert [k.partition("#")[0] for k in mark.ids_at] == ["new@2024-01-31T12:00:00.000+0000"]


def test_watermark_never_moves_back():
    mark = advance(None, [row("a", "2024-01-31T12:00:00.000+0000")], LOOKBACK)
    later = advance(mark, [row("late", "2024-01-31T11:58:00.000+0000")], LOOKBACK)
    assert later is not None
    assert mark is not None
    assert later.systemmodstamp == mark.systemmodstamp
    assert "late@2024-01-31T11:58:00.000+0000" in {k.partition("#")[0] for k in later.ids_at}


def test_a_row_changed_again_within_the_same_second_is_taken_again():
    # Salesforce stamps to the whole second: both versions carry the same SystemModstamp
    first = {**row("a", "2024-01-31T12:00:00.000+0000"), "StageName": "Qualification"}
    mark = advance(None, [first], LOOKBACK)
    second = {**first, "StageName": "Closed Won"}
    assert unseen([first], mark) == []
    assert unseen([second], mark) == [second]
    both = advance(mark, [second], LOOKBACK)
    assert both is not None
    assert unseen([first, second], both) == []
