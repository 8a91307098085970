"""WHERE → SQL with bound parameters, keeping Salesforce's semantics.

SQLite evaluates the filter, so indexes apply and nothing is filtered in Python. Where SOQL
differs from SQL, the SQL is shaped to follow SOQL:
- text compares case-insensitively (``COLLATE NOCASE``; ASCII folding), unless the field is
  case-sensitive; Ids compare exactly after normalising 15-character Ids to 18;
- an empty string on a text or Id field means null, since Salesforce stores '' as null;
- ``!=``, ``NOT IN`` and ``EXCLUDES`` match rows whose field is null, and ``NOT`` is two-valued
  (a null comparison is false, so its negation is true), unlike SQL's three-valued logic;
- a date constant is a range of days; on a datetime field the range is in UTC;
- ``INCLUDES ('A;B', 'C')`` means (A and B) or C over the ``;``-joined multi-select value.
"""

from __future__ import annotations

from datetime import date

from connectors.emulator.schema import TEXT_TYPES, FieldDef
from connectors.emulator.soql import ast
from connectors.emulator.soql.dates import CONSTANTS, day_range
from connectors.emulator.soql.errors import at
from connectors.emulator.soql.literals import ID_TYPES, LiteralChecker, day_start
from connectors.emulator.soql.resolve import Resolver

_RANGE_OPS = {"=", "!=", "<", "<=", ">", ">="}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FilterCompiler:
    """Compiles one query's WHERE clause; parameters accumulate in ``params``."""

    def __init__(self, resolver: Resolver, today_iso: str) -> None:
        self.resolver = resolver
        self.text = resolver.query.text
        self.checker = LiteralChecker(self.text)
        self.today = today_iso
        self.params: list[object] = []

    def condition(self, cond: ast.Condition) -> str:
        if isinstance(cond, ast.And):
            return "(" + " AND ".join(self.condition(c) for c in cond.items) + ")"
        if isinstance(cond, ast.Or):
            return "(" + " OR ".join(self.condition(c) for c in cond.items) + ")"
        if isinstance(cond, ast.Not):
            return f"(NOT coalesce({self.condition(cond.item)}, 0))"
        return self.comparison(cond)

    def _param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def _error(self, code: str, pos: ast.Position, reason: str) -> Exception:
        return at(code, self.text, pos.line, pos.column, reason)

    def comparison(self, c: ast.Comparison) -> str:
        column = self.resolver.resolve(c.field)
        f = column.field
        col = column.sql
        if (f.type == "textarea" and f.length > 255) or f.type == "anytype":
            raise self._error("INVALID_FIELD", c.field.pos,
                              f"field '{f.name}' can not be filtered in a query call")
        if c.op in ("INCLUDES", "EXCLUDES"):
            return self._multiselect(c, f, col)
        if c.op == "LIKE":
            return self._like(c, f, col)
        if c.op in ("IN", "NOT_IN"):
            return self._membership(c, f, col)
        return self._single(c.op, c.values[0], f, col)

    def _collate(self, f: FieldDef) -> str:
        text = f.type in TEXT_TYPES and f.type not in ID_TYPES and not f.case_sensitive
        return " COLLATE NOCASE" if text else ""

    def _is_null(self, v: ast.Value, f: FieldDef) -> bool:
        return v.kind == "null" or (v.kind == "string" and v.value == "" and f.type in TEXT_TYPES)

    def _single(self, op: str, v: ast.Value, f: FieldDef, col: str) -> str:
        if self._is_null(v, f):
            if op == "=":
                return f"{col} IS NULL"
            if op == "!=":
                return f"{col} IS NOT NULL"
            return "0"
        if v.kind == "date_constant":
            return self._range(op, v, f, col)
        value = self.checker.scalar(f, v)
        collate = self._collate(f)
        if op == "=":
            return f"{col} = {self._param(value)}{collate}"
        if op == "!=":
            return f"{col} IS NOT {self._param(value)}{collate}"
        return f"{col} {op} {self._param(value)}{collate}"

    def _range(self, op: str, v: ast.Value, f: FieldDef, col: str) -> str:
        if f.type not in ("date", "datetime"):
            raise self.checker._wrong_type(f, v)
        assert isinstance(v.value, tuple)
        name: str = v.value[0]
        n: int | None = v.value[1]
        if CONSTANTS[name] != (n is not None) and name not in ("LAST_90_DAYS", "NEXT_90_DAYS"):
            raise self._error("MALFORMED_QUERY", v.pos,
                              f"Invalid date literal: {v.text}")
        first, end = day_range(name, n, date.fromisoformat(self.today))
        lo, hi = (first.isoformat(), end.isoformat()) if f.type == "date" \
            else (day_start(first), day_start(end))
        if op == "=":
            return f"({col} >= {self._param(lo)} AND {col} < {self._param(hi)})"
        if op == "!=":
            return f"({col} IS NULL OR {col} < {self._param(lo)} OR {col} >= {self._param(hi)})"
        bound = {"<": ("<", lo), "<=": ("<", hi), ">": (">=", hi), ">=": (">=", lo)}[op]
        return f"{col} {bound[0]} {self._param(bound[1])}"

    def _like(self, c: ast.Comparison, f: FieldDef, col: str) -> str:
        v = c.values[0]
        if f.type not in TEXT_TYPES or f.type == "multipicklist":
            raise self._error("INVALID_FIELD", c.field.pos,
                              f"invalid operator on {f.type} field: LIKE")
        if v.kind != "pattern":
            raise self.checker._wrong_type(f, v)
        return f"{col} LIKE {self._param(v.value)} ESCAPE '\\'"

    def _membership(self, c: ast.Comparison, f: FieldDef, col: str) -> str:
        has_null = any(self._is_null(v, f) for v in c.values)
        ranges = [v for v in c.values if v.kind == "date_constant"]
        plain = [v for v in c.values if v.kind != "date_constant" and not self._is_null(v, f)]
        parts: list[str] = []
        if plain:
            marks = ", ".join(self._param(self.checker.scalar(f, v)) for v in plain)
            parts.append(f"{col}{self._collate(f)} IN ({marks})")
        parts.extend(self._range("=", v, f, col) for v in ranges)
        if has_null:
            parts.append(f"{col} IS NULL")
        inside = " OR ".join(parts)
        if c.op == "IN":
            return f"({inside})"
        return f"(NOT coalesce({inside}, 0))"

    def _multiselect(self, c: ast.Comparison, f: FieldDef, col: str) -> str:
        if f.type != "multipicklist":
            raise self._error("INVALID_QUERY_FILTER_OPERATOR", c.field.pos,
                              "includes or excludes operator only valid on multipicklist field")
        groups: list[str] = []
        for v in c.values:
            if v.kind != "string":
                raise self.checker._wrong_type(f, v)
            assert isinstance(v.value, str)
            terms = [t.strip() for t in v.value.split(";") if t.strip()]
            tests = [f"(';' || {col} || ';') LIKE {self._param('%;' + _escape_like(t) + ';%')}"
                     " ESCAPE '\\'" for t in terms]
            groups.append("(" + " AND ".join(tests or ["0"]) + ")")
        inside = " OR ".join(groups)
        if c.op == "INCLUDES":
            return f"({inside})"
        return f"(NOT coalesce({inside}, 0))"
