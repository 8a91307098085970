"""What the buyer sees of a plan: plain values in the buyer's words, nothing internal.

The buyer's copy of a Mutual Action Plan is built from what Salesforce holds (the plan, its
milestones, the Opportunity, its contact roles) by :func:`sync.share.build.shared_plan`, and
rendered by :mod:`sync.share.render`. This module is the shape in between: a value with no
Salesforce names in it, so the template cannot reach a field the buyer must not see (rep notes,
health thresholds, mapsync's slip-cause bookkeeping, internal ids). It is also what the
document's digest is computed from, so an unchanged plan gives an unchanged digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field

#: Outcome states as the buyer reads them (the plan's milestone statuses, in other words).
DONE, BEHIND, PLANNED, NOT_NEEDED = "Done", "Behind", "Planned", "Not needed"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone working on the deal: a buyer contact or the seller's account team."""

    name: str
    role: str
    side: str  # "Buyer" or "Seller": whose team
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One step of the plan, said as what it achieves and who owns it."""

    name: str
    why: str | None
    side: str  # "Buyer", "Seller" or "Joint"
    owner: str  # the named person, or "To be named"
    role: str
    committed: dt.date | None  # the date first agreed (baseline)
    expected: dt.date | None  # when it is now expected (done: when it was done)
    state: str  # DONE, BEHIND, PLANNED, NOT_NEEDED
    lateness: str | None  # "about a week late", in words; None when on time


@dataclass(frozen=True, slots=True)
class Resource:
    """A document or link shared with the buyer."""

    title: str
    link: str
    side: str  # who provides it


@dataclass(frozen=True, slots=True)
class Slip:
    """How far the plan runs behind, and where the delay comes from, in words."""

    business_days: int
    committed_close: dt.date | None
    expected_close: dt.date | None
    causes: tuple[str, ...]  # "Security review (buyer side)"
    sides: str  # "mostly on the buyer side"


@dataclass(frozen=True, slots=True)
class SharedPlan:
    """The buyer-facing plan of one Opportunity."""

    title: str  # the Opportunity's name
    buyer: str | None  # the Account's name
    seller: str | None  # the selling company (the org's name), if known
    why_we_are_here: str | None
    success_criteria: str | None
    target_close: dt.date | None
    go_live: dt.date | None
    compelling_event: str | None
    compelling_event_date: dt.date | None
    percent_done: int
    outcomes: tuple[Outcome, ...]
    slip: Slip | None
    resources: tuple[Resource, ...]
    collaborators: tuple[Person, ...]
    status: str  # "On schedule", "Behind schedule", "Completed", "Closed"
    as_of: dt.date = field(compare=False)  # the day it was rendered; not part of the digest

    @property
    def done(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.state == DONE)

    def digest(self) -> str:
        """SHA-256 of everything the document shows but its date: equal plans, equal digests.

        Rendered bytes are no good for this (a PDF carries its creation time), so the share
        job compares this digest with the one recorded on the plan to decide whether the
        buyer's File needs a new version."""
        values = asdict(self)
        values.pop("as_of")
        text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lateness_words(business_days: int) -> str | None:
    """A slip in words, as a buyer would say it (a week is five business days)."""
    if business_days <= 0:
        return None
    if business_days == 1:
        return "a day late"
    if business_days < 5:
        return f"{business_days} days late"
    weeks = round(business_days / 5)
    return "about a week late" if weeks == 1 else f"about {weeks} weeks late"
