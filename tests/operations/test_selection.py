"""A backfill's selection: options become one quoted query; the cursor orders and resumes."""

from __future__ import annotations

import datetime as dt
import itertools

from sync.jobs.selection import Cursor, Selection, in_order, rows_after, typed


def test_filters_become_quoted_soql_never_raw_text():
    selection = Selection(since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 31),
                          stages=("Needs Analysis", "x' OR Name != 'y"), types=("New Business",))
    soql = selection.soql()
    assert "CreatedDate >= 2024-01-01T00:00:00Z" in soql
    assert "CreatedDate < 2024-02-01T00:00:00Z" in soql  # --until is inclusive
    assert "StageName IN ('Needs Analysis','x\\' OR Name != \\'y')" in soql
    assert "Type IN ('New Business')" in soql
    assert soql.endswith("ORDER BY CreatedDate, Id")


def test_the_same_options_resume_the_same_backfill_and_others_do_not():
    a = Selection(stages=("Qualification", "Prospecting"))
    b = Selection(stages=("Prospecting", "Qualification"))
    assert a.key("00D1", False) == b.key("00D1", False)
    assert a.key("00D1", False) != a.key("00D1", True)
    assert a.key("00D1", False) != Selection().key("00D1", False)
    assert Selection.from_parameters(a.parameters()).parameters() == a.parameters()


def test_rows_of_the_cursors_second_already_done_are_not_taken_again():
    stamp = "2024-03-01T10:00:00.250+0000"
    rows = [{"Id": "006A", "CreatedDate": stamp}, {"Id": "006B", "CreatedDate": stamp},
            {"Id": "006C", "CreatedDate": "2024-03-01T10:00:00.900+0000"}]
    cursor = Cursor.of(rows[1])
    assert [r["Id"] for r in rows_after(iter(rows), cursor)] == ["006C"]
    assert Cursor.decode(cursor.encode()) == cursor
    assert "CreatedDate >= 2024-03-01T10:00:00Z" in Selection().soql(cursor)


def test_bulk_rows_read_like_rest_rows():
    row = typed({"Id": "006A", "IsDeleted": "false", "Amount": "1500.5", "Type": "",
                 "MAP_Percent_Complete__c": ""})
    assert row == {"Id": "006A", "IsDeleted": False, "Amount": 1500.5, "Type": None,
                   "MAP_Percent_Complete__c": None}


def test_a_bulk_selection_query_carries_no_order_by():
    selection = Selection(stages=("Needs Analysis",))
    assert "ORDER BY" not in selection.soql(ordered=False)
    assert selection.soql(ordered=False) + " ORDER BY CreatedDate, Id" == selection.soql()


def test_rows_of_an_unordered_bulk_read_are_put_in_cursor_order():
    rows = [{"Id": f"006{n:03d}", "CreatedDate": f"2024-03-01T10:00:{n % 7:02d}.000+0000",
             "Amount": float(n), "IsDeleted": False} for n in range(40)]
    shuffled = rows[::3] + rows[1::3] + rows[2::3]
    ordered = list(in_order(iter(shuffled)))
    assert ordered == sorted(rows, key=lambda r: (r["CreatedDate"], r["Id"]))
    keys = [Cursor.of(r) for r in ordered]
    assert all(b.is_after(a) for a, b in itertools.pairwise(keys))
