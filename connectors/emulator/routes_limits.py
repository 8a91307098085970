"""``GET /limits``: the org's quotas, with the daily API requests the gate counts and the
Bulk batches and Bulk API 2.0 query jobs the org ran (``BulkTally``).

It is an API call itself (Salesforce counts it), so a client that polls it pays for it.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator.bulk_jobs import DAILY_BATCHES, DAILY_QUERY_JOBS
from connectors.emulator.gate import Call, json_response
from connectors.emulator.routing import api


def _pair(maximum: int, remaining: int) -> dict[str, int]:
    return {"Max": maximum, "Remaining": max(0, remaining)}


async def limits(call: Call) -> Response:
    org = call.org
    api_max = org.knobs.daily_api_limit
    bulk = org.bulk_tally.snapshot()
    return json_response({
        "ConcurrentAsyncGetReportInstances": _pair(200, 200),
        "ConcurrentSyncReportRuns": _pair(20, 20),
        "DailyApiRequests": _pair(api_max, api_max - org.api_calls),
        "DailyAsyncApexExecutions": _pair(250000, 250000),
        "DailyBulkApiBatches": _pair(DAILY_BATCHES, DAILY_BATCHES - bulk["batches"]),
        "DailyBulkV2QueryFileStorageMB": _pair(976562, 976562),
        "DailyBulkV2QueryJobs": _pair(DAILY_QUERY_JOBS, DAILY_QUERY_JOBS - bulk["query_jobs"]),
        "DataStorageMB": _pair(1024, 1024 - org.store.count(org.schema.objects["Opportunity"],
                                                             True) // 500),
        "FileStorageMB": _pair(20480, 20480),
        "HourlyODataCallout": _pair(10000, 10000),
        "HourlyTimeBasedWorkflow": _pair(1000, 1000),
        "SingleEmail": _pair(5000, 5000),
    })


ROUTES: list[BaseRoute] = api("/limits", limits, ["GET"])
