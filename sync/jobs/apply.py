"""``mapsync mappings apply``: roll a changed stage mapping out to existing plans, on purpose.

The cycle and the reconcile hold a plan's milestones while its recorded mapping version
(``Mapping_Version__c``) differs from its template's (``sync.planner.frozen``). This job is
the one way a change reaches them: it finds the plans whose version differs from the given
mapping's, re-plans each with a planner that rolls the mapping out (new milestones added,
unpinned ones re-dated, sequence renumbered, the new version written), deletes the
milestones the mapping lost — or keeps a rep-changed one as Skipped (``sync.cycle.retire``)
— through the cycle's own steps (``run_batch``: gather → decide → push → commit). A dry
run reads and decides only, and says per plan what would change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from mappings.model import StageMapping
from sync.cycle import Org, RunControl, RunReport, run_batch
from sync.cycle.decide import Decisions
from sync.cycle.sobjects import (
    OPPORTUNITY,
    OPPORTUNITY_FIELDS,
    PLAN_OBJECT,
    milestone_key_of,
    opportunity_of,
)
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import CANCELLED
from sync.planner.planner import Planner
from sync.store.records import RunKind, RunOutcome

DEFAULT_BATCH_SIZE = 200  # Opportunity Ids per SOQL ``IN`` list and per run_batch
DUE_DATE = "Due_Date__c"


@dataclass(frozen=True)
class PlanPreview:
    """What applying the mapping does to one plan (milestone keys)."""

    opportunity_id: str
    opportunity: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept_skipped: tuple[str, ...] = ()
    redated: tuple[str, ...] = ()


@dataclass
class ApplyReport:
    """The plans behind the mapping, what was (or would be) done to each, and the runs."""

    behind: int = 0
    plans: list[PlanPreview] = field(default_factory=list)
    report: RunReport = field(default_factory=lambda: RunReport(kind=RunKind.BACKFILL))

    @property
    def removed(self) -> int:
        return sum(len(p.removed) for p in self.plans)


def rolling_out(org: Org, mapping: StageMapping | None = None) -> Org:
    """``org`` with a planner that gives every plan ``mapping`` (default: the org's)."""
    mapping = mapping or org.mapping
    planner = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar), roll_out=True)
    return replace(org, planner=planner)


def plans_behind(org: Org, planner: Planner) -> list[str]:
    """Opportunity Ids of the plans whose recorded mapping version is not the one
    ``planner``'s mapping gives their template (none recorded counts as behind). A cancelled
    plan (Closed Lost) is history: it keeps the milestones it ended with."""
    soql = (f"SELECT Opportunity__c, Template__c, Mapping_Version__c FROM {PLAN_OBJECT} "
            f"WHERE Status__c != {quote(CANCELLED)} ORDER BY Opportunity__c")
    behind = []
    for row in org.salesforce.query(soql):
        template = planner.mapping.template(str(row.get("Template__c") or ""))
        current = planner.version(template) if template is not None else None
        if row.get("Opportunity__c") and row.get("Mapping_Version__c") != current:
            behind.append(str(row["Opportunity__c"]))
    return behind


def _opportunities(org: Org, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
    names = ", ".join(OPPORTUNITY_FIELDS)
    listed = ", ".join(quote(i) for i in ids)
    yield from org.salesforce.query(f"SELECT {names} FROM {OPPORTUNITY} WHERE Id IN ({listed})")


def _key(external: str) -> str:
    return milestone_key_of(external) or external


def preview(decisions: Decisions, names: dict[str, str]) -> list[PlanPreview]:
    """Per plan of ``decisions``: milestones added, removed, kept Skipped, re-dated."""
    removed: dict[str, list[str]] = {}
    for external in decisions.delete_milestones:
        removed.setdefault(opportunity_of(external), []).append(_key(external))
    out = []
    for pc in decisions.changes:
        if pc.plan_id is None:
            continue
        opp = pc.opportunity_id
        kept = [m for m in pc.milestones if m.key in decisions.kept_milestones]
        out.append(PlanPreview(
            opp, names.get(opp, opp),
            added=tuple(_key(m.key) for m in pc.milestones if m.created),
            removed=tuple(sorted(removed.get(opp, ()))),
            kept_skipped=tuple(_key(m.key) for m in kept),
            redated=tuple(_key(m.key) for m in pc.milestones
                          if not m.created and DUE_DATE in m.fields and m not in kept),
        ))
    return out


def apply_mapping(org: Org, mapping: StageMapping | None = None, *, dry_run: bool = False,
                  control: RunControl | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE) -> ApplyReport:
    """Roll ``mapping`` (default: the org's) out to every plan behind it; stop early on the
    API limit or a stop request (a later apply picks up the plans still behind)."""
    control = control or RunControl()
    calls_before = org.salesforce.usage.calls
    rolled = rolling_out(org, mapping)
    kind = RunKind.BACKFILL_DRY_RUN if dry_run else RunKind.BACKFILL  # a backfill on purpose
    out = ApplyReport(report=RunReport(kind=kind))
    behind = plans_behind(rolled, rolled.planner)
    out.behind = len(behind)
    for ids in batched(behind, batch_size):
        if control.stop.requested:
            break
        rows = list(_opportunities(rolled, ids))
        names = {str(r["Id"]): str(r.get("Name") or r["Id"]) for r in rows}

        def seen(decisions: Decisions, names: dict[str, str] = names) -> None:
            out.plans.extend(preview(decisions, names))

        run = run_batch(rolled, rows, kind=kind, control=control, dry_run=dry_run,
                        on_decided=seen)
        out.report.add(run)
        if run.outcome == RunOutcome.RATE_LIMITED.value:
            break
    out.report.api_calls = org.salesforce.usage.calls - calls_before  # the finding included
    return out
