"""A Salesforce stand-in for testing the cycle's steps one at a time, without a server.

It answers the connector calls the steps make (``sync.cycle.org.Salesforce``): queries by the
object named after ``FROM``, upserts and deletes recorded with per-record results. The
end-to-end scenarios run against the local org over HTTPS; this is the seam at the hub that
lets pull, gather, push and commit be specified in isolation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult
from connectors.salesforce.usage import ApiUsage
from connectors.salesforce.write import Write

ORG_ID = "00D000000000001AAA"
ME = "005000000000001AAA"
REP = "005000000000002AAA"


@dataclass
class FakeSalesforce:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refuse: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (code, message)
    queries: list[str] = field(default_factory=list)
    upserts: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    composite_calls: int = 0
    resources: list[str] = field(default_factory=list)  # Get Updated / Deleted asked
    updated: dict[str, list[str]] = field(default_factory=dict)  # object -> Ids changed
    gone: dict[str, list[str]] = field(default_factory=dict)  # object -> Ids deleted
    usage: ApiUsage = field(default_factory=lambda: ApiUsage(budget_share=1.0))
    bulk_threshold: int = 2000
    server_time: dt.datetime | None = None
    org_id: str | None = ORG_ID
    user_id: str | None = ME
    _next_id: int = 0

    def connect(self) -> None:
        return None

    def set_write_guard(self, check: Any) -> None:
        return None

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]:
        self.composite_calls += 1
        self.queries.extend(soqls)
        return [list(self.rows.get(_object_of(q), [])) for q in soqls]

    def composite_read(self, soqls: Sequence[str], resources: Sequence[str], *,
                       include_deleted: bool = True,
                       ) -> tuple[list[list[dict[str, Any]]], list[tuple[int, Any]]]:
        """The queries as :meth:`composite_query` answers them; Get Updated and Get Deleted
        name the Ids in ``updated`` / ``gone`` (per object) and cover their whole window."""
        self.resources.extend(resources)
        rows = self.composite_query(soqls, include_deleted=include_deleted) if soqls else []
        answers: list[tuple[int, Any]] = []
        for path in resources:
            sobject, kind = path.split("/")[1:3]
            end = parse_qs(urlsplit(path).query)["end"][0].replace("Z", "+0000")
            if kind == "updated":
                answers.append((200, {"ids": list(self.updated.get(sobject, [])),
                                      "latestDateCovered": end}))
            else:
                answers.append((200, {"deletedRecords": [
                    {"id": i, "deletedDate": end} for i in self.gone.get(sobject, [])],
                    "latestDateCovered": end}))
        return rows, answers

    def upsert_auto(self, sobject: str, external_id_field: str,
                    records: Sequence[dict[str, Any]], group_key: Any = None,
                    ) -> list[RecordResult]:
        self.upserts.append((sobject, external_id_field, [dict(r) for r in records]))
        out = []
        for record in records:
            key = str(record[external_id_field])
            if key in self.refuse:
                code, message = self.refuse[key]
                out.append(RecordResult.failed(key, [RecordError(code, message, [])]))
            else:
                self._next_id += 1
                out.append(RecordResult(key, f"a0{self._next_id:016d}", True, created=True))
        return out

    def update_auto(self, sobject: str, records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]:
        return self.upsert_auto(sobject, "Id", records, group_key)

    def write_auto(self, writes: Sequence[Write]) -> list[list[RecordResult]]:
        return [self.upsert_auto(w.sobject, w.key, w.records, w.group_key) for w in writes]

    def delete(self, ids: Sequence[str]) -> list[RecordResult]:
        self.deleted.extend(ids)
        return [RecordResult(i, i, True) for i in ids]

    def query(self, soql: str, batch_size: int = 2000) -> Iterator[dict[str, Any]]:
        return iter(self.rows.get(_object_of(soql), []))

    def query_all(self, soql: str, batch_size: int = 2000) -> Iterator[dict[str, Any]]:
        return self.query(soql)

    def count(self, soql: str) -> int:
        return len(self.rows.get(_object_of(soql), []))

    def bulk_query(self, soql: str, *, include_deleted: bool = False,
                   max_records: int = 0) -> Iterator[dict[str, str | None]]:
        return iter([])


def _object_of(soql: str) -> str:
    match = re.search(r"\bFROM\s+(\w+)", soql)
    assert match, soql
    return match.group(1)


def opportunity(opp_id: str, stage: str = "Needs Analysis", close: str = "2031-06-30",
                stamp: str = "2030-01-02T10:00:00.000+0000", by: str = REP,
                **extra: Any) -> dict[str, Any]:
    return {"Id": opp_id, "IsDeleted": False, "SystemModstamp": stamp, "LastModifiedById": by,
            "Name": f"Deal {opp_id[-4:]}", "StageName": stage, "CloseDate": close,
            "Amount": 50_000.0, "Type": "New Business", "AccountId": None, **extra}
