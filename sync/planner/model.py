"""The plan as data: what the planner reads (Opportunity, current plan) and what it decides.

The planner is a pure function from these inputs to a ``DesiredPlan``; keeping the shapes in
one small module lets the sync cycle, the diff, the CLI preview and the tests share them
without importing the planning logic. Field names on the Salesforce side are the pinned API
names of docs/architecture.md, and the ownership sets below are its conflict rule in code: the diff
consults them to decide what it may push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sync.planner.identity import milestone_key_of
from sync.planner.numbers import NO_NUMBERS, PlanNumbers

# --- picklist values -----------------------------------------------------------------------

NOT_STARTED, IN_PROGRESS, DONE, BLOCKED, SKIPPED = (
    "Not Started", "In Progress", "Done", "Blocked", "Skipped"
)
FINISHED_STATUSES = frozenset({DONE, SKIPPED})
ACTIVE, COMPLETED, CANCELLED = "Active", "Completed", "Cancelled"
ON_TRACK, AT_RISK, OFF_TRACK = "On Track", "At Risk", "Off Track"

# --- field ownership (docs/architecture.md, "Field ownership") -------------------------------

SERVICE_OWNED_PLAN_FIELDS = frozenset({
    "Opportunity__c", "Template__c", "Status__c", "Health__c", "Percent_Complete__c",
    "Target_Close_Date__c", "Projected_Close_Date__c", "Days_Slipped__c", "Slip_Cause__c",
    "Next_Milestone__c", "Next_Due_Date__c", "Buyer_On_Time_Rate__c", "Seller_On_Time_Rate__c",
    "Last_Progress_Date__c", "Days_Since_Progress__c", "Mapping_Version__c",
})
REP_OWNED_PLAN_FIELDS = frozenset({
    "Summary__c", "Success_Criteria__c", "Go_Live_Date__c", "Compelling_Event_Date__c",
    "Compelling_Event__c",
})
SERVICE_OWNED_MILESTONE_FIELDS = frozenset({
    "Key__c", "Sequence__c", "Stage__c", "Owner_Side__c", "Owner_Role__c",
    "Baseline_Due_Date__c", "Days_Slipped__c", "Depends_On__c",
})
REP_OWNED_MILESTONE_FIELDS = frozenset({"Owner_Contact__c", "Owner_User__c", "Notes__c"})
# Owners mapsync names until a rep sets one (even to empty): then field history keeps it.
REP_CHOSEN_MILESTONE_FIELDS = frozenset({"Owner_Contact__c", "Owner_User__c"})
# A rep renames a step or says in the buyer's words why it matters: that wording stays.
REP_PINNABLE_MILESTONE_FIELDS = frozenset({
    "Status__c", "Completed_Date__c", "Due_Date__c", "Name", "Why_It_Matters__c",
})
OPPORTUNITY_ROLLUP_FIELDS = frozenset({
    "MAP_Health__c", "MAP_Percent_Complete__c", "MAP_Days_Slipped__c",
    "MAP_Projected_Close_Date__c", "MAP_Buyer_On_Time_Rate__c", "MAP_Seller_On_Time_Rate__c",
    "MAP_Days_Since_Progress__c",
})
def as_date(value: Any) -> dt.date | None:
    """A Salesforce date value (``date`` or ``"YYYY-MM-DD"``) as a ``date``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opportunity:
    """What the planner needs of an Opportunity. ``fields`` feeds template rules."""

    id: str
    name: str
    stage: str
    close_date: dt.date | None
    amount: Decimal | None = None
    type: str | None = None
    is_deleted: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)
    contact_roles: tuple[tuple[str, str], ...] = ()  # (role, contact id), in Salesforce order
    team: tuple[tuple[str, str], ...] = ()  # (team role, user id), in Salesforce order

    def rule_fields(self) -> dict[str, Any]:
        """The record as template rules see it (standard names, then any extra fields)."""
        record: dict[str, Any] = {
            "Id": self.id, "Name": self.name, "StageName": self.stage,
            "CloseDate": self.close_date, "Amount": self.amount, "Type": self.type,
        }
        record.update(self.fields)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Opportunity:
        """From a Salesforce REST record; contact roles from an ``OpportunityContactRoles``
        subquery when selected."""
        roles = record.get("OpportunityContactRoles") or {}
        pairs = tuple(
            (str(r.get("Role") or ""), str(r["ContactId"]))
            for r in roles.get("records", [])
            if r.get("ContactId")
        )
        amount = record.get("Amount")
        return cls(
            id=str(record["Id"]),
            name=str(record.get("Name") or ""),
            stage=str(record.get("StageName") or ""),
            close_date=as_date(record.get("CloseDate")),
            amount=None if amount is None else Decimal(str(amount)),
            type=record.get("Type"),
            is_deleted=bool(record.get("IsDeleted", False)),
            fields={k: v for k, v in record.items() if k not in ("attributes",)},
            contact_roles=pairs,
        )


@dataclass(frozen=True, slots=True)
class MilestoneState:
    """One existing milestone: what Salesforce holds now, and what mapsync last wrote.

    ``written`` maps a Salesforce field API name to the value mapsync last wrote there; a field
    absent from it was never written. A rep-pinnable field whose Salesforce value differs from
    the written one is a rep's edit. ``rep_pins`` are the rep-pinnable fields Salesforce's
    field history says a rep changed: pinned whatever the local store remembers, with the
    rep's last value as the milestone's (see :meth:`from_record`).
    """

    key: str
    status: str | None = NOT_STARTED
    completed_date: dt.date | None = None
    due_date: dt.date | None = None
    baseline_due_date: dt.date | None = None
    owner_contact_id: str | None = None
    notes: str | None = None
    written: Mapping[str, Any] = field(default_factory=dict)
    rep_pins: frozenset[str] = frozenset()
    touched_on: dt.date | None = None  # last change by someone other than mapsync
    name: str | None = None
    why: str | None = None
    owner_user_id: str | None = None
    sequence: int | None = None

    def pinned_fields(self) -> frozenset[str]:
        """The rep-pinnable fields a rep has changed, and the owners a rep chose: by
        Salesforce's history, or (the local cache of it) since mapsync last wrote them."""
        written, pinned = self.written, self.rep_pins
        values = (
            ("Status__c", self.status), ("Completed_Date__c", self.completed_date),
            ("Due_Date__c", self.due_date), ("Name", self.name), ("Why_It_Matters__c", self.why),
            ("Owner_Contact__c", self.owner_contact_id), ("Owner_User__c", self.owner_user_id),
        )
        get = written.get  # first the usual answer, cheaply: every field as written (or not)
        if not written or all(get(f, v) == v for f, v in values):
            return pinned
        for api_name, current in values:
            if api_name in written:
                before = written[api_name]
                if current != before and not _same_value(current, before):
                    pinned = pinned | {api_name}
        return pinned

    @classmethod
    def from_record(cls, record: Mapping[str, Any], written: Mapping[str, Any],
                    rep_values: Mapping[str, Any] | None = None,
                    mapsync_user: str | None = None) -> MilestoneState:
        """From a Salesforce record; the key falls back to the external id's suffix, then to
        the record Id (a milestone a rep added by hand has neither key nor external id). One
        last changed by anyone but ``mapsync_user`` was touched on its ``SystemModstamp``'s day.

        ``rep_values``: for each rep-pinnable field a rep changed, the last value a rep set
        (Salesforce's field history). It is the milestone's value even when a later write of
        mapsync's landed on top of it (a cycle that read before the rep's edit and wrote
        after it): the rep wins, whatever the order of the writes.
        """
        if rep_values:
            record = {**record, **rep_values}
        key = (record.get("Key__c")
               or milestone_key_of(str(record.get("External_Id__c") or ""))
               or record.get("Id") or "")
        changed_by = record.get("LastModifiedById")
        touched = (as_date(record.get("SystemModstamp"))
                   if mapsync_user and changed_by and changed_by != mapsync_user else None)
        return cls(
            key=str(key),
            status=record.get("Status__c"),
            completed_date=as_date(record.get("Completed_Date__c")),
            due_date=as_date(record.get("Due_Date__c")),
            baseline_due_date=as_date(record.get("Baseline_Due_Date__c")),
            owner_contact_id=record.get("Owner_Contact__c"),
            notes=record.get("Notes__c"),
            written=dict(written),
            rep_pins=frozenset(rep_values or ()),
            touched_on=touched,
            name=record.get("Name"),
            why=record.get("Why_It_Matters__c"),
            owner_user_id=record.get("Owner_User__c"),
            sequence=int(record["Sequence__c"]) if record.get("Sequence__c") else None,
        )


def _same_value(current: Any, written: Any) -> bool:
    if isinstance(current, dt.date) or isinstance(written, dt.date):
        try:
            return as_date(current) == as_date(written)
        except ValueError:
            return False
    return bool(current == written)


@dataclass(frozen=True, slots=True)
class PlanState:
    """An existing plan: its Salesforce values, mapsync's shadow, and its milestones by key.

    ``deleted``: keys of milestones a rep deleted; neither recreated nor counted. A key the
    template lacks is a milestone a rep added: never written, but counted (``added.py``).
    """

    template: str | None
    status: str | None = ACTIVE
    target_close_date: dt.date | None = None
    go_live_date: dt.date | None = None
    written: Mapping[str, Any] = field(default_factory=dict)
    milestones: Mapping[str, MilestoneState] = field(default_factory=dict)
    summary: str | None = None
    success_criteria: str | None = None
    last_progress_date: dt.date | None = None
    compelling_event_date: dt.date | None = None
    compelling_event: str | None = None
    deleted: frozenset[str] = frozenset()
    mapping_version: str | None = None  # the template version its milestones were built with

    @property
    def own_template(self) -> str | None:
        """The template mapsync last wrote (service-owned: a rep's change is put back), else
        Salesforce's value for a plan mapsync adopts."""
        written = self.written.get("Template__c")
        return str(written) if written else self.template

    @classmethod
    def from_records(
        cls,
        plan: Mapping[str, Any],
        plan_written: Mapping[str, Any],
        milestones: list[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]],
        mapsync_user: str | None = None,
    ) -> PlanState:
        """From Salesforce records, each with the values mapsync last wrote to it and the
        last values reps set (Salesforce's field history)."""
        states = (MilestoneState.from_record(rec, w, rep, mapsync_user)
                  for rec, w, rep in milestones)
        return cls(
            template=plan.get("Template__c"),
            status=plan.get("Status__c"),
            target_close_date=as_date(plan.get("Target_Close_Date__c")),
            go_live_date=as_date(plan.get("Go_Live_Date__c")),
            summary=plan.get("Summary__c"),
            success_criteria=plan.get("Success_Criteria__c"),
            last_progress_date=as_date(plan.get("Last_Progress_Date__c")),
            compelling_event_date=as_date(plan.get("Compelling_Event_Date__c")),
            compelling_event=plan.get("Compelling_Event__c"),
            mapping_version=plan.get("Mapping_Version__c") or None,
            written=dict(plan_written),
            milestones={m.key: m for m in states if m.key},
        )


# --- outputs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesiredMilestone:
    """One milestone as the plan wants it. ``pinned``: the fields a rep owns on it now."""

    key: str
    name: str
    sequence: int
    stage: str | None
    side: str
    role: str
    why: str
    depends_on: tuple[str, ...]
    baseline_due_date: dt.date | None
    due_date: dt.date | None
    completed_date: dt.date | None
    status: str
    days_slipped: int
    projected_date: dt.date | None
    owner_contact_id: str | None
    notes: str | None = None
    pinned: frozenset[str] = frozenset()
    owner_user_id: str | None = None  # seller side: the Opportunity owner

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED_STATUSES

    def fields(self) -> dict[str, Any]:
        """``MAP_Milestone__c`` values by API name (``Plan__c``/``External_Id__c`` excluded)."""
        return {
            "Name": self.name[:80],
            "Key__c": self.key,
            "Sequence__c": self.sequence,
            "Stage__c": self.stage,
            "Owner_Side__c": self.side,
            "Owner_Role__c": self.role[:80],
            "Owner_Contact__c": self.owner_contact_id,
            "Owner_User__c": self.owner_user_id,
            "Baseline_Due_Date__c": self.baseline_due_date,
            "Due_Date__c": self.due_date,
            "Completed_Date__c": self.completed_date,
            "Status__c": self.status,
            "Days_Slipped__c": self.days_slipped,
            "Depends_On__c": _joined(self.depends_on, 255),  # names, for reps
            "Why_It_Matters__c": self.why[:255] or None,
            "Notes__c": self.notes,
        }


@dataclass(frozen=True, slots=True)
class DesiredPlan:
    """The plan one Opportunity should have, with its rollup onto the Opportunity."""

    opportunity_id: str
    template: str
    status: str
    health: str
    percent_complete: float
    target_close_date: dt.date
    projected_close_date: dt.date
    go_live_date: dt.date | None
    days_slipped: int
    slip_cause: str | None
    next_milestone: str | None
    next_due_date: dt.date | None
    summary: str | None
    success_criteria: str | None
    milestones: tuple[DesiredMilestone, ...]
    numbers: PlanNumbers = NO_NUMBERS
    compelling_event_date: dt.date | None = None
    compelling_event: str | None = None
    mapping_version: str | None = None

    def milestone(self, key: str) -> DesiredMilestone:
        """The milestone with ``key``; ``KeyError`` if the plan has none."""
        for m in self.milestones:
            if m.key == key:
                return m
        raise KeyError(key)

    def fields(self) -> dict[str, Any]:
        """``Mutual_Action_Plan__c`` values by API name (``External_Id__c`` excluded)."""
        return {
            "Opportunity__c": self.opportunity_id,
            "Template__c": self.template,
            "Status__c": self.status,
            "Health__c": self.health,
            "Percent_Complete__c": self.percent_complete,
            "Target_Close_Date__c": self.target_close_date,
            "Projected_Close_Date__c": self.projected_close_date,
            "Go_Live_Date__c": self.go_live_date,
            "Days_Slipped__c": self.days_slipped,
            "Slip_Cause__c": self.slip_cause,
            "Next_Milestone__c": self.next_milestone,
            "Next_Due_Date__c": self.next_due_date,
            "Summary__c": self.summary,
            "Success_Criteria__c": self.success_criteria,
            **self.numbers.plan_fields(),
            "Compelling_Event_Date__c": self.compelling_event_date,
            "Compelling_Event__c": self.compelling_event,
            "Mapping_Version__c": self.mapping_version,
        }

    def opportunity_rollup(self) -> dict[str, Any]:
        """The Opportunity's ``MAP_*`` fields, for forecasting."""
        return {
            "MAP_Health__c": self.health,
            "MAP_Percent_Complete__c": self.percent_complete,
            "MAP_Days_Slipped__c": self.days_slipped,
            "MAP_Projected_Close_Date__c": self.projected_close_date,
            **self.numbers.rollup_fields(),
        }


def _joined(keys: tuple[str, ...], limit: int) -> str | None:
    """Names separated by "; ", as many whole names as fit in the field."""
    out = ""
    for key in keys:
        candidate = f"{out}; {key}" if out else key
        if len(candidate) > limit:
            break
        out = candidate
    return out or None
