"""The demo's tables, readable at any terminal width, in words (never ``None``).

A first-time reader sees the demo at 80 columns as often as at 160, so the columns that tell
the story — Opportunity, stage, health, % complete, next milestone, due — always stay, the
close dates join when there is room, and long names lose their middle (``Cyberdyne
Engineering … Agreement``), not their end, so two plans never look alike; two Opportunities
with the same name are told apart by a number.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.table import Table

WIDE = 110  # from this width on, the projected close is shown and stages are not clipped
WIDER = 150  # and from this one, the target close beside it
ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = width // 2
    tail = width - 1 - head
    return text[:head].rstrip() + ELLIPSIS + (text[-tail:].lstrip() if tail else "")


def distinct_names(names: Iterable[str]) -> list[str]:
    """The names, with ``(2)``, ``(3)`` … after the second and later of equal names."""
    names = list(names)
    total = Counter(names)
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(f"{name} ({seen[name]})" if total[name] > 1 and seen[name] > 1 else name)
    return out


def percent(value: Any) -> str:
    return f"{float(value or 0):.0f}%"


def days(value: Any) -> str:
    n = round(float(value or 0))
    return f"{n} day{'s' if n != 1 else ''}"


def day(value: Any, missing: str = "—") -> str:
    return str(value) if value else missing


def opportunity_name(row: dict[str, Any]) -> str:
    return str((row.get("Opportunity__r") or {}).get("Name") or row["Opportunity__c"])


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its end replaced by an ellipsis."""
    return text if len(text) <= width else text[:max(width - 1, 0)].rstrip() + ELLIPSIS


def plans_table(rows: list[dict[str, Any]], title: str, width: int) -> Table:
    """Every plan: the six columns that matter, the close dates when ``width`` allows."""
    wide, wider = width >= WIDE, width >= WIDER
    stage_w = 19 if wide else 12
    dates = 10
    extra = int(wide) + int(wider)
    fixed = stage_w + 9 + 4 + dates + extra * dates
    columns = 6 + extra
    # Opportunity and next milestone share what the fixed columns and the gaps between
    # columns (one separator and two spaces of padding each, none at the edges) leave.
    free = max(width - fixed - (3 * columns - 3), 28)
    name_w = min(free * 11 // 20, 44)
    next_w = min(free - name_w, 32)
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("Opportunity", no_wrap=True, width=name_w)
    table.add_column("Stage", no_wrap=True, width=stage_w)
    table.add_column("Health", no_wrap=True, width=9)
    table.add_column("%", no_wrap=True, justify="right", width=4)
    table.add_column("Next milestone", no_wrap=True, width=next_w)
    table.add_column("Due", no_wrap=True, width=dates)
    if wider:
        table.add_column("Target", no_wrap=True, width=dates)
    if wide:
        table.add_column("Projected", no_wrap=True, width=dates)
    names = distinct_names(opportunity_name(r) for r in rows)
    for r, name in zip(rows, names, strict=True):
        opp = r.get("Opportunity__r") or {}
        active = r["Status__c"] == "Active"
        health = str(r["Health__c"] or "—") if active else str(r["Status__c"])
        cells = [shorten(name, name_w), clip(str(opp.get("StageName") or "—"), stage_w),
                 health, percent(r["Percent_Complete__c"]),
                 clip(str(r["Next_Milestone__c"] or "all done"), next_w),
                 day(r["Next_Due_Date__c"])]
        if wider:
            cells.append(day(r["Target_Close_Date__c"]))
        if wide:
            cells.append(day(r["Projected_Close_Date__c"]))
        table.add_row(*cells)
    return table


def milestones_table(name: str, rows: list[dict[str, Any]], today: dt.date,
                     width: int) -> Table:
    """One plan's milestones as a rep sees them on the plan's page in Salesforce."""
    table = Table(title=f"The plan of {name}, as its rep sees it", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Milestone", overflow="fold")
    table.add_column("Owner (side · role · contact)", overflow="fold")
    table.add_column("Due", no_wrap=True, min_width=10)
    table.add_column("Status", no_wrap=True)
    table.add_column("Slipped", no_wrap=True, justify="right")
    for r in rows:
        contact = (r.get("Owner_Contact__r") or {}).get("Name")
        owner = " · ".join(str(p) for p in (r.get("Owner_Side__c"), r.get("Owner_Role__c"),
                                            contact or "no contact yet") if p)
        due = r.get("Due_Date__c")
        status = str(r.get("Status__c") or "—")
        if status not in ("Done", "Cancelled") and due and dt.date.fromisoformat(due) < today:
            status += " (overdue)"
        slipped = float(r.get("Days_Slipped__c") or 0)
        table.add_row(str(int(float(r.get("Sequence__c") or 0))), str(r.get("Name") or "—"),
                      owner, day(due), status, days(slipped) if slipped else "—")
    return table


def tasks_table(name: str, rows: list[dict[str, Any]], today: dt.date) -> Table:
    """The plan's Tasks as its rep sees them on the Opportunity: a seller or joint
    milestone's Task, for its owner, due with the milestone."""
    table = Table(title=f"The Tasks of {name}, as its rep sees them", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("Task", overflow="fold")
    table.add_column("Assigned to", overflow="fold")
    table.add_column("Due", no_wrap=True, min_width=10)
    table.add_column("Reminder", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for r in rows:
        due = r.get("ActivityDate")
        status = str(r.get("Status") or "—")
        if not r.get("IsClosed") and due and dt.date.fromisoformat(due) < today:
            status += " (overdue)"
        reminder = str(r.get("ReminderDateTime") or "")[:16].replace("T", " ") or "—"
        table.add_row(str(r.get("Subject") or "—"),
                      str((r.get("Owner") or {}).get("Name") or r.get("OwnerId") or "—"),
                      day(due), reminder, status)
    return table


CHANGE_FIELDS = (("Status__c", "status"), ("Health__c", "health"),
                 ("Percent_Complete__c", "complete"), ("Next_Milestone__c", "next milestone"),
                 ("Days_Slipped__c", "slipped"), ("Projected_Close_Date__c", "projected close"),
                 ("Slip_Cause__c", "slip cause"))
_WORDS = {"Percent_Complete__c": percent, "Days_Slipped__c": days,
          "Next_Milestone__c": lambda v: str(v) if v else "all done",
          "Slip_Cause__c": lambda v: str(v) if v else "no slip"}


def change_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``health: On Track → Off Track`` for each plan field the cycle changed, in words."""
    out = []
    for field, label in CHANGE_FIELDS:
        if before.get(field) == after.get(field):
            continue
        words = _WORDS.get(field, lambda v: str(v) if v not in (None, "") else "—")
        out.append(f"{label}: {words(before.get(field))} → {words(after.get(field))}")
    return out


def changes_table(actions: list[tuple[str, str, str]], before: dict[str, dict[str, Any]],
                  after: dict[str, dict[str, Any]], width: int) -> Table:
    """Per rep edit (Opportunity Id, name, what the rep did): what mapsync changed."""
    table = Table(title="What changed, and why", box=box.SIMPLE_HEAD, pad_edge=False)
    name_w = 24 if width < WIDE else 36
    table.add_column("Opportunity", overflow="fold", max_width=name_w)
    table.add_column("The rep's edit", overflow="fold", ratio=1)
    table.add_column("What mapsync changed on the plan", overflow="fold", ratio=1)
    for opp_id, name, what in actions:
        lines = change_lines(before.get(opp_id, {}), after.get(opp_id, {}))
        table.add_row(shorten(name, name_w), what, "\n".join(lines) or "nothing to change")
    return table
