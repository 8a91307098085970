"""The shipped ``Mapsync_Integration`` permission set grants what mapsync reads and writes.

The scenario tests run mapsync as the integration user with exactly this permission set, so
a gap fails them somewhere; these tests name the missing field directly.
"""

from __future__ import annotations

from typing import Any

from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from sync.cycle.sobjects import CONTACT_ROLE, FIELDS, OPPORTUNITY
from sync.cycle.sobjects import CONTACT_ROLE_FIELDS as ROLE_CHANGE_FIELDS
from sync.cycle.sobjects import MILESTONE_OBJECT as MILESTONE
from sync.cycle.sobjects import PLAN_OBJECT as PLAN
from sync.jobs.selection import SELECT_FIELDS
from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
)


def described(org: Emulator, sobject: str) -> dict[str, dict[str, Any]]:
    """Fields of ``sobject`` as the integration user's describe shows them."""
    sf: Any = salesforce_client(org)
    return {f["name"]: f for f in sf.restful(f"sobjects/{sobject}/describe")["fields"]}


def test_integration_user_reads_every_field_mapsync_selects(emulator: Emulator) -> None:
    role_fields = list(ROLE_CHANGE_FIELDS)
    wanted = {**{s: set(f) for s, f in FIELDS.items()},
              OPPORTUNITY: {*FIELDS[OPPORTUNITY], *SELECT_FIELDS}, CONTACT_ROLE: set(role_fields)}
    for sobject, fields in wanted.items():
        assert fields - set(described(emulator, sobject)) == set(), sobject


def test_integration_user_edits_every_field_mapsync_writes(emulator: Emulator) -> None:
    opportunity = described(emulator, OPPORTUNITY)
    assert {n for n in OPPORTUNITY_ROLLUP_FIELDS if not opportunity[n]["updateable"]} == set()
    for sobject, fields in ((PLAN, SERVICE_OWNED_PLAN_FIELDS),
                            (MILESTONE, SERVICE_OWNED_MILESTONE_FIELDS
                             | REP_PINNABLE_MILESTONE_FIELDS)):
        shown = described(emulator, sobject)
        refused = {n for n in fields if not (shown[n]["createable"] and shown[n]["updateable"])}
        assert refused == set(), sobject


def test_integration_user_may_not_edit_the_sales_fields_it_only_reads(
        emulator: Emulator) -> None:
    opportunity = described(emulator, OPPORTUNITY)
    assert [n for n in ("Amount", "Type", "AccountId") if opportunity[n]["updateable"]] == []
    assert "Description" not in opportunity  # never read, never granted
