"""Cross-checks of a stage mapping: the mistakes a schema cannot see.

The schema (``mappings/model.py``) checks each value on its own; this module checks how values
relate: stages that are not in the stage list, duplicate keys, dependencies on missing keys,
dependency cycles, a pre-close milestone waiting on a post-close one, unknown holiday countries.
It reads the plain data loaded from YAML and skips whatever the schema already refused, so one
run reports the schema's findings and these together, and RevOps fix the file in one pass.

Errors make the file unusable; warnings (such as a plan past 30 milestones) do not.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import holidays

from mappings.graph import find_cycles
from mappings.model import StageMapping

#: Past this many milestones a plan stops helping (MAP practice); a warning, not an error.
MAX_USEFUL_MILESTONES = 30


@dataclass
class Findings:
    """What a check found, in the order of the file."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Milestone:
    where: str  # templates[0].milestones[3]
    key: str | None
    stage: str | None
    depends_on: list[str]
    after_close: bool | None  # None: anchor unreadable, already reported
    go_live: bool


def validate_mapping(mapping: StageMapping) -> Findings:
    """Cross-check a mapping already built (in code or by the loader)."""
    return cross_check(mapping.model_dump(mode="json", by_alias=True))


def cross_check(data: Mapping[str, Any]) -> Findings:
    """Every relational problem of a loaded mapping file, tolerating malformed parts."""
    found = Findings()
    stages = _check_stages(data, found)
    names = _check_template_names(data, found)
    default = _text(data.get("default_template"))
    if default is not None and names and default not in names:
        found.errors.append(
            f"default_template: no template named {default!r}{_suggest(default, names)}"
        )
        default = None if data.get("default_template") is None else ""  # reported already
    create_at = stages.index_of(_text(data.get("create_at")))
    for i, template in _items(data.get("templates")):
        _check_template(i, template, stages, create_at, default, found)
    _check_calendar(data.get("calendar"), found)
    _check_health(data.get("health"), found)
    return found


@dataclass(frozen=True)
class _Stages:
    names: list[str]
    closed_lost: str | None

    def index_of(self, stage: str | None) -> int | None:
        if stage is None:
            return None
        low = stage.casefold()
        return next((i for i, s in enumerate(self.names) if s.casefold() == low), None)


def _check_stages(data: Mapping[str, Any], found: Findings) -> _Stages:
    raw = data.get("stages")
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, stage in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(stage, str):
            continue
        if stage.casefold() in seen:
            found.errors.append(
                f"stages[{i}]: {stage!r} is listed twice (also stages[{seen[stage.casefold()]}])"
            )
            continue
        seen[stage.casefold()] = i
        names.append(stage)
    stages = _Stages(names, _text(data.get("closed_lost")))
    if not names:
        return stages  # the schema reported the missing or malformed list
    positions = {}
    for name in ("create_at", "closed_won", "closed_lost"):
        value = _text(data.get(name))
        position = stages.index_of(value)
        if value is not None and position is None:
            found.errors.append(f"{name}: {value!r} is not one of stages{_suggest(value, names)}")
        positions[name] = position
    won, lost, create = positions["closed_won"], positions["closed_lost"], positions["create_at"]
    if won is not None and won == lost:
        found.errors.append("closed_lost: must be a different stage from closed_won")
    if create is not None and create in (won, lost):
        found.errors.append("create_at: a plan cannot be created at a closed stage")
    elif create is not None and won is not None and create > won:
        found.errors.append(
            f"create_at: {names[create]!r} comes after closed_won {names[won]!r} in stages"
        )
    return stages


def _check_template_names(data: Mapping[str, Any], found: Findings) -> list[str]:
    names: list[str] = []
    first: dict[str, int] = {}
    for i, template in _items(data.get("templates")):
        name = _text(template.get("name"))
        if name is None:
            continue
        if name in first:
            found.errors.append(
                f"templates[{i}].name: duplicate template name {name!r} "
                f"(also templates[{first[name]}])"
            )
        else:
            first[name] = i
            names.append(name)
    return names


def _check_template(
    i: int,
    template: Mapping[str, Any],
    stages: _Stages,
    create_at: int | None,
    default: str | None,
    found: Findings,
) -> None:
    name = _text(template.get("name"))
    label = f"templates[{i}] ({name})" if name else f"templates[{i}]"
    milestones = _milestones(i, template)
    keys = _check_keys(milestones, found)
    for m in milestones:
        _check_milestone_stage(m, stages, create_at, found)
        _check_dependencies(m, keys, found)
    for cycle in find_cycles({k: [d for d in m.depends_on if d in keys] for k, m in keys.items()}):
        found.errors.append(f"{label}: dependency cycle " + " -> ".join(cycle))
    _check_stage_order(keys, stages, found)
    live = [m for m in milestones if m.go_live]
    if len(live) > 1:
        found.errors.append(
            f"{label}: {len(live)} milestones are marked go_live ("
            + ", ".join(str(m.key) for m in live) + "); mark only the go-live itself"
        )
    for m in live:
        if m.after_close is False:
            found.errors.append(f"{m.where}.go_live: the go-live milestone must be after_close")
    if len(milestones) > MAX_USEFUL_MILESTONES:
        found.warnings.append(
            f"{label}: {len(milestones)} milestones; plans longer than "
            f"{MAX_USEFUL_MILESTONES} steps stop helping (aim for 5-12)"
        )
    if milestones and not any(m.after_close for m in milestones):
        found.warnings.append(
            f"{label}: the plan ends at the signature; end it with the buyer's value "
            "(go-live, ROI review) anchored after_close"
        )
    if not template.get("when") and name is not None and default != "" and name != default:
        found.warnings.append(
            f"{label}: no `when` rule and not the default_template, so no Opportunity gets it"
        )


def _milestones(i: int, template: Mapping[str, Any]) -> list[_Milestone]:
    out = []
    for j, raw in _items(template.get("milestones")):
        anchor = raw.get("anchor", "before_close")
        anchor_text = anchor.strip().casefold() if isinstance(anchor, str) else None
        depends = raw.get("depends_on")
        out.append(
            _Milestone(
                where=f"templates[{i}].milestones[{j}]",
                key=_text(raw.get("key")),
                stage=_text(raw.get("stage")),
                depends_on=[d for d in depends if isinstance(d, str)]
                if isinstance(depends, list)
                else [],
                after_close={"after_close": True, "before_close": False}.get(anchor_text or ""),
                go_live=raw.get("go_live") is True,
            )
        )
    return out


def _check_keys(milestones: list[_Milestone], found: Findings) -> dict[str, _Milestone]:
    keys: dict[str, _Milestone] = {}
    for m in milestones:
        if m.key is None:
            continue
        if m.key in keys:
            other = keys[m.key].where.rsplit(".", 1)[-1]
            found.errors.append(f"{m.where}.key: duplicate key {m.key!r} (also {other})")
        else:
            keys[m.key] = m
    return keys


def _check_milestone_stage(
    m: _Milestone, stages: _Stages, create_at: int | None, found: Findings
) -> None:
    if m.stage is None or not stages.names:
        return
    position = stages.index_of(m.stage)
    if position is None:
        found.errors.append(
            f"{m.where}.stage: unknown stage {m.stage!r}, not one of stages"
            + _suggest(m.stage, stages.names)
        )
    elif stages.index_of(stages.closed_lost) == position:
        found.errors.append(f"{m.where}.stage: {m.stage!r} is the closed_lost stage and "
                            "completes nothing")
    elif create_at is not None and position < create_at:
        found.warnings.append(
            f"{m.where}.stage: {m.stage!r} comes before create_at {stages.names[create_at]!r}, "
            f"so {m.key or 'the milestone'} is already done when the plan is created"
        )


def _check_dependencies(m: _Milestone, keys: dict[str, _Milestone], found: Findings) -> None:
    for dep in m.depends_on:
        target = keys.get(dep)
        if target is None:
            found.errors.append(
                f"{m.where}.depends_on: unknown milestone {dep!r}" + _suggest(dep, list(keys))
            )
        elif m.after_close is False and target.after_close is True:
            found.errors.append(
                f"{m.where}.depends_on: {m.key} is before close but depends on {dep}, which "
                "is after close (it would have to finish before close but start after it)"
            )


def _check_stage_order(keys: dict[str, _Milestone], stages: _Stages, found: Findings) -> None:
    """A milestone completed by an earlier stage than one it waits on is out of order."""
    for m in keys.values():
        mine = stages.index_of(m.stage)
        if mine is None:
            continue
        for dep in m.depends_on:
            target = keys.get(dep)
            if target is None or target.stage is None:
                continue
            theirs = stages.index_of(target.stage)
            if theirs is not None and theirs > mine:
                found.warnings.append(
                    f"{m.where}.stage: {m.key} completes at {m.stage!r}, before {dep} it "
                    f"depends on (completes at {target.stage!r})"
                )


def _check_calendar(raw: Any, found: Findings) -> None:
    if not isinstance(raw, Mapping):
        return
    country = _text(raw.get("holidays_country"))
    subdivision = _text(raw.get("holidays_subdivision"))
    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if country is not None:
        country = country.strip().upper()
        if country not in supported:
            found.errors.append(
                f"calendar.holidays_country: unknown country {country!r} for the holidays "
                f"package (ISO 3166 codes such as US, GB, DE){_suggest(country, list(supported))}"
            )
            return
    if subdivision is None:
        return
    if country is None:
        found.errors.append("calendar.holidays_subdivision: set holidays_country too")
    elif subdivision not in supported[country]:
        known = ", ".join(supported[country][:8]) or "none"
        found.errors.append(
            f"calendar.holidays_subdivision: {subdivision!r} is not a subdivision of {country} "
            f"(known: {known}{', ...' if len(supported[country]) > 8 else ''})"
        )


def _check_health(raw: Any, found: Findings) -> None:
    if not isinstance(raw, Mapping):
        return
    at_risk, off_track = raw.get("at_risk_days"), raw.get("off_track_days")
    if isinstance(at_risk, int) and isinstance(off_track, int) and off_track < at_risk:
        found.errors.append(
            f"health.off_track_days: must be at least at_risk_days ({at_risk}), got {off_track}"
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _items(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in choices}
        close = [lowered[value.casefold()]] if value.casefold() in lowered else []
    return f" (did you mean {close[0]!r}?)" if close else ""
