"""Fields Salesforce computes from others on every save.

An Opportunity's ``IsClosed``/``IsWon`` follow its stage, its probability and forecast
category default from the stage, and contacts and users get a full ``Name``. mapsync reads
these (closed-won completes pre-close milestones), so the org computes them as Salesforce does.
"""

from __future__ import annotations

from datetime import date, datetime

from connectors.emulator.objects_task import derive_task
from connectors.emulator.standard_objects import STANDARD_STAGES

_STAGES = {s.name: s for s in STANDARD_STAGES}


def derive(sobject: str, row: dict[str, object], changed: dict[str, object],
           creating: bool, now: datetime | None = None) -> dict[str, object]:
    """The computed fields of ``row`` (the record after ``changed`` was applied; ``now``: the
    org's time of the save)."""
    if sobject == "Task":
        return derive_task(row, changed, creating, now)
    if sobject == "Opportunity":
        return _opportunity(row, changed, creating)
    if sobject in ("Contact", "User") and ("FirstName" in changed or "LastName" in changed
                                           or creating):
        first = row.get("FirstName") or ""
        last = row.get("LastName") or ""
        return {"Name": f"{first} {last}".strip() or None}
    return {}


def _opportunity(row: dict[str, object], changed: dict[str, object],
                 creating: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    stage = _STAGES.get(str(row.get("StageName")))
    if stage is not None and ("StageName" in changed or creating):
        out["IsClosed"] = int(stage.is_closed)
        out["IsWon"] = int(stage.is_won)
        if "Probability" not in changed:
            out["Probability"] = float(stage.probability)
        if "ForecastCategoryName" not in changed:
            out["ForecastCategoryName"] = stage.forecast_category
    amount = row.get("Amount")
    probability = out.get("Probability", row.get("Probability"))
    if isinstance(amount, int | float) and isinstance(probability, int | float):
        out["ExpectedRevenue"] = round(float(amount) * float(probability) / 100.0, 2)
    else:
        out["ExpectedRevenue"] = None
    close = row.get("CloseDate")
    if isinstance(close, str) and ("CloseDate" in changed or creating):
        try:
            d = date.fromisoformat(str(close))
            out["FiscalYear"] = d.year
            out["FiscalQuarter"] = (d.month - 1) // 3 + 1
        except ValueError:
            pass
    return out
