"""The sequencer on its own: a chunk whose reads keep failing is split, not failed whole."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.errors import RetryableError
from mappings.loader import default_mapping_path, load_mapping
from sync.cycle import Org, run_cycle
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.store import Store
from sync.store.records import Watermark
from tests.cycle.fakes import ORG_ID, FakeSalesforce, opportunity

OPPS = [f"00600000000000{n}AAA" for n in range(1, 5)]


@dataclass
class TimingOut(FakeSalesforce):
    """Salesforce whose reads time out when they name more than ``most`` Opportunities."""

    most: int = 2

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]:
        for soql in soqls:
            if len(re.findall(r"'006\w+'", soql)) > self.most:
                raise RetryableError(f"QUERY_TIMEOUT: the query ran too long: {soql[:150]}",
                                     error_code="QUERY_TIMEOUT")
        return super().composite_query(soqls, include_deleted=include_deleted)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def test_a_chunk_whose_reads_time_out_is_split_and_each_half_lands(store: Store) -> None:
    mark = Watermark(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with store.transaction() as tx:
        for obj in (OPPORTUNITY, PLAN_OBJECT, MILESTONE_OBJECT):
            tx.set_watermark(ORG_ID, obj, mark)
    sf = TimingOut(rows={OPPORTUNITY: [opportunity(o) for o in OPPS]})
    org = Org.build(sf, store, load_mapping(default_mapping_path()),
                    clock=lambda: dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    report = run_cycle(org)
    assert report.outcome == "succeeded"
    assert report.plans_created == 4
    with store.transaction(write=False) as tx:
        assert len(tx.plan_index(ORG_ID, OPPS)) == 4
        moved = tx.watermark(ORG_ID, OPPORTUNITY)
    assert moved is not None
    assert moved.systemmodstamp > mark.systemmodstamp  # the marks moved with the last half


def test_a_single_opportunity_that_keeps_failing_fails_the_cycle(store: Store) -> None:
    mark = Watermark(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with store.transaction() as tx:
        for obj in (OPPORTUNITY, PLAN_OBJECT, MILESTONE_OBJECT):
            tx.set_watermark(ORG_ID, obj, mark)
    sf = TimingOut(rows={OPPORTUNITY: [opportunity(OPPS[0])]}, most=0)
    org = Org.build(sf, store, load_mapping(default_mapping_path()))
    with pytest.raises(RetryableError, match="QUERY_TIMEOUT"):
        run_cycle(org)
    with store.transaction(write=False) as tx:
        assert tx.watermark(ORG_ID, OPPORTUNITY) == mark
