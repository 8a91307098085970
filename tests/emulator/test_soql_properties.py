"""Properties: LIKE and boolean filters agree with a plain Python reference on any input."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.soql import compile_query, parse
from connectors.emulator.soql.literals import id18

NOW = datetime(2024, 3, 14, tzinfo=UTC)
SCHEMA = Schema()
SCHEMA.add(SObjectDef("Thing__c", "a05", fields={f.name: f for f in (
    FieldDef("Id", "id"), FieldDef("IsDeleted", "boolean"), FieldDef("Name", "string"),
    FieldDef("Size__c", "double"))}))

# -- LIKE -------------------------------------------------------------------------------------

Piece = tuple[str, str]  # ("any" | "one" | "lit", character)
_CHARS = "aAbB%_\\' x"
pieces = st.lists(st.one_of(st.just(("any", "")), st.just(("one", "")),
                            st.tuples(st.just("lit"), st.sampled_from(_CHARS))), max_size=8)


def _soql_literal(pattern: list[Piece]) -> str:
    out = []
    for kind, ch in pattern:
        if kind == "any":
            out.append("%")
        elif kind == "one":
            out.append("_")
        else:
            out.append({"%": "\\%", "_": "\\_", "'": "\\'", "\\": "\\\\"}.get(ch, ch))
    return "'" + "".join(out) + "'"


def _reference(pattern: list[Piece], text: str) -> bool:
    regex = "".join(".*" if k == "any" else "." if k == "one" else re.escape(c)
                    for k, c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL | re.ASCII) is not None


def _db(rows: list[tuple[str | None, float | None]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE "Thing__c" ("Id" TEXT PRIMARY KEY, "IsDeleted" INTEGER, '
               '"Name" TEXT, "Size__c" REAL)')
    db.executemany('INSERT INTO "Thing__c" VALUES (?, 0, ?, ?)',
                   [(f"a05{n:012d}AAA", name, size) for n, (name, size) in enumerate(rows)])
    return db


@settings(max_examples=150, deadline=None)
@given(pattern=pieces, text=st.text(alphabet=_CHARS, max_size=8))
def test_like_matches_exactly_what_the_reference_matches(pattern: list[Piece], text: str) -> None:
    db = _db([(text, None)])
    cq = compile_query(parse(f"SELECT Id FROM Thing__c WHERE Name LIKE {_soql_literal(pattern)}"),
                       SCHEMA, now=NOW)
    found = db.execute(cq.sql, cq.params).fetchall() != []
    assert found == _reference(pattern, text)


# -- boolean filters with nulls -----------------------------------------------------------------

Row = tuple[str | None, float | None]
_NAMES = ["a", "B", None]
_SIZES = [1.0, 2.0, None]

leaf = st.one_of(
    st.tuples(st.just("Name"), st.sampled_from(["=", "!="]), st.sampled_from(["'a'", "'b'",
                                                                                "null"])),
    st.tuples(st.just("Size__c"), st.sampled_from(["=", "!=", "<", ">="]),
              st.sampled_from(["1", "2", "null"])),
    st.tuples(st.just("Size__c"), st.sampled_from(["IN", "NOT IN"]),
              st.sampled_from(["(1)", "(1, null)", "(2, 3)"])),
)
conditions = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(st.just("NOT"), inner),
        st.tuples(st.sampled_from(["AND", "OR"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)


def _render(cond: tuple[Any, ...]) -> str:
    if cond[0] == "NOT":
        return f"(NOT {_render(cond[1])})"
    if cond[0] in ("AND", "OR"):
        return "(" + f" {cond[0]} ".join(_render(c) for c in cond[1]) + ")"
    return f"{cond[0]} {cond[1]} {cond[2]}"


def _literal(text: str) -> object:
    return None if text == "null" else text.strip("'") if text.startswith("'") else float(text)


def _holds(cond: tuple[Any, ...], row: Row) -> bool:
    """SOQL's two-valued reading: a null field equals only null and differs from any value."""
    if cond[0] == "NOT":
        return not _holds(cond[1], row)
    if cond[0] == "AND":
        return all(_holds(c, row) for c in cond[1])
    if cond[0] == "OR":
        return any(_holds(c, row) for c in cond[1])
    field, op, raw = cond
    value = row[0].lower() if field == "Name" and row[0] is not None else row[0] \
        if field == "Name" else row[1]
    if op in ("IN", "NOT IN"):
        options = [_literal(v.strip()) for v in raw.strip("()").split(",")]
        return (value in options) == (op == "IN")
    other = _literal(raw)
    if op == "=":
        return value == other
    if op == "!=":
        return value != other
    if value is None or other is None:
        return False
    assert isinstance(value, float)
    assert isinstance(other, float)
    return value < other if op == "<" else value >= other


@settings(max_examples=150, deadline=None)
@given(cond=conditions)
def test_filters_follow_soql_two_valued_null_logic(cond: tuple[Any, ...]) -> None:
    rows = [(name, size) for name in _NAMES for size in _SIZES]
    db = _db(rows)
    where = _render(cond)
    if where.startswith("(") and where.endswith(")") and cond[0] != "NOT":
        where = where[1:-1]
    cq = compile_query(parse(f"SELECT Name, Size__c FROM Thing__c WHERE {where}"), SCHEMA,
                       now=NOW)
    found = sorted(((r[1], r[2]) for r in db.execute(cq.sql, cq.params)), key=repr)
    expected = sorted((row for row in rows if _holds(cond, row)), key=repr)
    assert found == expected


# -- Ids --------------------------------------------------------------------------------------

@given(st.text(alphabet="abcXYZ0189", min_size=15, max_size=15))
def test_an_18_character_id_is_its_15_characters_plus_a_case_checksum(base: str) -> None:
    full = id18(base)
    assert full is not None
    assert full[:15] == base
    assert id18(full) == full
    assert id18(full[:15] + full[15:].lower()) == full
    assert id18(base.swapcase()) != full or base == base.swapcase()
