"""Writes the history rows of a save, inside the save's own transaction.

The store calls ``created`` after it inserts a record and ``updated`` after it updates one,
whoever asked (REST, Collections, Composite, Bulk 2.0 ingest, seeds), so a history row and
the change it records commit or roll back together, as in Salesforce. The rows follow
Salesforce's rules (see ``history``):

- a ``created`` row on insert (``DataType`` ``Text``, no values);
- on update, one row per tracked field whose stored value changed, none for a save that
  changes nothing; long text areas and multi-select picklists are recorded as changed
  without values; a changed lookup writes two rows, the names of the old and new records
  (``Text``) and their Ids (``EntityId``);
- on the Opportunity, an ``OpportunityHistory`` row on create and whenever the stage,
  amount, close date, probability, forecast category or expected revenue changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from connectors.emulator.history import (
    CREATED,
    FORECAST_CATEGORIES,
    STAGE_HISTORY_FIELDS,
    data_type,
    history_name,
    is_long_text,
    parent_field_name,
    tracked_fields,
)
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.sqltext import insert_sql, q
from connectors.emulator.values import to_json

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore

FIELD_ROW = ("Id", "IsDeleted", "CreatedById", "CreatedDate", "Field", "DataType", "OldValue",
             "NewValue")
STAGE_ROW = ("Id", "IsDeleted", "OpportunityId", "CreatedById", "CreatedDate", "SystemModstamp",
             "StageName", "Amount", "ExpectedRevenue", "CloseDate", "Probability",
             "ForecastCategory", "PrevAmount", "PrevCloseDate")


@dataclass(frozen=True)
class HistoryPlan:
    """Where one object's saves leave history (None parts: that history is off)."""

    field_history: SObjectDef | None
    parent_field: str
    tracked: tuple[FieldDef, ...]
    stage_history: SObjectDef | None

    @property
    def field_sql(self) -> str:
        assert self.field_history is not None
        return insert_sql(self.field_history.name, (*FIELD_ROW, self.parent_field))

    @property
    def empty(self) -> bool:
        return self.field_history is None and self.stage_history is None


def _encode(f: FieldDef, stored: object) -> str | None:
    """An ``anyType`` value as stored: the JSON of the value Salesforce answers."""
    return None if stored is None else orjson.dumps(to_json(f, stored)).decode()


class HistoryWriter:
    """The history rows of one store's saves."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store
        self._plans: dict[str, HistoryPlan] = {}
        # rows not yet written, by INSERT statement: a request's history is written in one
        # statement per history object when its records are done (``flush``), inside the
        # request's transaction; outside a request, at once
        self._pending: dict[str, list[tuple[object, ...]]] = {}

    def flush(self) -> None:
        """Write the pending rows (call inside the transaction of the changes they record)."""
        pending, self._pending = self._pending, {}
        for sql, rows in pending.items():
            self.store.conn.executemany(sql, rows)

    def discard(self) -> None:
        """Forget the pending rows: their changes were rolled back."""
        self._pending = {}

    def _settle(self) -> None:
        if not self.store.in_batch:
            self.flush()

    def plan(self, obj: SObjectDef) -> HistoryPlan:
        plan = self._plans.get(obj.name)
        if plan is None:
            schema = self.store.schema
            tracked = tuple(tracked_fields(obj))
            history = schema.get(history_name(obj)) if obj.history_enabled else None
            if history is not None and not history.read_only:
                history = None
            plan = HistoryPlan(
                field_history=history, parent_field=parent_field_name(obj), tracked=tracked,
                stage_history=schema.get("OpportunityHistory")
                if obj.name == "Opportunity" else None)
            self._plans[obj.name] = plan
        return plan

    def created(self, obj: SObjectDef, record_id: str, row: dict[str, object], user_id: str,
                stamp: str) -> None:
        """History of an inserted record (``row``: its stored values)."""
        self._created(obj, record_id, row, user_id, stamp)
        self._settle()

    def _created(self, obj: SObjectDef, record_id: str, row: dict[str, object], user_id: str,
                 stamp: str) -> None:
        plan = self.plan(obj)
        if plan.empty:
            return
        history = plan.field_history
        if history is not None:  # (every insert passes here: kept to one append)
            self._pending.setdefault(plan.field_sql, []).append(
                (self.store.new_id(history), 0, user_id, stamp, CREATED, "Text", None, None,
                 record_id))
        if plan.stage_history is not None:
            self._insert_stage(plan.stage_history, record_id, {}, row, user_id, stamp)

    def created_many(self, obj: SObjectDef, rows: list[dict[str, object]]) -> None:
        """History of records loaded in one batch (each row holds its Id, creator, date)."""
        plan = self.plan(obj)
        if plan.empty:
            return
        for row in rows:
            self._created(obj, str(row["Id"]), row, str(row["CreatedById"]),
                         str(row["CreatedDate"]))
        self.flush()

    def updated(self, obj: SObjectDef, record_id: str, current: dict[str, object],
                values: dict[str, object], user_id: str, stamp: str) -> None:
        """History of an update: ``current`` is the row before, ``values`` what was written."""
        plan = self.plan(obj)
        if plan.empty:
            return
        if plan.field_history is not None:
            changes: list[tuple[str, str, object, object]] = []
            for f in plan.tracked:
                if f.name not in values or values[f.name] == current.get(f.name):
                    continue
                old, new = current.get(f.name), values[f.name]
                if is_long_text(f):
                    changes.append((f.name, data_type(f), None, None))
                elif f.type == "reference":
                    changes.append((f.name, "Text", self._name_of(f, old),
                                    self._name_of(f, new)))
                    changes.append((f.name, "EntityId", _encode(f, old), _encode(f, new)))
                else:
                    changes.append((f.name, data_type(f), _encode(f, old), _encode(f, new)))
            if changes:
                self._insert_fields(plan, record_id, user_id, stamp, changes)
        if plan.stage_history is not None and any(
                n in values and values[n] != current.get(n) for n in STAGE_HISTORY_FIELDS):
            self._insert_stage(plan.stage_history, record_id, current, {**current, **values},
                               user_id, stamp)
        self._settle()

    def deleted(self, obj: SObjectDef, record_ids: list[str], stamp: str) -> None:
        """A deleted record's history goes to the recycle bin with it (queryAll sees it)."""
        plan = self.plan(obj)
        for history in (plan.field_history, plan.stage_history):
            if history is None:
                continue
            parent = "OpportunityId" if history is plan.stage_history else plan.parent_field
            moved = ", SystemModstamp = ?" if "SystemModstamp" in history.fields else ""
            for start in range(0, len(record_ids), 500):
                chunk = record_ids[start:start + 500]
                self.store.conn.execute(
                    f"UPDATE {q(history.name)} SET IsDeleted = 1{moved} WHERE {q(parent)} IN "
                    f"({','.join('?' * len(chunk))})", [*([stamp] if moved else []), *chunk])

    def _name_of(self, f: FieldDef, record_id: object) -> str | None:
        """The name a lookup's history shows for ``record_id`` (JSON text, like any value)."""
        if record_id is None:
            return None
        target = self.store.object_of(str(record_id))
        name = None
        if target is not None and "Name" in target.fields:
            found = self.store.conn.execute(
                f"SELECT Name FROM {q(target.name)} WHERE Id = ?", (record_id,)).fetchone()
            name = found[0] if found else None
        return orjson.dumps(name if name is not None else str(record_id)).decode()

    def _insert_fields(self, plan: HistoryPlan, record_id: str, user_id: str, stamp: str,
                       changes: list[tuple[str, str, object, object]]) -> None:
        history = plan.field_history
        assert history is not None
        rows = self._pending.setdefault(plan.field_sql, [])
        rows += [(self.store.new_id(history), 0, user_id, stamp, field, kind, old, new,
                  record_id) for field, kind, old, new in changes]

    def _insert_stage(self, history: SObjectDef, record_id: str, before: dict[str, object],
                      row: dict[str, object], user_id: str, stamp: str) -> None:
        category = row.get("ForecastCategoryName")
        self._pending.setdefault(insert_sql(history.name, STAGE_ROW), []).append((
            self.store.new_id(history), 0, record_id, user_id, stamp, stamp,
            row.get("StageName"), row.get("Amount"), row.get("ExpectedRevenue"),
            row.get("CloseDate"), row.get("Probability"),
            FORECAST_CATEGORIES.get(str(category)) if category is not None else None,
            before.get("Amount"), before.get("CloseDate")))
