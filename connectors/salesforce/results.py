"""Per-record results of a write, returned rather than raised.

Collections and Bulk writes succeed or fail record by record inside one request; one refused
milestone must not hide the 199 that were written. Each record's result carries Salesforce's
errors and the outcome the error table gives them, so the engine can mark written records,
dead-letter skippable ones, reconcile duplicates by external id and apply deletions locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.salesforce.errors import Outcome, RecordError, record_outcome

RecordOutcome = Literal["ok", "retryable", "skippable", "gone", "duplicate"]


@dataclass(frozen=True)
class RecordResult:
    """What happened to one record of a write.

    ``external_id`` is the record's external id value (for deletes, the Id deleted); ``id``
    the Salesforce Id when known; ``created`` whether an upsert inserted it.
    """

    external_id: str | None
    id: str | None
    success: bool
    created: bool = False
    errors: list[RecordError] = field(default_factory=list)
    outcome: RecordOutcome = "ok"

    @classmethod
    def from_collections(cls, item: Mapping[str, Any], external_id: str | None) -> RecordResult:
        """One entry of a Collections response (``{id, success, errors, created}``)."""
        success = bool(item.get("success"))
        errors = [RecordError.from_json(e) for e in item.get("errors") or []]
        outcome = "ok" if success else record_outcome(errors).value
        return cls(external_id=external_id, id=item.get("id"), success=success,
                   created=bool(item.get("created")), errors=errors,
                   outcome=outcome)  # type: ignore[arg-type]

    @classmethod
    def failed(cls, external_id: str | None, errors: list[RecordError],
               id: str | None = None) -> RecordResult:
        """A failed record, its outcome decided by the error table."""
        outcome = record_outcome(errors)
        return cls(external_id=external_id, id=id, success=False, errors=errors,
                   outcome=outcome.value)  # type: ignore[arg-type]

    @property
    def message(self) -> str:
        """The errors in one line, for the dead-letter table and reports."""
        return "; ".join(f"{e.code}: {e.message}" for e in self.errors)


def retryable(result: RecordResult) -> bool:
    return result.outcome == Outcome.RETRYABLE.value
