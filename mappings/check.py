"""Comparing the stages a mapping assumes with the stages an org really has.

A mapping written for Salesforce's standard stages silently stops completing milestones in an
org whose admins renamed "Negotiation/Review". ``mapsync mappings check`` reads the org's Stage
picklist and reports the difference through :func:`compare_stages`, so RevOps see it before a
rollout, not in a forecast review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mappings.model import StageMapping


@dataclass(frozen=True)
class StageComparison:
    """How a mapping's stage list differs from the org's (names compare ignoring case)."""

    missing_in_org: list[str]  # the mapping expects them; the org has no such stage
    ignored_by_mapping: list[str]  # the org has them; the mapping does not list them
    out_of_order: list[str] = field(default_factory=list)  # shared stages ordered differently

    @property
    def matches(self) -> bool:
        return not (self.missing_in_org or self.ignored_by_mapping or self.out_of_order)

    def problems(self) -> list[str]:
        """One sentence per difference, for the command's output."""
        out = [
            f"stage {s!r} is in the mapping but not in the org's Stage picklist"
            for s in self.missing_in_org
        ]
        out += [
            f"the org's stage {s!r} is not in the mapping's stages; Opportunities in it get "
            "no stage-driven progress" for s in self.ignored_by_mapping
        ]
        if self.out_of_order:
            out.append(
                "stages in a different order than the org's picklist: "
                + ", ".join(repr(s) for s in self.out_of_order)
            )
        return out


def compare_stages(mapping: StageMapping, org_stages: list[str]) -> StageComparison:
    """Stages each side lacks, in each side's own order, and the shared ones out of order."""
    org = {s.casefold() for s in org_stages}
    ours = {s.casefold() for s in mapping.stages}
    missing = [s for s in mapping.stages if s.casefold() not in org]
    ignored = [s for s in org_stages if s.casefold() not in ours]
    shared_ours = [s for s in mapping.stages if s.casefold() in org]
    shared_org = [s.casefold() for s in org_stages if s.casefold() in ours]
    out_of_order = [s for s, o in zip(shared_ours, shared_org, strict=False) if s.casefold() != o]
    return StageComparison(missing, ignored, out_of_order)
