"""The numbers of a plan that managers forecast with, as one value the plan carries.

Kept apart from ``model.py`` so the plan's shape stays small: on-time rates per side, the last
day the plan moved and the business days since. ``measures.py`` computes them; the plan writes
them onto itself and rolls the forecasting ones up onto the Opportunity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PlanNumbers:
    """On-time rates (percent, ``None`` while nothing of that side was due) and progress."""

    buyer_on_time_rate: float | None = None
    seller_on_time_rate: float | None = None
    last_progress_date: dt.date | None = None
    days_since_progress: int | None = None

    def plan_fields(self) -> dict[str, Any]:
        """``Mutual_Action_Plan__c`` values by API name."""
        return {
            "Buyer_On_Time_Rate__c": self.buyer_on_time_rate,
            "Seller_On_Time_Rate__c": self.seller_on_time_rate,
            "Last_Progress_Date__c": self.last_progress_date,
            "Days_Since_Progress__c": self.days_since_progress,
        }

    def rollup_fields(self) -> dict[str, Any]:
        """The Opportunity's ``MAP_*`` values by API name."""
        return {
            "MAP_Buyer_On_Time_Rate__c": self.buyer_on_time_rate,
            "MAP_Seller_On_Time_Rate__c": self.seller_on_time_rate,
            "MAP_Days_Since_Progress__c": self.days_since_progress,
        }


NO_NUMBERS = PlanNumbers()
