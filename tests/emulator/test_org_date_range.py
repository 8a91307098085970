"""The local org refuses dates Salesforce cannot hold, as Salesforce does, over the wire.

Salesforce stores dates from 1700-01-01 to 4000-12-31 (datetimes from 1700-01-01T00:00:00Z
to 4000-12-31T00:00:00Z GMT); a value that parses but lies outside fails its record with
``FIELD_INTEGRITY_EXCEPTION``. The bounds themselves are accepted.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.errors import RecordFailed
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.schema import FieldDef
from connectors.emulator.values import to_storage


@pytest.fixture
def sf(demo_org: Any) -> Any:
    return salesforce_client(demo_org)


def new_opportunity(sf: Any, close: str) -> Any:
    account = sf.Account.create({"Name": "Far Future Ltd"})["id"]
    return sf.Opportunity.create({"Name": "Far future deal", "StageName": "Prospecting",
                                  "CloseDate": close, "AccountId": account})


@pytest.mark.parametrize("close", ["9999-12-31", "4001-01-01", "1699-12-31", "0001-01-01"])
def test_a_close_date_outside_1700_to_4000_is_refused_with_field_integrity_exception(
    sf: Any, close: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        new_opportunity(sf, close)
    error = refused.value.content[0]
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert error["fields"] == ["CloseDate"]
    assert close in error["message"]


@pytest.mark.parametrize("close", ["1700-01-01", "4000-12-31"])
def test_the_bounds_themselves_are_stored(sf: Any, close: str) -> None:
    created = new_opportunity(sf, close)
    assert sf.Opportunity.get(created["id"])["CloseDate"] == close


def test_an_update_to_an_out_of_range_date_is_refused_and_leaves_the_record(sf: Any) -> None:
    created = new_opportunity(sf, "2026-06-30")
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Opportunity.update(created["id"], {"CloseDate": "9999-12-31"})
    assert refused.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert sf.Opportunity.get(created["id"])["CloseDate"] == "2026-06-30"


def test_collections_fail_only_the_out_of_range_record(sf: Any) -> None:
    account = sf.Account.create({"Name": "Far Future Ltd"})["id"]
    results = sf.restful("composite/sobjects", method="POST", json={
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Opportunity"}, "Name": f"Deal {close}",
             "StageName": "Prospecting", "CloseDate": close, "AccountId": account}
            for close in ["4000-12-31", "4001-01-02"]
        ],
    })
    assert results[0]["success"] is True
    assert results[1]["success"] is False
    assert results[1]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"


@pytest.mark.parametrize(("value", "accepted"), [
    ("1700-01-01T00:00:00Z", True), ("4000-12-31T00:00:00Z", True),
    ("1699-12-31T23:59:59Z", False), ("4000-12-31T00:00:01Z", False),
])
def test_datetimes_outside_the_range_are_refused_too(value: str, accepted: bool) -> None:
    field = FieldDef(name="Stamp__c", type="datetime", label="Stamp")
    if accepted:
        assert to_storage(field, value)
    else:
        with pytest.raises(RecordFailed) as refused:
            to_storage(field, value)
        assert refused.value.errors[0].status_code == "FIELD_INTEGRITY_EXCEPTION"
