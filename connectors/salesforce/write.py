"""One write of records of one object, as :meth:`SalesforceClient.write_auto` takes several.

Upserts name their external id field as ``key``; updates (records known only by ``Id``, such
as Opportunity rollups) name ``Id``. ``group_key`` keeps the children of one parent in one
request or next to each other in a Bulk job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.sobject_collections import GroupKey


@dataclass(frozen=True)
class Write:
    """Records of ``sobject`` to upsert by ``key`` (``Id``: to update)."""

    sobject: str
    key: str
    records: Sequence[dict[str, Any]]
    group_key: GroupKey = None
