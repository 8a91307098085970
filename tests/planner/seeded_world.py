"""A seeded world of Opportunities living through a few sync cycles, for the golden test.

The planner is fast because it remembers and shortcuts (shared first plans, compiled
templates, memoised dates); none of that may change an answer. This replays many deals
through what happens to them — stages moving both ways, close dates moving, reps editing,
deleting and adding milestones, owners and contact roles, compelling events, a plan left
alone for weeks, a mapping changed and later applied — and reduces every plan the planner
returns to one canonical text (independent of hash seeds), so a digest of it pins the
planner's behaviour exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mappings.model import StageMapping
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DesiredPlan, MilestoneState, Opportunity, PlanState
from sync.planner.planner import Planner
from sync.planner.written import state_after_writing
from tests.planner.sample_mapping import ENTERPRISE, MID_MARKET, STAGES, _m

START = dt.date(2026, 11, 20)
ROLES = ("Economic Buyer", "Champion", "legal", "Security", "Procurement", "")
RENEWAL = [
    _m("health_check", "Joint", "Champion", 5, [], stage="Needs Analysis"),
    _m("renewal_quote", "Seller", "Account Executive", 3, ["health_check"],
       stage="Proposal/Price Quote"),
    _m("signature", "Buyer", "Economic Buyer", 2, ["renewal_quote"]),
    _m("expansion", "Joint", "Champion", 10, ["signature"], anchor="after_close"),
]


def world_mapping(longer: bool = False) -> StageMapping:
    """Three templates chosen by amount, type and a custom field; ``longer``: a changed
    enterprise template (longer security review, a step added), for held and applied plans."""
    enterprise = [dict(m) for m in ENTERPRISE]
    if longer:
        enterprise[3] = {**enterprise[3], "duration": 25}
        enterprise.append(_m("pilot", "Joint", "Champion", 10, ["success_criteria"]))
    return StageMapping.model_validate({
        "version": 1, "stages": STAGES, "create_at": "Qualification",
        "closed_won": "Closed Won", "closed_lost": "Closed Lost",
        "templates": [
            {"name": "renewal", "summary": "Renewal",
             "when": [{"field": "type", "equals": "Existing Business"},
                      {"field": "Region__c", "in": ["EMEA", "APAC"]}],
             "milestones": RENEWAL},
            {"name": "enterprise", "when": [{"field": "Amount", "gte": 100000}],
             "summary": "Enterprise rollout", "success_criteria": "Live by Q3",
             "milestones": enterprise},
            {"name": "mid_market", "milestones": MID_MARKET},
        ],
        "default_template": "mid_market",
        "calendar": {"skip_weekends": True, "holidays_country": "US",
                     "holidays": [dt.date(2026, 12, 28), dt.date(2027, 3, 1)]},
        "health": {"at_risk_days": 1, "off_track_days": 10, "stale_after_days": 15},
    })


def histories(count: int, seed: int) -> Iterator[list[str]]:
    """For each of ``count`` seeded deals, the canonical text of every plan it was given."""
    mapping, changed = world_mapping(), world_mapping(longer=True)
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    planners = {"as is": Planner(mapping, calendar), "changed": Planner(changed, calendar),
                "apply": Planner(changed, calendar, roll_out=True)}
    rng = random.Random(seed)
    for n in range(count):
        yield list(_history(rng, n, planners))


def _history(rng: random.Random, n: int, planners: dict[str, Planner]) -> Iterator[str]:
    opp = _opportunity(rng, n)
    state: PlanState | None = None
    today = START
    which = "as is"
    for _cycle in range(rng.randint(2, 5)):
        desired = planners[which].plan(opp, state, today)
        yield canonical(desired)
        if desired is not None:
            state = state_after_writing(desired, state)
        today += dt.timedelta(days=rng.choice((1, 1, 3, 7, 30)))
        opp, state = _events(rng, opp, state, today)
        if state is not None and rng.random() < 0.15:
            which = rng.choice(("changed", "apply"))


def _opportunity(rng: random.Random, n: int) -> Opportunity:
    roles = tuple((rng.choice(ROLES), f"003{n:010d}{i}AA") for i in range(rng.randint(0, 5)))
    fields: dict[str, Any] = {}
    if rng.random() < 0.7:
        fields["OwnerId"] = f"005{n:012d}AA"
    if rng.random() < 0.4:
        fields["Region__c"] = rng.choice(("EMEA", "APAC", "NA"))
    if rng.random() < 0.1:
        fields["Amount"] = rng.choice((50_000.0, 250_000.0, "x"))  # as the REST API sends it
    close = None if rng.random() < 0.03 else START + dt.timedelta(days=rng.randint(-90, 400))
    return Opportunity(
        id=f"006{n:012d}AAA", name=f"Deal {n}", stage=rng.choice(STAGES[:9] + STAGES[1:8]),
        close_date=close, amount=Decimal(rng.choice((15_000, 90_000, 150_000, 600_000))),
        type=rng.choice(("New Business", "Existing Business", None)),
        fields=fields, contact_roles=roles, is_deleted=rng.random() < 0.01,
    )


def _events(rng: random.Random, opp: Opportunity, state: PlanState | None,
            today: dt.date) -> tuple[Opportunity, PlanState | None]:
    """What may happen to a deal between two cycles: the rep moves it, edits its plan."""
    if rng.random() < 0.4:
        opp = dataclasses.replace(opp, stage=rng.choice(STAGES))
    if rng.random() < 0.2:
        shift = dt.timedelta(days=rng.randint(-20, 60))
        opp = dataclasses.replace(opp, close_date=(opp.close_date or today) + shift)
    if rng.random() < 0.1:
        opp = dataclasses.replace(opp, contact_roles=opp.contact_roles[::-1])
    if state is None or not state.milestones:
        return opp, state
    milestones = dict(state.milestones)
    for _ in range(rng.randint(0, 3)):
        key = rng.choice(sorted(milestones))
        milestones[key] = _rep_edit(rng, milestones[key], today)
    changes: dict[str, Any] = {}
    if rng.random() < 0.1:
        changes["deleted"] = state.deleted | {rng.choice(sorted(milestones))}
    if rng.random() < 0.1:
        added = MilestoneState(key=f"a0X{rng.randint(0, 99)}", name="Portal registration",
                               status=rng.choice(("Not Started", "Done", None)),
                               due_date=today + dt.timedelta(days=rng.randint(-30, 30)))
        milestones[added.key] = added
    if rng.random() < 0.15:
        changes["compelling_event_date"] = today + dt.timedelta(days=rng.randint(-10, 90))
        changes["compelling_event"] = rng.choice((None, "Board meeting"))
    if rng.random() < 0.1:
        changes["last_progress_date"] = today - dt.timedelta(days=rng.randint(0, 60))
    if rng.random() < 0.05:
        changes["go_live_date"] = today + dt.timedelta(days=rng.randint(30, 200))
    if rng.random() < 0.05:
        changes["written"] = {**state.written, "Template__c": "enterprise"}
    return opp, dataclasses.replace(state, milestones=milestones, **changes)


def _rep_edit(rng: random.Random, m: MilestoneState, today: dt.date) -> MilestoneState:
    kind = rng.randrange(8)
    if kind == 0:
        return dataclasses.replace(m, status=rng.choice(("Done", "In Progress", "Blocked",
                                                         "Not Started", "Skipped")))
    if kind == 1:
        return dataclasses.replace(m, due_date=(m.due_date or today)
                                   + dt.timedelta(days=rng.randint(-10, 20)))
    if kind == 2:
        return dataclasses.replace(m, status="Done",
                                   completed_date=today - dt.timedelta(days=rng.randint(0, 9)))
    if kind == 3:
        return dataclasses.replace(m, name=f"{m.name} (buyer's words)", why="Because")
    if kind == 4:
        return dataclasses.replace(m, owner_contact_id=None, owner_user_id="005OTHER")
    if kind == 5:
        return dataclasses.replace(m, touched_on=today, notes="Called them")
    if kind == 6:
        return dataclasses.replace(m, rep_pins=m.rep_pins | {"Due_Date__c"})
    return m


def canonical(value: object) -> str:
    """One text for a plan whatever the hash seed: sets sorted, dataclasses by field."""
    return repr(_plain(value))


def _plain(value: object) -> object:
    if isinstance(value, DesiredPlan) or dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple(
            (f.name, _plain(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, frozenset | set):
        return tuple(sorted(_plain(v) for v in value))  # type: ignore[type-var]
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    return value
