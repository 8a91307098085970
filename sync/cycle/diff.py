"""Diff: which fields of which records must go to Salesforce, and nothing more.

The planner says what a record should hold; Salesforce says what it holds now; the shadow
says what mapsync last wrote. A field goes out only when mapsync may write it (field
ownership, ``docs/architecture.md``) and Salesforce does not already hold the desired value.
Values are compared in Salesforce's wire form (dates as ``YYYY-MM-DD``, numbers as floats,
text trimmed and blank text as null: ``connectors.salesforce.values.wire``, the form Bulk CSV
cells are written from too), so a value read back from Salesforce equals the one mapsync
wrote: that is echo suppression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.values import wire


def same(a: Any, b: Any) -> bool:
    """Whether two values are equal once both are in wire form."""
    wa, wb = wire(a), wire(b)
    if isinstance(wa, int | float) and isinstance(wb, int | float):
        return abs(float(wa) - float(wb)) < 1e-6
    return bool(wa == wb)


@dataclass(frozen=True)
class RecordChange:
    """One record to write: its key, the fields that differ, and whether it is new."""

    sobject: str
    key: str  # external id (plans, milestones) or record Id (Opportunity)
    fields: dict[str, Any]
    created: bool

    def payload(self) -> dict[str, Any]:
        return {k: wire(v) for k, v in self.fields.items()}


def changed_fields(
    desired: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    writable: Iterable[str],
) -> dict[str, Any]:
    """The writable fields whose desired value Salesforce does not hold yet.

    ``current`` is ``None`` for a record that does not exist: then every desired field goes
    out (the initial values of rep-owned fields included, ``writable`` ignored).
    """
    if current is None:
        return {k: v for k, v in desired.items() if v is not None}
    return {
        k: desired[k]
        for k in writable
        if k in desired and not same(desired[k], current.get(k))
    }
