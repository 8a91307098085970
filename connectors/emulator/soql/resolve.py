"""Field paths → SQL columns: the parent-relationship joins a query needs.

``Account.Owner.Name`` on Opportunity becomes ``t2."Name"`` with
``LEFT JOIN "Account" AS t1 ON t1."Id" = t0."AccountId"`` and
``LEFT JOIN "User" AS t2 ON t2."Id" = t1."OwnerId"``. Each relationship path is joined once
however often the query mentions it, and names are matched case-insensitively but emitted in
their canonical spelling, as Salesforce echoes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.soql import ast
from connectors.emulator.soql.errors import bad_relationship, no_such_column


def quote(name: str) -> str:
    """An SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Table:
    """The root object (``t0``) or one joined parent, reached through ``path``."""

    alias: str
    sobject: SObjectDef
    path: tuple[str, ...] = ()            # canonical relationship names from the root
    parent: Table | None = None
    reference: FieldDef | None = None     # the lookup on ``parent`` that leads here
    children: dict[str, Table] = field(default_factory=dict)  # by lower-cased relationship

    def column(self, name: str) -> str:
        return f"{self.alias}.{quote(name)}"


@dataclass(frozen=True)
class Column:
    """A resolved field: where it lives in SQL and what it is."""

    table: Table
    field: FieldDef

    @property
    def sql(self) -> str:
        return self.table.column(self.field.name)


class Resolver:
    """Resolves field paths of one query, collecting the joins they need."""

    def __init__(self, query: ast.Query, schema: Schema, root: SObjectDef) -> None:
        self.query = query
        self.schema = schema
        self.root = Table("t0", root)
        self.tables: list[Table] = [self.root]

    def resolve(self, ref: ast.FieldRef) -> Column:
        parts = list(ref.parts)
        column = ref.pos.column
        if len(parts) > 1 and self._is_self_prefix(parts[0]):
            column += len(parts[0]) + 1
            parts = parts[1:]
        table = self.root
        for name in parts[:-1]:
            table = self._join(table, name, ref.pos.line, column)
            column += len(name) + 1
        found = table.sobject.field(parts[-1])
        if found is None:
            raise no_such_column(self.query.text, ref.pos.line, ref.pos.column, parts[-1],
                                 table.sobject.name)
        return Column(table, found)

    def _is_self_prefix(self, name: str) -> bool:
        low = name.lower()
        if self.query.alias is not None and low == self.query.alias.lower():
            return True
        root = self.root.sobject
        return low == root.name.lower() and root.relationship(name) is None

    def _join(self, table: Table, name: str, line: int, column: int) -> Table:
        known = table.children.get(name.lower())
        if known is not None:
            return known
        reference = table.sobject.relationship(name)
        target = None
        if reference is not None:
            target = next((t for t in map(self.schema.get, reference.reference_to) if t), None)
        if reference is None or target is None or reference.relationship_name is None:
            raise bad_relationship(self.query.text, line, column, name)
        joined = Table(f"t{len(self.tables)}", target, (*table.path, reference.relationship_name),
                       table, reference)
        table.children[name.lower()] = joined
        self.tables.append(joined)
        return joined

    def joins_sql(self) -> str:
        """The LEFT JOIN clauses for every relationship resolved so far."""
        return "".join(
            f" LEFT JOIN {quote(t.sobject.name)} AS {t.alias} ON {t.alias}.\"Id\" = "
            f"{t.parent.column(t.reference.name)}"
            for t in self.tables[1:] if t.parent is not None and t.reference is not None
        )
