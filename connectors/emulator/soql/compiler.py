"""A parsed query + the org's schema → one SQLite statement and the recipe to shape its rows.

This is where names meet the schema (unknown object → INVALID_TYPE, unknown field →
INVALID_FIELD), literals meet field types, and the query becomes SQL over the storage layout
described in ``connectors/emulator/schema.py``: one table per object, parents reached by LEFT
JOINs, the filter, order, LIMIT and OFFSET all evaluated by SQLite with bound parameters.
Results are always in a deterministic order: ``Id`` breaks every tie.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.emulator.schema import Schema, SObjectDef
from connectors.emulator.soql import ast
from connectors.emulator.soql.errors import at, unknown_sobject
from connectors.emulator.soql.filters import FilterCompiler
from connectors.emulator.soql.records import (
    RecordPlan,
    column_metadata,
    converter,
    count_metadata,
    relationship_metadata,
    url_prefix,
)
from connectors.emulator.soql.resolve import Resolver, Table, quote

MAX_OFFSET = 2000


@dataclass
class CompiledQuery:
    """A query ready to run against the local org's SQLite storage.

    ``sql``/``params`` return, for ``SELECT COUNT()``, one row holding the count; otherwise one
    row per record, which ``shape(row)`` turns into Salesforce's JSON record (attribute URLs
    carry the ``api_version`` given to ``compile_query``). LIMIT and OFFSET are part of ``sql``;
    ``limit``/``offset`` repeat what the query asked for (None when absent).
    """

    sobject: str
    sql: str
    params: tuple[Any, ...]
    is_count: bool
    limit: int | None
    offset: int | None
    plan: RecordPlan | None = field(repr=False, default=None)
    metadata: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def shape(self, row: Sequence[Any]) -> dict[str, Any]:
        """One row of ``sql`` as a Salesforce record (not for COUNT() queries)."""
        if self.plan is None:
            raise ValueError("a COUNT() query has no records to shape")
        return self.plan.build(row)

    def column_metadata(self) -> list[dict[str, Any]]:
        """``columnMetadata`` for ``/query?columns=true``."""
        return self.metadata


def compile_query(query: ast.Query, schema: Schema, include_deleted: bool = False,
                  now: datetime | None = None, api_version: str = "59.0",
                  row_filter: Callable[[SObjectDef, str], str | None] | None = None
                  ) -> CompiledQuery:
    """Compile ``query`` for ``schema``'s storage.

    ``include_deleted`` is queryAll (rows with ``IsDeleted = 1`` too); ``now`` (UTC, default
    the current time) anchors date constants such as TODAY; ``api_version`` goes into the
    records' ``attributes.url``; ``row_filter(object, alias)`` gives SQL (no parameters)
    keeping only the rows the querying user may see, as sharing does.
    """
    root = schema.get(query.sobject)
    if root is None:
        raise unknown_sobject(query.text, query.sobject_pos.line, query.sobject_pos.column,
                              query.sobject)
    now = now or datetime.now(UTC)
    resolver = Resolver(query, schema, root)
    _check_counts(query)
    if query.is_count:
        plan: RecordPlan | None = None
        metadata = count_metadata()
        columns: list[str] = []
    else:
        plan, metadata, columns = _select(query, resolver, api_version)
    filters = FilterCompiler(resolver, now.astimezone(UTC).date().isoformat())
    where = [] if include_deleted else ['t0."IsDeleted" = 0']
    visible = row_filter(root, "t0") if row_filter is not None else None
    if visible:
        where.append(visible)
    if query.where is not None:
        where.append(filters.condition(query.where))
    order = _order(query, resolver)
    body = f" FROM {quote(root.name)} AS t0{resolver.joins_sql()}"
    if where:
        body += " WHERE " + " AND ".join(where)
    params = list(filters.params)
    paging = ""
    if query.limit is not None or query.offset is not None:
        paging = " LIMIT ? OFFSET ?"
        params += [-1 if query.limit is None else query.limit, query.offset or 0]
    if query.is_count:
        sql = f"SELECT COUNT(*) FROM (SELECT 1{body}{paging})" if paging \
            else f"SELECT COUNT(*){body}"
    else:
        sql = f"SELECT {', '.join(columns)}{body} ORDER BY {order}{paging}"
    return CompiledQuery(root.name, sql, tuple(params), query.is_count, query.limit,
                         query.offset, plan, metadata)


def _check_counts(query: ast.Query) -> None:
    if query.limit is not None and query.limit < 0 and query.limit_pos is not None:
        raise at("MALFORMED_QUERY", query.text, query.limit_pos.line, query.limit_pos.column,
                 "LIMIT must be a non-negative integer")
    if query.offset is not None and query.offset_pos is not None:
        if query.offset < 0:
            raise at("MALFORMED_QUERY", query.text, query.offset_pos.line,
                     query.offset_pos.column, "OFFSET must be a non-negative integer")
        if query.offset > MAX_OFFSET:
            raise at("NUMBER_OUTSIDE_VALID_RANGE", query.text, query.offset_pos.line,
                     query.offset_pos.column, f"Maximum SOQL offset allowed is {MAX_OFFSET}")


def _select(query: ast.Query, resolver: Resolver,
            api_version: str) -> tuple[RecordPlan, list[dict[str, Any]], list[str]]:
    columns = [resolver.root.column("Id")]
    plans: dict[str, RecordPlan] = {
        "t0": RecordPlan(resolver.root.sobject.name, 0, url_prefix(api_version,
                                                                   resolver.root.sobject))
    }
    metas: dict[str, list[dict[str, Any]]] = {"t0": []}
    seen: set[tuple[str, str]] = set()
    for item in query.fields:
        if item.alias is not None and item.alias_pos is not None:
            raise at("MALFORMED_QUERY", query.text, item.alias_pos.line, item.alias_pos.column,
                     "Only aggregate expressions use field aliasing")
        column = resolver.resolve(item.field)
        key = (column.table.alias, column.field.name)
        if key in seen:
            raise at("INVALID_FIELD", query.text, item.field.pos.line, item.field.pos.column,
                     f"duplicate field selected: {column.field.name}")
        seen.add(key)
        table = column.table
        _ensure_plan(table, plans, metas, columns, api_version)
        columns.append(column.sql)
        plans[table.alias].entries.append(
            (column.field.name, len(columns) - 1, converter(column.field), None))
        display = ".".join((*table.path, column.field.name))
        metas[table.alias].append(column_metadata(column.field, display))
    return plans["t0"], metas["t0"], columns


def _ensure_plan(table: Table, plans: dict[str, RecordPlan],
                 metas: dict[str, list[dict[str, Any]]], columns: list[str],
                 api_version: str) -> None:
    """Create the nested record plan (and its parents') the first time a table is selected."""
    if table.alias in plans or table.parent is None or table.reference is None:
        return
    _ensure_plan(table.parent, plans, metas, columns, api_version)
    columns.append(table.column("Id"))
    plan = RecordPlan(table.sobject.name, len(columns) - 1, url_prefix(api_version, table.sobject))
    plans[table.alias] = plan
    name = table.path[-1]
    plans[table.parent.alias].entries.append((name, len(columns) - 1, None, plan))
    metas[table.alias] = []
    metas[table.parent.alias].append(
        relationship_metadata(name, table.sobject, table.reference.custom, metas[table.alias]))


def _order(query: ast.Query, resolver: Resolver) -> str:
    keys: list[str] = []
    has_id = False
    for key in query.order_by:
        column = resolver.resolve(key.field)
        if (column.field.type == "textarea" and column.field.length > 255) or \
                column.field.type == "anytype":
            raise at("INVALID_FIELD", query.text, key.field.pos.line, key.field.pos.column,
                     f"field '{column.field.name}' can not be sorted in a query call")
        collate = " COLLATE NOCASE" if column.field.type not in ("id", "reference") and \
            column.field.type in _TEXTUAL and not column.field.case_sensitive else ""
        direction = "DESC" if key.descending else "ASC"
        nulls = "FIRST" if key.nulls_first else "LAST"
        keys.append(f"{column.sql}{collate} {direction} NULLS {nulls}")
        has_id = has_id or (column.table is resolver.root and column.field.name == "Id")
    if not has_id:
        keys.append(resolver.root.column("Id"))
    return ", ".join(keys)


_TEXTUAL = frozenset({"string", "textarea", "picklist", "multipicklist", "email", "phone", "url",
                      "combobox", "encryptedstring"})
