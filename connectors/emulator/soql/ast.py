"""The parsed shape of a SOQL query, independent of any schema or storage.

``parse()`` produces these plain, immutable values; ``compile_query()`` resolves them against
a schema. Keeping the two apart lets the parser be checked against Salesforce's own parser
(which knows no schema) and lets one parsed query be compiled for several orgs.
Every node keeps its 1-based line and column so later errors can point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral

LiteralKind = TypingLiteral[
    "string", "pattern", "number", "boolean", "null", "date", "datetime", "date_constant"
]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class FieldRef:
    """A dotted field path as written: ``Account.Owner.Name`` → ("Account", "Owner", "Name")."""

    parts: tuple[str, ...]
    pos: Position

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Value:
    """A literal on the right of an operator.

    ``value`` by kind: string → decoded text; pattern → an SQLite LIKE pattern using ``\\`` as
    escape; number → int or float; boolean → bool; null → None; date → ``YYYY-MM-DD``;
    datetime → the literal as written; date_constant → (NAME upper-cased, n or None).
    """

    kind: LiteralKind
    value: object
    text: str
    pos: Position


@dataclass(frozen=True)
class Comparison:
    """``field op value`` or ``field op (v1, v2, ...)``.

    ``op`` is one of ``= != < <= > >= LIKE IN NOT_IN INCLUDES EXCLUDES`` (``<>`` reads as ``!=``).
    """

    field: FieldRef
    op: str
    values: tuple[Value, ...]
    pos: Position


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True)
class SelectField:
    field: FieldRef
    alias: str | None = None
    alias_pos: Position | None = None


@dataclass(frozen=True)
class OrderKey:
    """One ORDER BY key, Salesforce's defaults applied (ASC NULLS FIRST, DESC NULLS LAST)."""

    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    """A parsed ``SELECT``; ``fields`` is empty exactly when ``is_count`` (``SELECT COUNT()``)."""

    text: str
    fields: tuple[SelectField, ...]
    is_count: bool
    sobject: str
    sobject_pos: Position
    alias: str | None
    where: Condition | None
    order_by: tuple[OrderKey, ...]
    limit: int | None
    limit_pos: Position | None
    offset: int | None
    offset_pos: Position | None
