"""The stage mapping RevOps write: which plan template an Opportunity gets and what is in it.

This is the typed form of ``mappings/*.yaml``. It only describes; loading and cross-checking
(unknown stages, cycles, duplicate keys, ...) live in ``mappings/loader.py`` and
``mappings/validate.py``; turning it into dated milestones is the planner's job (``sync``).
Unknown keys are rejected (``extra="forbid"``) so a typo in the YAML is an error, not a
silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

#: The mapping file versions this code reads.
SUPPORTED_VERSIONS = (1,)

#: The comparisons a rule condition may use, as written in YAML.
COMPARISONS = ("equals", "not_equals", "in", "not_in", "gte", "gt", "lte", "lt")


class Side(StrEnum):
    """Which side of the deal owns a milestone (the Salesforce picklist values)."""

    BUYER = "Buyer"
    SELLER = "Seller"
    JOINT = "Joint"


class Anchor(StrEnum):
    """Where a milestone is scheduled from.

    ``before_close`` milestones are worked back from the target close date (latest finish);
    ``after_close`` ones run forward from the close date to go-live and the ROI review.
    """

    BEFORE_CLOSE = "before_close"
    AFTER_CLOSE = "after_close"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _choice(enum: type[StrEnum], value: Any) -> Any:
    """Accept an enum value written in any case (``buyer``, ``Buyer``, ``BUYER``)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        for member in enum:
            if member.value.casefold() == value.strip().casefold():
                return member
    allowed = ", ".join(m.value.lower() for m in enum)
    raise ValueError(f"must be one of {allowed}")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    """Dates are written YYYY-MM-DD; anything else (numbers, 1/2/2025) is refused."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as err:
            raise ValueError(f"{value!r} is not a valid date ({err})") from None
    raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class Condition(_Strict):
    """One test on an Opportunity field; a template's rule holds when all its conditions do.

    ``field`` is the Opportunity field's API name (``Type``, ``Amount``, ``RecordType.Name``).
    Exactly one comparison is given (a range is two conditions on the same field), so a rule
    reads the same way it is evaluated. Text compares case-insensitively, as Salesforce does.
    """

    field: str
    equals: bool | str | float | None = None
    not_equals: bool | str | float | None = None
    in_: list[bool | str | float] | None = Field(default=None, alias="in")
    not_in: list[bool | str | float] | None = None
    gte: Decimal | None = None
    gt: Decimal | None = None
    lte: Decimal | None = None
    lt: Decimal | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_comparison(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if not data:
            raise ValueError(
                "empty condition: write field: <Opportunity field> and one comparison ("
                + ", ".join(COMPARISONS) + ")"
            )
        if "field" not in data:
            raise ValueError(
                "a condition is written field: <Opportunity field> plus one comparison, "
                "e.g. {field: Amount, gte: 100000}"
            )
        given = [k for k in (*COMPARISONS, "in_") if data.get(k) is not None]
        field = data.get("field")
        subject = f"condition on {field}" if isinstance(field, str) else "condition"
        if not given:
            raise ValueError(f"{subject} has no comparison: give one of " + ", ".join(COMPARISONS))
        if len(given) > 1:
            raise ValueError(
                f"{subject} has {len(given)} comparisons ({', '.join(given)}): give one per "
                "condition (write a range as two conditions on the same field)"
            )
        return data

    def matches(self, opportunity: dict[str, Any]) -> bool:
        """Whether ``opportunity`` (field name → value) satisfies this condition."""
        value = _lookup(opportunity, self.field)
        if self.equals is not None:
            return _same(value, self.equals)
        if self.not_equals is not None:
            return not _same(value, self.not_equals)
        if self.in_ is not None:
            return any(_same(value, v) for v in self.in_)
        if self.not_in is not None:
            return not any(_same(value, v) for v in self.not_in)
        number = _number(value)
        if number is None:
            return False
        checks = (
            (self.gte, lambda b: number >= b),
            (self.gt, lambda b: number > b),
            (self.lte, lambda b: number <= b),
            (self.lt, lambda b: number < b),
        )
        return all(check(bound) for bound, check in checks if bound is not None)


class MilestoneSpec(_Strict):
    """One step of a template, before it is dated."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str = Field(min_length=1, max_length=80)
    why: str = ""
    side: Side
    role: str = Field(min_length=1, max_length=80)
    stage: str | None = None  # passing this Opportunity stage completes the milestone
    duration: int = Field(default=0, ge=0, le=250)  # business days
    depends_on: list[str] = Field(default_factory=list)
    anchor: Anchor = Anchor.BEFORE_CLOSE
    go_live: bool = False  # this milestone's due date is the plan's go-live date

    @field_validator("side", mode="before")
    @classmethod
    def _side_any_case(cls, value: Any) -> Any:
        return _choice(Side, value)

    @field_validator("anchor", mode="before")
    @classmethod
    def _anchor_any_case(cls, value: Any) -> Any:
        return _choice(Anchor, value)

    @property
    def after_close(self) -> bool:
        return self.anchor is Anchor.AFTER_CLOSE


class CheckInCadence(StrEnum):
    """How often buyer and seller meet to walk the plan (the plan's picklist values)."""

    WEEKLY = "Weekly"
    EVERY_TWO_WEEKS = "Every two weeks"
    MONTHLY = "Monthly"

    @property
    def days(self) -> int:
        return {"Weekly": 7, "Every two weeks": 14, "Monthly": 28}[self.value]


def _cadence(value: Any) -> Any:
    """``weekly``, ``every_two_weeks``/``every two weeks``, ``monthly``, in any case."""
    if isinstance(value, str):
        value = value.replace("_", " ")
    return _choice(CheckInCadence, value)


class ResourceSpec(_Strict):
    """A document or link every plan of a template shows the buyer (a deck, a security pack)."""

    title: str = Field(min_length=1, max_length=120)
    link: str = Field(pattern=r"^https://\S+$", max_length=1000)
    side: Side = Side.SELLER  # who provides it

    @field_validator("side", mode="before")
    @classmethod
    def _side_any_case(cls, value: Any) -> Any:
        return _choice(Side, value)


class TaskSpec(_Strict):
    """Which milestones mapsync keeps as a Task for their owner, and the Task's reminder.

    A rep works from the Tasks on the Opportunity's activity timeline, not from a custom
    object; each open milestone of a listed side gets one (due on the milestone's due date),
    and completing the Task completes the milestone. Buyer-side milestones are the buyer's
    work, so by default they get none. ``sides: []`` turns Tasks off;
    ``reminder_days_before: null`` sets no reminder.
    """

    sides: list[Side] = Field(default_factory=lambda: [Side.SELLER, Side.JOINT])
    reminder_days_before: int | None = Field(default=1, ge=0, le=30)

    @field_validator("sides", mode="before")
    @classmethod
    def _sides_any_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("must be a list of sides, e.g. [seller, joint] ([] for none)")
        sides = []
        for v in value:
            try:
                sides.append(_choice(Side, v))
            except ValueError as err:
                raise ValueError(f"{v!r} is not a side: {err}") from None
        twice = sorted({s.value.lower() for s in sides if sides.count(s) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed more than once")
        return sides

    def covers(self, side: str | None) -> bool:
        """Whether a milestone of ``side`` (the Salesforce picklist value) gets a Task."""
        return any(s.value == side for s in self.sides)


class Template(_Strict):
    """A plan template: the milestones an Opportunity gets when its rule matches.

    ``share``: mapsync keeps a buyer-facing document of each plan as a Salesforce File on
    the Opportunity; ``check_in``: it keeps the next check-in as a Task for the rep;
    ``resources``: links every plan of the template shows the buyer; ``tasks``: which
    milestones become Tasks for their owner (the mapping's ``tasks`` when not given).
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    summary: str = ""
    success_criteria: str = ""
    when: list[Condition] = Field(default_factory=list)  # all must hold; empty = never by rule
    milestones: list[MilestoneSpec] = Field(min_length=1)
    share: bool = False
    check_in: CheckInCadence | None = None
    resources: list[ResourceSpec] = Field(default_factory=list)
    tasks: TaskSpec | None = None  # None: the mapping's own ``tasks``

    @field_validator("check_in", mode="before")
    @classmethod
    def _cadence_any_case(cls, value: Any) -> Any:
        return None if value is None else _cadence(value)

    def matches(self, opportunity: dict[str, Any]) -> bool:
        return bool(self.when) and all(c.matches(opportunity) for c in self.when)

    def milestone(self, key: str) -> MilestoneSpec | None:
        return next((m for m in self.milestones if m.key == key), None)


class CalendarSpec(_Strict):
    """Business days: weekends skipped, public holidays of a country, and listed dates."""

    skip_weekends: bool = True
    holidays_country: str | None = None  # ISO code for the ``holidays`` package, e.g. "US"
    holidays_subdivision: str | None = None  # e.g. "CA"
    holidays: list[IsoDate] = Field(default_factory=list)

    @field_validator("holidays_country", mode="before")
    @classmethod
    def _country_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class HealthThresholds(_Strict):
    """When a plan stops being On Track: days the projected close slips past the target, or
    business days without progress (no milestone completed or changed by anyone but mapsync)."""

    at_risk_days: int = Field(default=1, ge=0)
    off_track_days: int = Field(default=10, ge=0)
    stale_after_days: int = Field(default=15, ge=1)


class StageMapping(_Strict):
    """The whole mapping file."""

    version: int = Field(ge=1)
    stages: list[str] = Field(min_length=1)  # the Opportunity stage order this file assumes
    create_at: str  # a plan is created once the Opportunity reaches this stage
    closed_won: str
    closed_lost: str
    templates: list[Template] = Field(min_length=1)
    default_template: str | None = None
    calendar: CalendarSpec = CalendarSpec()
    health: HealthThresholds = HealthThresholds()
    tasks: TaskSpec = TaskSpec()

    @field_validator("version")
    @classmethod
    def _supported(cls, version: int) -> int:
        if version not in SUPPORTED_VERSIONS:
            readable = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
            raise ValueError(
                f"unsupported version {version} (this mapsync reads version {readable})"
            )
        return version

    def stage_index(self, stage: str | None) -> int | None:
        """Position of ``stage`` in the stage order (case-insensitive), ``None`` if unknown."""
        if stage is None:
            return None
        low = stage.casefold()
        return next((i for i, s in enumerate(self.stages) if s.casefold() == low), None)

    def template(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name == name), None)

    def tasks_for(self, template: str | None) -> TaskSpec:
        """The Task settings of ``template``: its own, else the mapping's."""
        own = self.template(template) if template else None
        return own.tasks if own is not None and own.tasks is not None else self.tasks

    def select_template(self, opportunity: dict[str, Any]) -> Template | None:
        """First template whose rule matches, else the default, else ``None``."""
        for t in self.templates:
            if t.matches(opportunity):
                return t
        return self.template(self.default_template) if self.default_template else None


def _lookup(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.casefold() == part.casefold()), None)
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _same(value: Any, expected: bool | str | float) -> bool:
    if isinstance(expected, bool):  # a checkbox field
        return isinstance(value, bool) and value is expected
    if isinstance(expected, str):
        return isinstance(value, str) and value.casefold() == expected.casefold()
    number = _number(value)
    return number is not None and number == Decimal(str(expected))
