"""A stage's CSV built in one read of the spool uploads the bytes a header-first build makes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from connectors.salesforce.bulk_csv import _columns, _parts
from sync.cycle.diff import RecordChange
from sync.cycle.spool_csv import ObjectCsv

KEY = "External_Id__c"


def records() -> list[RecordChange]:
    """Records whose columns grow as they come: a later one brings a column of its own."""
    return [
        RecordChange("MAP_Milestone__c", "006A:kickoff", {
            "Name": " Kickoff ", "Due_Date__c": dt.date(2030, 1, 2), "Sequence__c": 1.0},
            True),
        RecordChange("MAP_Milestone__c", "006A:legal", {
            "Name": 'Legal, "redlines"\nround two', "Due_Date__c": None,
            "Plan__c": "a01000000000001AAA"}, True),
        RecordChange("MAP_Milestone__c", "006B:kickoff", {
            "Sequence__c": 2.5, KEY: "not the key", "Done__c": True}, False),
    ]


def header_first(changes: list[RecordChange], max_bytes: int) -> list[bytes]:
    """The parts as a build that knows every column before its first line makes them."""
    bodies = []
    for change in changes:
        body = change.payload()
        body[KEY] = change.key
        bodies.append(body)
    return [part for _, part in _parts(bodies, _columns(bodies, KEY), max_bytes)]


def one_read(changes: list[RecordChange], max_bytes: int, tmp_path: Path) -> list[bytes]:
    lines = ObjectCsv(tmp_path / "m.lines", KEY)
    try:
        for change in changes:
            lines.add(change)
        out = io.BytesIO()
        parts = []
        for _ in lines.parts(out, max_bytes):
            parts.append(out.getvalue())
        return parts
    finally:
        lines.close()


def test_lines_encoded_before_the_last_column_is_known_upload_as_a_header_first_build(
        tmp_path: Path) -> None:
    expected = header_first(records(), 1_000_000)
    assert len(expected) == 1
    assert one_read(records(), 1_000_000, tmp_path) == expected
    assert not (tmp_path / "m.lines").exists()  # the lines go with the stage
    header, first = expected[0].decode().splitlines()[:2]
    assert header == "External_Id__c,Name,Due_Date__c,Sequence__c,Plan__c,Done__c"
    assert first == "006A:kickoff,Kickoff,2030-01-02,1,,"  # padded to the header's width


def test_parts_are_cut_where_a_header_first_build_cuts_them(tmp_path: Path) -> None:
    for max_bytes in (1, 120, 160, 200):
        assert one_read(records(), max_bytes, tmp_path) == header_first(records(), max_bytes)
    assert len(one_read(records(), 1, tmp_path)) == 3  # a line larger than a part goes alone
