"""Rows → Salesforce records: JSON types, nested parents, attribute URLs, columnMetadata, speed."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.soql import compile_query, parse

NOW = datetime(2024, 3, 14, tzinfo=UTC)
ACCOUNT_ID = "001000000000001AAA"
DEAL_ID = "006000000000001AAA"


def _schema() -> Schema:
    system: dict[str, Any] = {"system": True, "createable": False, "updateable": False}
    schema = Schema()
    schema.add(SObjectDef("Account", "001", fields={f.name: f for f in (
        FieldDef("Id", "id", **system), FieldDef("IsDeleted", "boolean", **system),
        FieldDef("Name", "string"))}))
    schema.add(SObjectDef("Deal__c", "a02", custom=True, fields={f.name: f for f in (
        FieldDef("Id", "id", **system), FieldDef("IsDeleted", "boolean", **system),
        FieldDef("Name", "string"), FieldDef("Won__c", "boolean", custom=True),
        FieldDef("Seats__c", "int", custom=True), FieldDef("Amount__c", "currency", custom=True),
        FieldDef("Close__c", "date", custom=True),
        FieldDef("Seen__c", "datetime", custom=True, updateable=False),
        FieldDef("Account__c", "reference", custom=True, reference_to=("Account",),
                 relationship_name="Account__r"))}))
    return schema


SCHEMA = _schema()


def _db(deals: list[tuple[Any, ...]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE "Account" ("Id" TEXT PRIMARY KEY, "IsDeleted" INTEGER, "Name" TEXT)')
    db.execute('CREATE TABLE "Deal__c" ("Id" TEXT PRIMARY KEY, "IsDeleted" INTEGER, '
               '"Name" TEXT, "Won__c" INTEGER, "Seats__c" INTEGER, "Amount__c" REAL, '
               '"Close__c" TEXT, "Seen__c" TEXT, "Account__c" TEXT)')
    db.execute('INSERT INTO "Account" VALUES (?, 0, ?)', (ACCOUNT_ID, "Acme"))
    db.executemany('INSERT INTO "Deal__c" VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)', deals)
    return db


SOQL = ("SELECT Id, Name, Won__c, Seats__c, Amount__c, Close__c, Seen__c, Account__r.Name "
        "FROM Deal__c")


def test_values_come_back_typed_as_salesforce_returns_them() -> None:
    db = _db([(DEAL_ID, "Big", 1, 12, 1000, "2024-03-31", "2024-03-01T09:30:00.000+0000",
               ACCOUNT_ID)])
    cq = compile_query(parse(SOQL), SCHEMA, now=NOW, api_version="52.0")
    record = cq.shape(next(iter(db.execute(cq.sql, cq.params))))
    assert record == {
        "attributes": {"type": "Deal__c",
                       "url": f"/services/data/v52.0/sobjects/Deal__c/{DEAL_ID}"},
        "Id": DEAL_ID, "Name": "Big", "Won__c": True, "Seats__c": 12, "Amount__c": 1000.0,
        "Close__c": "2024-03-31", "Seen__c": "2024-03-01T09:30:00.000+0000",
        "Account__r": {
            "attributes": {"type": "Account",
                           "url": f"/services/data/v52.0/sobjects/Account/{ACCOUNT_ID}"},
            "Name": "Acme"},
    }
    assert type(record["Won__c"]) is bool
    assert type(record["Amount__c"]) is float
    assert list(record) == ["attributes", "Id", "Name", "Won__c", "Seats__c", "Amount__c",
                            "Close__c", "Seen__c", "Account__r"]


def test_nulls_stay_null_and_false_is_false() -> None:
    db = _db([(DEAL_ID, "Small", 0, None, None, None, None, None)])
    cq = compile_query(parse(SOQL), SCHEMA, now=NOW)
    record = cq.shape(next(iter(db.execute(cq.sql, cq.params))))
    assert record["Won__c"] is False
    assert record["Seats__c"] is None
    assert record["Amount__c"] is None
    assert record["Account__r"] is None


def test_column_metadata_describes_each_selected_column() -> None:
    cq = compile_query(parse("SELECT Name, Won__c, Account__r.Name, Amount__c FROM Deal__c"),
                       SCHEMA, now=NOW)
    meta = cq.column_metadata()
    assert [m["columnName"] for m in meta] == ["Name", "Won__c", "Account__r", "Amount__c"]
    assert meta[1] == {
        "aggregate": False, "apexType": "Boolean", "booleanType": True, "columnName": "Won__c",
        "custom": True, "displayName": "Won__c", "foreignKeyName": None, "insertable": True,
        "joinColumns": [], "numberType": False, "textType": False, "updatable": True}
    join = meta[2]["joinColumns"]
    assert [(j["columnName"], j["displayName"], j["textType"]) for j in join] \
        == [("Name", "Account__r.Name", True)]
    assert meta[3]["numberType"]
    assert meta[3]["apexType"] == "Decimal"


def test_count_has_one_aggregate_column_and_no_records() -> None:
    cq = compile_query(parse("SELECT COUNT() FROM Deal__c"), SCHEMA, now=NOW)
    assert cq.is_count
    assert cq.column_metadata()[0]["aggregate"] is True
    with pytest.raises(ValueError, match="COUNT"):
        cq.shape(())


def test_shaping_100k_rows_end_to_end_beats_20k_rows_per_second() -> None:
    rows = [(f"a02{n:012d}AAA", f"Deal {n}", n % 2, n, n * 1.5, "2024-03-31",
             "2024-03-01T09:30:00.000+0000", ACCOUNT_ID if n % 3 else None)
            for n in range(100_000)]
    db = _db(rows)
    cq = compile_query(parse(SOQL + " WHERE Seats__c >= 0"), SCHEMA, now=NOW)
    started = time.perf_counter()
    records = [cq.shape(r) for r in db.execute(cq.sql, cq.params)]
    elapsed = time.perf_counter() - started
    assert len(records) == 100_000
    assert records[1]["Account__r"]["Name"] == "Acme"
    assert 100_000 / elapsed > 20_000
