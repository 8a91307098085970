"""A customer's automation in the local org: validation rules and failing triggers.

Customers' orgs refuse writes mapsync cannot foresee: a validation rule that demands a field
mapsync does not set, a trigger that throws. Each refused record must become a dead letter
with the org's message while the rest of the cycle lands, so the local org can refuse the
same way:

- validation rules are read from sfdx source
  (``objects/<Object>/validationRules/<Rule>.validationRule-meta.xml`` with ``active``,
  ``errorConditionFormula``, ``errorMessage``, ``errorDisplayField``) and evaluated with the
  formula subset of ``formula.py``; a record for which the formula holds fails
  ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` with the rule's message and field;
- failing triggers are a knob (``org.automation.add_trigger(...)``): on an object, for
  insert/update, on a share of records (``rate``) and/or when a formula holds; a record
  that meets one fails ``CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY`` with Apex's message.

The product ships no rules; tests load theirs from a directory of their own
(``Org(automation_dirs=[...])`` or ``org.automation.load(path)``).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.formula import Formula, FormulaError, compile_formula
from connectors.emulator.permissions import NS
from connectors.emulator.schema import Schema, SObjectDef


@dataclass(frozen=True)
class ValidationRule:
    """One active validation rule of an object."""

    name: str
    sobject: str
    formula: Formula
    message: str
    display_field: str | None


@dataclass(frozen=True)
class Trigger:
    """A trigger that throws: on ``events`` of ``sobject``, for a share ``rate`` of the
    records and only when ``when`` (a formula, optional) holds."""

    name: str
    sobject: str
    events: tuple[str, ...] = ("insert", "update")
    rate: float = 1.0
    when: Formula | None = None
    cause: str = "System.DmlException: Update failed. First exception on row 0; first error: " \
                 "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, downstream integration is unavailable"

    def message(self, event: str) -> str:
        return (f"{self.name}: execution of Before{event.capitalize()}\n\ncaused by: "
                f"{self.cause}\n\nTrigger.{self.name}: line 1, column 1")


def _text(root: ET.Element, tag: str) -> str:
    return (root.findtext(f"{NS}{tag}") or "").strip()


def read_rules(directory: Path, schema: Schema) -> list[ValidationRule]:
    """The active validation rules of an sfdx source tree; a bad one is an error."""
    rules = []
    for path in sorted(directory.glob("**/objects/*/validationRules/"
                                      "*.validationRule-meta.xml")):
        obj = schema.get(path.parent.parent.name)
        if obj is None:
            raise FormulaError(f"{path}: no object {path.parent.parent.name}")
        try:
            root = ET.parse(path).getroot()  # noqa: S314 - rules of the tests' own tree
        except ET.ParseError as exc:
            raise FormulaError(f"{path}: {exc}") from None
        if _text(root, "active") != "true":
            continue
        try:
            formula = compile_formula(_text(root, "errorConditionFormula"), obj)
        except FormulaError as exc:
            raise FormulaError(f"{path}: {exc}") from None
        field = _text(root, "errorDisplayField") or None
        rules.append(ValidationRule(path.name.split(".")[0], obj.name, formula,
                                    _text(root, "errorMessage"), field))
    return rules


class Automation:
    """The validation rules and triggers of one org; a write guard for the store."""

    def __init__(self, schema: Schema, roll: Callable[[float], bool],
                 today: Callable[[], dt.date]) -> None:
        self.schema = schema
        self.roll = roll
        self.today = today
        self.rules: list[ValidationRule] = []
        self.triggers: list[Trigger] = []

    def load(self, directory: Path) -> None:
        """Add the active validation rules found under ``directory``."""
        self.rules.extend(read_rules(directory, self.schema))

    def add_trigger(self, name: str, sobject: str, *, events: tuple[str, ...] = ("insert",
                                                                              "update"),
                    rate: float = 1.0, when: str | None = None, cause: str | None = None
                    ) -> Trigger:
        """A trigger on ``sobject`` that throws (see the module docstring)."""
        obj = self.schema.get(sobject)
        if obj is None:
            raise ValueError(f"unknown object {sobject!r}")
        unknown = set(events) - {"insert", "update"}
        if unknown:
            raise ValueError(f"unknown trigger events: {', '.join(sorted(unknown))}")
        trigger = Trigger(name, obj.name, events, rate,
                          compile_formula(when, obj) if when else None)
        if cause:
            trigger = Trigger(name, obj.name, events, rate, trigger.when, cause)
        self.triggers.append(trigger)
        return trigger

    def clear(self) -> None:
        self.rules.clear()
        self.triggers.clear()

    # ---- the write guard ----------------------------------------------------------------

    def before_create(self, obj: SObjectDef, body: dict[str, object], user_id: str) -> None:
        """Automation sees the record as saved, not the request (``before_save``)."""

    def before_update(self, obj: SObjectDef, body: dict[str, object],
                      current: dict[str, object], user_id: str) -> None:
        """Automation sees the record as saved, not the request (``before_save``)."""

    def before_delete(self, obj: SObjectDef, row: dict[str, object], user_id: str) -> None:
        """Delete triggers are not emulated."""

    def before_save(self, obj: SObjectDef, record: dict[str, object],
                    current: dict[str, object] | None, user_id: str) -> None:
        """Before triggers first, then validation rules, as Salesforce orders a save."""
        if not self.triggers and not self.rules:
            return
        event = "insert" if current is None else "update"
        today = self.today()
        for trigger in self.triggers:
            if trigger.sobject != obj.name or event not in trigger.events:
                continue
            if trigger.when is not None and not trigger.when.holds(record, current, today):
                continue
            if self.roll(trigger.rate):
                raise RecordFailed(RecordError("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                                               trigger.message(event)))
        failures = [rule for rule in self.rules if rule.sobject == obj.name
                    and rule.formula.holds(record, current, today)]
        if failures:
            raise RecordFailed(*[RecordError(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message,
                [rule.display_field] if rule.display_field else []) for rule in failures])
