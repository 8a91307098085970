"""What the store asks before it writes a record: the org's access rules and automation.

The store writes every record however it arrives (REST, Collections, Composite, Bulk), so
the checks a real org makes around a write hang here, in Salesforce's order of execution:
access first (``before_*``, on the request body), then validation rules and triggers on the
record as it would be saved (``before_save``). A guard raises ``RecordFailed`` to refuse.
"""

from __future__ import annotations

from typing import Protocol

from connectors.emulator.schema import SObjectDef


class WriteGuard(Protocol):
    """One set of checks; any method may raise ``RecordFailed``."""

    def before_create(self, obj: SObjectDef, body: dict[str, object], user_id: str) -> None: ...

    def before_update(self, obj: SObjectDef, body: dict[str, object],
                      current: dict[str, object], user_id: str) -> None: ...

    def before_delete(self, obj: SObjectDef, row: dict[str, object], user_id: str) -> None: ...

    def before_save(self, obj: SObjectDef, record: dict[str, object],
                    current: dict[str, object] | None, user_id: str) -> None: ...
