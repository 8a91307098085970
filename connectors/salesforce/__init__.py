"""The Salesforce connector: one client that authenticates, budgets, retries and classifies.

The cycle and the jobs import :class:`SalesforceClient` and the result types from here; everything
Salesforce-specific (the error table, Collections chunking, Bulk jobs) stays behind it.
"""

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import (
    ConcurrentLimitError,
    DuplicateValueError,
    RecordError,
    SessionExpiredError,
)
from connectors.salesforce.results import RecordResult
from connectors.salesforce.soql import soql
from connectors.salesforce.usage import ApiUsage

__all__ = [
    "ApiUsage",
    "ConcurrentLimitError",
    "DuplicateValueError",
    "RecordError",
    "RecordResult",
    "SalesforceClient",
    "SessionExpiredError",
    "soql",
]
