"""The Salesforce client the engine uses: every operation it needs, in the fewest calls.

One object per run and org. It logs in lazily with the configured flow, and each operation
goes through one transport that budgets, counts, classifies, retries and re-authenticates
(see ``transport.py``). Reads page lazily; writes return per-record results instead of raising
for the records Salesforce refused. ``simple_salesforce`` gives the underlying library on the
same session, for the few things (metadata deploys) the client does not wrap.

Writes: :meth:`upsert` always uses sObject Collections (200 records a call); :meth:`bulk_upsert`
always uses Bulk API 2.0; :meth:`upsert_auto` picks Bulk above ``SF_BULK_THRESHOLD`` records.
Records known only by ``Id`` go through :meth:`update` / :meth:`bulk_update` /
:meth:`update_auto` the same way: a Collections upsert takes external ids only.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import requests
import structlog
from simple_salesforce import Salesforce

from config.settings import Settings
from connectors.salesforce import queries, sobject_collections
from connectors.salesforce.auth import Token
from connectors.salesforce.bulk import BulkJobs, Ingest
from connectors.salesforce.results import RecordResult
from connectors.salesforce.retry import RetryPolicy, Sleep
from connectors.salesforce.session import build_session, configure_session
from connectors.salesforce.sobject_collections import GroupKey, group_function
from connectors.salesforce.transport import Transport
from connectors.salesforce.usage import ApiUsage
from connectors.salesforce.write import Write

log = structlog.get_logger(__name__)


class SalesforceClient:
    """A session with one org, built from Settings.

    ``sleep`` (retry waits, Bulk polling), ``session`` (an existing requests.Session, which is
    configured for Salesforce in place) and ``clock`` (wall time, for JWT expiry and Bulk
    deadlines) can be injected.
    """

    def __init__(self, settings: Settings, *, sleep: Sleep = time.sleep,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.session = (configure_session(session, settings) if session is not None
                        else build_session(settings))
        self._usage = ApiUsage(budget_share=settings.api_budget_share)
        self.policy = RetryPolicy.from_settings(settings, sleep)
        self.transport = Transport(settings, self.session, self._usage, self.policy, clock)
        self.bulk = BulkJobs(self.transport, settings.sf_bulk_poll_seconds, clock=clock)
        self._simple: Salesforce | None = None
        self.transport.on_token(self._forget_simple)

    def __repr__(self) -> str:
        return f"SalesforceClient(login_url={self.settings.sf_login_url!r}, usage={self._usage})"

    # --- session and identity -------------------------------------------------------------

    def connect(self) -> Token:
        """Log in now (otherwise the first call does); returns the session's identity."""
        return self.transport.authenticate()

    @property
    def token(self) -> Token:
        return self.transport.token

    @property
    def instance_url(self) -> str:
        return self.transport.token.instance_url

    @property
    def org_id(self) -> str | None:
        """The organization Id from the token response's identity URL."""
        return self.transport.token.org_id

    @property
    def user_id(self) -> str | None:
        """The integration user's Id from the token response's identity URL."""
        return self.transport.token.user_id

    def set_write_guard(self, check: Callable[[], None] | None) -> None:
        """Ask ``check`` right before every request that writes records (``None``: stop)."""
        self.transport.write_guard = check

    @property
    def server_time(self) -> dt.datetime | None:
        """Salesforce's clock at its last response (its ``Date`` header)."""
        return self._usage.server_time

    @property
    def bulk_threshold(self) -> int:
        """Records per write above which Bulk API 2.0 is used (``SF_BULK_THRESHOLD``)."""
        return self.settings.sf_bulk_threshold

    @property
    def usage(self) -> ApiUsage:
        """Calls this client made and the org's daily usage as last reported."""
        return self._usage

    @property
    def simple_salesforce(self) -> Salesforce:
        """simple-salesforce on this client's session and token (rebuilt after a re-login).

        Calls made through it are counted in :attr:`usage` but not budgeted or retried."""
        if self._simple is None:
            token = self.transport.token
            self._simple = Salesforce(instance_url=token.instance_url,
                                      session_id=token.access_token.get_secret_value(),
                                      session=self.session,
                                      version=self.settings.sf_api_version)
        return self._simple

    def _forget_simple(self, token: Token) -> None:
        self._simple = None

    # --- reads ----------------------------------------------------------------------------

    def query(self, soql: str, batch_size: int = queries.MAX_BATCH) -> Iterator[dict[str, Any]]:
        """Rows of ``soql`` (deleted rows excluded), fetched page by page as iterated."""
        return queries.iterate(self.transport, soql, include_deleted=False,
                               batch_size=batch_size)

    def query_all(self, soql: str,
                  batch_size: int = queries.MAX_BATCH) -> Iterator[dict[str, Any]]:
        """Rows of ``soql`` including deleted and archived ones (``IsDeleted``), lazily."""
        return queries.iterate(self.transport, soql, include_deleted=True,
                               batch_size=batch_size)

    def count(self, soql: str) -> int:
        """The ``totalSize`` of a ``SELECT COUNT() …`` query."""
        return queries.count(self.transport, soql)

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]:
        """All rows of each query, five queries per call (``queryAll`` unless told)."""
        return queries.composite(self.transport, soqls, include_deleted=include_deleted)

    def composite_read(self, soqls: Sequence[str], resources: Sequence[str], *,
                       include_deleted: bool = True,
                       ) -> tuple[list[list[dict[str, Any]]], list[queries.Answer]]:
        """All rows of each query, plus ``(status, body)`` of each resource (a path under the
        API version that is no query, such as Get Updated), which rides in the first call."""
        return queries.composite_read(self.transport, soqls, resources,
                                      include_deleted=include_deleted)

    def bulk_query(self, soql: str, *, include_deleted: bool = False,
                   max_records: int = 50_000) -> Iterator[dict[str, str | None]]:
        """Rows of ``soql`` through a Bulk 2.0 query job: strings, empty cells as None."""
        return self.bulk.query(soql, include_deleted=include_deleted, max_records=max_records)

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe (fields, picklist values, child relationships)."""
        response = self.transport.request("GET", f"sobjects/{sobject}/describe",
                                          context=f"describe {sobject}")
        result: dict[str, Any] = response.json()
        return result

    def limits(self) -> dict[str, Any]:
        """The org's limits, ``{name: {Max, Remaining}}`` (costs one call)."""
        result: dict[str, Any] = self.transport.request("GET", "limits",
                                                        context="limits").json()
        return result

    # --- writes ---------------------------------------------------------------------------

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]],
               group_key: GroupKey = None) -> list[RecordResult]:
        """Upsert by external id with sObject Collections, 200 a call, per-record results.

        ``group_key`` (a field name or a function of the record) keeps records of one group —
        children of one parent — in the same request when they fit."""
        return sobject_collections.upsert(self.transport, sobject, external_id_field, records,
                                          group_key)

    def bulk_upsert(self, sobject: str, external_id_field: str,
                    records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Upsert by external id with Bulk API 2.0; per-record results matched by external id."""
        return self.bulk.upsert(sobject, external_id_field, records)

    def upsert_auto(self, sobject: str, external_id_field: str,
                    records: Sequence[dict[str, Any]],
                    group_key: GroupKey = None) -> list[RecordResult]:
        """Collections up to ``SF_BULK_THRESHOLD`` records, Bulk API 2.0 above it.

        Records a Bulk job left retryable (a locked row, a job that ended early) are sent
        again through Collections, which retries them under the policy."""
        return self.write_auto([Write(sobject, external_id_field, records, group_key)])[0]

    def write_auto(self, writes: Sequence[Write]) -> list[list[RecordResult]]:
        """Several writes of different objects that do not depend on each other: the ones
        above ``SF_BULK_THRESHOLD`` records run as Bulk jobs processed side by side (one
        wait for all), the others through Collections. Per write, one result per record in
        input order; records Bulk left retryable are sent again through Collections."""
        bulky = [w for w in writes if len(w.records) > self.settings.sf_bulk_threshold]
        orders: dict[int, list[int]] = {}
        ingests = []
        for w in bulky:
            # Children of one parent next to each other land in the same internal batch of
            # the job, which Salesforce processes in parallel with the others.
            positions = list(range(len(w.records)))
            if w.group_key is not None:
                groups = [str(g) for g in map(group_function(w.group_key), w.records)]
                positions.sort(key=groups.__getitem__)
            orders[id(w)] = positions
            ingests.append(Ingest(w.sobject, w.key, [w.records[p] for p in positions],
                                  "update" if w.key == "Id" else "upsert"))
        answered = dict(zip((id(w) for w in bulky), self.bulk.write(ingests), strict=True))
        out: list[list[RecordResult]] = []
        for w in writes:
            if id(w) not in answered:
                out.append(self._collections(w, w.records))
                continue
            results: list[RecordResult] = list(answered[id(w)])
            for position, result in zip(orders[id(w)], answered[id(w)], strict=True):
                results[position] = result
            # Locked or unprocessed records are few: Collections retries them one by one.
            again = [p for p, r in enumerate(results) if r.outcome == "retryable"]
            if again:
                retried = self._collections(w, [w.records[p] for p in again])
                for position, result in zip(again, retried, strict=True):
                    results[position] = result
            out.append(results)
        return out

    def _collections(self, w: Write, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        if w.key == "Id":
            return self.update(w.sobject, records, w.group_key)
        return self.upsert(w.sobject, w.key, records, w.group_key)

    def update(self, sobject: str, records: Sequence[dict[str, Any]],
               group_key: GroupKey = None) -> list[RecordResult]:
        """Update records by ``Id`` with sObject Collections, 200 a call, per-record results."""
        return sobject_collections.update(self.transport, sobject, records, group_key)

    def bulk_update(self, sobject: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Update records by ``Id`` with Bulk API 2.0; per-record results matched by Id."""
        return self.bulk.update(sobject, records)

    def update_auto(self, sobject: str, records: Sequence[dict[str, Any]],
                    group_key: GroupKey = None) -> list[RecordResult]:
        """Collections up to ``SF_BULK_THRESHOLD`` records, Bulk API 2.0 above it; records a
        Bulk job left retryable are sent again through Collections."""
        return self.write_auto([Write(sobject, "Id", records, group_key)])[0]

    def create(self, sobject: str, record: dict[str, Any]) -> str:
        """Insert one record with the REST sObject resource; returns its Id (raises when
        refused). For what Collections does not carry: a File's version, base64 in JSON."""
        response = self.transport.request("POST", f"sobjects/{sobject}", json=record,
                                          context=f"create {sobject}")
        return str(response.json()["id"])

    def blob(self, path: str) -> bytes:
        """The bytes behind a blob field's URL (``/services/data/…/VersionData``)."""
        return self.transport.request("GET", path, context="read blob").content

    def delete(self, ids: Sequence[str]) -> list[RecordResult]:
        """Delete by Id with Collections, 200 a call; already-deleted records count as done."""
        return sobject_collections.delete(self.transport, ids)
