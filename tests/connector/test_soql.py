"""SOQL values are escaped into one literal; nothing a value holds changes the query."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.salesforce import SalesforceClient, soql
from tests.connector.conftest import API, add_token

HOSTILE = "O'Brien \\' OR Name LIKE '%"


def test_hostile_value_stays_one_string_literal() -> None:
    query = soql("SELECT Id FROM Opportunity WHERE Name = {name}", name=HOSTILE)
    assert query == ("SELECT Id FROM Opportunity WHERE Name = "
                     "'O\\'Brien \\\\\\' OR Name LIKE \\'%'")


def test_escaped_literal_has_no_unescaped_quote_inside() -> None:
    literal = soql("{v}", v=HOSTILE)
    inner = literal[1:-1]
    unescaped, escaped = [], False
    for ch in inner:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "'":
            unescaped.append(ch)
    assert unescaped == []
    assert not escaped


def test_dates_datetimes_lists_booleans_and_null_become_soql_literals() -> None:
    query = soql("x = {d} AND y > {t} AND z IN {ids} AND b = {flag} AND n = {none}",
                 d=date(2026, 3, 31), t=datetime(2026, 3, 31, 12, 30, 5, 999, tzinfo=UTC),
                 ids=["006A", "006'B"], flag=True, none=None)
    assert query == ("x = 2026-03-31 AND y > 2026-03-31T12:30:05+00:00 AND "
                     "z IN ('006A','006\\'B') AND b = true AND n = null")


def test_like_fragment_escapes_wildcards() -> None:
    assert soql("Name LIKE '{p:like}%'", p="50%_off'") == "Name LIKE '50\\%\\_off\\'%'"


def test_unescaped_insertion_is_refused() -> None:
    with pytest.raises(ValueError, match="does not insert unescaped"):
        soql("SELECT Id FROM {o:literal}", o="Opportunity")


def test_api_names_are_admitted_only_if_they_look_like_api_names() -> None:
    assert soql("SELECT {f:name} FROM X", f="Account.Name") == "SELECT Account.Name FROM X"
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        soql("SELECT {f:name} FROM X", f="Id FROM User --")


def test_hostile_value_reaches_salesforce_as_one_encoded_literal(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/query", json={"totalSize": 0, "done": True, "records": []})
    query = soql("SELECT Id FROM Opportunity WHERE Name = {name}", name=HOSTILE)
    list(client.query(query))
    sent = parse_qs(urlsplit(str(sf.calls[1].request.url)).query)["q"]
    assert sent == [query]
