"""Canonical JSON: equal values give equal text and equal hashes, whatever produced them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.store import canonical_fields, canonical_json, fields_hash
from sync.store.canonical import canonical_json_exact


def test_keys_are_sorted_and_there_is_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'


def test_equal_numbers_of_different_types_serialise_alike() -> None:
    texts = {canonical_json(v) for v in (10, 10.0, Decimal("10"), Decimal("10.00"), Decimal("1E1"))}
    assert texts == {"10"}
    assert canonical_json(Decimal("33.330")) == canonical_json(33.33) == "33.33"
    assert canonical_json(Decimal("-0.0")) == "0"


def test_dates_and_datetimes_are_written_as_salesforce_sends_them() -> None:
    paris = timezone(timedelta(hours=1))
    assert canonical_json(date(2026, 4, 1)) == '"2026-04-01"'
    assert canonical_json(datetime(2026, 4, 1, 13, 5, 7, 123456, tzinfo=paris)) == \
        '"2026-04-01T12:05:07.123+0000"'


def test_naive_datetimes_non_finite_numbers_and_unknown_types_are_refused() -> None:
    for bad in (datetime(2026, 4, 1), float("nan"), Decimal("Infinity"), object(), {1: "x"}):
        with pytest.raises((TypeError, ValueError)):
            canonical_json(bad)


def test_canonical_fields_are_what_the_store_gives_back() -> None:
    assert canonical_fields({"Due_Date__c": date(2026, 4, 1), "Percent__c": 50.0, "Slip": 0.5}) == \
        {"Due_Date__c": "2026-04-01", "Percent__c": 50, "Slip": Decimal("0.5")}


def test_the_hash_is_sha256_of_the_canonical_text_and_never_changes() -> None:
    # A literal: a stored hash must still match after a restart, an upgrade or a new machine.
    fields = {"Health__c": "At Risk", "Due_Date__c": date(2026, 4, 1), "Days_Slipped__c": 4.0}
    assert canonical_json(fields) == \
        '{"Days_Slipped__c":4,"Due_Date__c":"2026-04-01","Health__c":"At Risk"}'
    assert fields_hash(fields) == \
        "f5d173fe4aacb13e794a9675bf68ff4066bd684376c5c31ba97a41888463c539"


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.dates(), st.datetimes(timezones=st.just(UTC)),
)


@given(st.dictionaries(st.text(max_size=6), json_scalars, max_size=6))
def test_hash_depends_on_values_not_on_key_order(fields: dict) -> None:
    reordered = dict(reversed(list(fields.items())))
    assert fields_hash(reordered) == fields_hash(fields)
    assert canonical_json(canonical_fields(fields)) == canonical_json(fields)


nested = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=12,
)


@given(nested)
def test_the_fast_encoder_writes_exactly_what_the_exact_encoder_writes(value: object) -> None:
    assert canonical_json(value) == canonical_json_exact(value)
