"""What the shadow keeps of a record mapsync wrote: what a later decision reads back, no more.

The shadow is a cache of what mapsync last wrote (Salesforce's field history is the record of
pins), and at a million Opportunities every byte of it counts eleven million times. So it keeps
per record only what the cycle reads from it:

- the template a plan was written with, verbatim (``gather`` plans by it; a template a rep
  typed over is put back),
- a milestone's status, completed, due and baseline dates, verbatim (a few bytes each: day
  one reads "written Done with no completed date", the baseline is the first committed due
  date, and a status or date that differs from Salesforce's is a rep's edit),
- a milestone's name and why-it-matters as 8-byte digests (only ever compared with
  Salesforce's value: a different one is a rep's edit),
- a milestone's Task: the fields mapsync keeps with its milestone, verbatim, and which of them
  are known to be a rep's (Task has no field history: what differs from mapsync's last write
  is the rep's, ``sync.cycle.tasks``),
- and that the record was written at all (a milestone mapsync wrote that Salesforce lacks
  was deleted by a rep; an Opportunity rollup keeps nothing else: nothing reads its values).

Service-owned values are never read back: the diff compares the desired values with what
Salesforce holds, so a rep's change to one is put back whatever the shadow says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.cycle.sobjects import MILESTONE_OBJECT, PLAN_OBJECT, TASK
from sync.cycle.tasks import REP_MARK, TRACKED
from sync.store.compact import Digest

VERBATIM: dict[str, frozenset[str]] = {
    PLAN_OBJECT: frozenset({"Template__c"}),
    MILESTONE_OBJECT: frozenset({"Status__c", "Completed_Date__c", "Due_Date__c",
                                 "Baseline_Due_Date__c"}),
    TASK: frozenset({*TRACKED, REP_MARK}),
}
COMPARED: dict[str, frozenset[str]] = {
    MILESTONE_OBJECT: frozenset({"Name", "Why_It_Matters__c"}),
}
_NOTHING: frozenset[str] = frozenset()


# per object, the fields kept (looked up in each record: fewer than the record has)
_KEPT: dict[str, tuple[str, ...]] = {
    sobject: tuple(sorted(VERBATIM.get(sobject, _NOTHING) | COMPARED.get(sobject, _NOTHING)))
    for sobject in {*VERBATIM, *COMPARED}}


def shadow_of(sobject: str, written: Mapping[str, Any]) -> dict[str, Any]:
    """What the shadow keeps of ``written`` (what mapsync wrote to a ``sobject`` record)."""
    compared = COMPARED.get(sobject, _NOTHING)
    out: dict[str, Any] = {}
    for name in _KEPT.get(sobject, ()):
        if name in written:
            value = written[name]
            out[name] = Digest.of(value) if name in compared and value is not None else value
    return out
