"""parse(): what Salesforce's SOQL parser accepts and rejects, and the AST it yields.

The accept/reject tables were checked against Salesforce's own parser
(``@salesforce/soql-common``): every query there answered the same, except that one ignores
characters it cannot lex (``;``, ``!``) where the Salesforce API rejects them. A query that is
valid SOQL but uses something the local org cannot run counts as accepted when the error says
``unsupported``.
"""

from __future__ import annotations

import pytest

from connectors.emulator.soql import Query, SoqlError, parse
from connectors.emulator.soql import ast as soql_ast

ACCEPTED = [
    # Salesforce documents \f and simple-salesforce writes it; soql-common alone refuses it
    "SELECT Id FROM Account WHERE a = 'a\\fb'",
    "SELECT Id FROM Account",
    "SELECT Id FROM Account a",
    "SELECT a.Id FROM Account a",
    "SELECT Id FROM Account WHERE (a = 1 AND b = 2) OR c = 3",
    "SELECT Id x FROM Account",
    "SELECT Id FROM Account WHERE NOT a = 1",
    "SELECT Id FROM Account WHERE a = 'x\\'y'",
    "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:3",
    "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS : 3",
    "SELECT Id FROM Account WHERE CreatedDate > 2024-01-31T10:00:00Z",
    "SELECT Id FROM Account WHERE CreatedDate > 2024-01-31T10:00:00.000+01:00",
    "SELECT Id FROM Account WHERE CreatedDate > 2024-01-31",
    "SELECT Id FROM Account WHERE a IN ('x','y')",
    "SELECT Id FROM Account WHERE a NOT IN ('x')",
    "SELECT Id FROM Account WHERE a INCLUDES ('x;y','z')",
    "SELECT COUNT() FROM Account",
    "SELECT Id FROM Account ORDER BY Name DESC NULLS LAST, Id",
    "SELECT Id FROM Account LIMIT 5 OFFSET 3",
    "SELECT Id FROM Account WHERE a = -1.5",
    "SELECT Id FROM Account WHERE a = +1",
    "SELECT Id FROM Account WHERE a = null",
    "SELECT Id FROM Account WHERE a = TRUE",
    "select id from account where name like 'a%'",
    "SELECT Id FROM Account WHERE a = 1 OR b = 2 OR c = 3",
    "SELECT Id FROM Account WHERE a = 1 AND (b = 2 OR c = 3) AND d = 4",
    "SELECT Id FROM Account LIMIT -5",
    "SELECT Id, Id FROM Account",
    "SELECT Account.Owner.Name FROM Opportunity",
    "SELECT Id FROM Account WHERE (NOT a = 1) AND b = 2",
    "SELECT Id FROM Account WHERE NOT (a = 1 OR b = 2)",
    "SELECT Id FROM Account WHERE a = 1 OR (NOT b = 2)",
    "SELECT Id FROM Account WHERE ((a = 1))",
    "SELECT Id FROM Account WHERE a LIKE 5",
    "SELECT Id FROM Account WHERE a = .5",
    "SELECT Id FROM Account WHERE a != null",
    "SELECT Id FROM Account WHERE a <> 1",
    "SELECT Id FROM Account ORDER BY Name NULLS FIRST",
    "SELECT Name, Type FROM Account",
    "SELECT Id FROM Account WHERE Name = ''",
    "SELECT x__c FROM Account",
    "SELECT Id FROM Account WHERE a = '\u00e9\\u00e9'",
    "SELECT Id FROM Account WHERE a = today",
    "SELECT Id FROM Account WHERE a = THIS_FISCAL_QUARTER",
    "SELECT Id FROM Account WHERE a = N_DAYS_AGO:5",
    "SELECT Id FROM Account WHERE a = LAST_N_DAYS",
    "SELECT Id FROM Account WHERE a = 2024-01-31T10:00:00.123456Z",
    "SELECT Id FROM Account WHERE a = 2024-01-31T10:00:00-0800",
    "SELECT Id FROM Account WHERE a IN ('x', null)",
    "SELECT Id FROM Account WHERE NOT a LIKE 'x'",
    "SELECT Id FROM Account WHERE a EXCLUDES ('x')",
    "SELECT Id FROM Account ORDER BY Name LIMIT 0",
    "SELECT Id FROM Account OFFSET 5",
    "SELECT Id FROM Account a WHERE a.Name = 'x'",
    "SELECT Id FROM Account AS a",
    "SELECT Id FROM Account WHERE (a = 1 OR b = 2) AND (c = 3 OR d = 4)",
    "SELECT COUNT() FROM Account WHERE a = 1 LIMIT 5",
    "SELECT count ( ) FROM Account",
    "SELECT Id FROM Account WHERE a = - 1",
    "SELECT Id FROM Account WHERE a = 00123",
    "SELECT Id FROM Account WHERE a > null",
    "SELECT Id,Name FROM Account WHERE a=1",
    "SELECT Id FROM Account WHERE Name LIKE 'a\\%b'",
    "SELECT Id FROM Account WHERE a = 'a\\Nb'",
    "SELECT Id FROM Account WHERE a = 'a\\bb'",
    "SELECT Id FROM Account ORDER BY Account.Name",
    "SELECT Id FROM Account WHERE a = 2024-13-45",
    "SELECT Id FROM Order",
    "SELECT Id FROM Group",
    "SELECT Id FROM Account a ORDER BY a.Name",
    "SELECT Id FROM Account WHERE NOT(a = 1)",
    "SELECT Id FROM Account WHERE a=1AND b=2",
    "SELECT Id FROM Account WHERE a = NEXT_N_DAYS:0",
    "SELECT Id FROM Account TYPEOF",
    "SELECT DISTINCT Id FROM Account",
    "SELECT Id FROM Account WHERE a = TODAY:3",
    "SELECT Id FROM Account ORDER BY Name DESC NULLS FIRST LIMIT 10 OFFSET 20",
    "SELECT Id, Name, (SELECT Id FROM Contacts) FROM Account",
    "SELECT Id FROM Account GROUP BY Id",
    "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
    "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    "SELECT TYPEOF What WHEN Account THEN Name END FROM Event",
    "SELECT COUNT(Id) FROM Account",
    "SELECT Id FROM Account, Contact",
    "SELECT Id FROM Account FOR VIEW",
    "SELECT Id FROM Account UPDATE TRACKING",
    "SELECT FIELDS(ALL) FROM Account LIMIT 200",
    "SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024",
    "SELECT Id FROM Account USING SCOPE mine",
    "SELECT Name, COUNT(Id) c FROM Account GROUP BY Name HAVING COUNT(Id) > 1",]

REJECTED = [
    "SELECT Id FROM Account WHERE a = 1 AND b = 2 OR c = 3",
    "SELECT FROM Account",
    "SELECT Id FROM Account LIMIT",
    "SELECT Id FROM Account garbage here",
    "SELECT Id, FROM Account",
    "SELECT Id FROM Account WHERE NOT a = 1 AND b = 2",
    "SELECT Id FROM Account WHERE a = 1 AND NOT b = 2",
    "SELECT Id FROM Account WHERE NOT NOT a = 1",
    "SELECT Id FROM Account WHERE a = 'x\\qy'",
    "SELECT Id FROM Account WHERE CreatedDate = FOO_BAR",
    "SELECT Id FROM Account WHERE a IN ()",
    "SELECT Id FROM Account OFFSET 3 LIMIT 5",
    "SELECT Id FROM Account WHERE a = 1e5",
    "SELECT Id FROM Account WHERE a = \"x\"",
    "SELECT Id FROM Account FOR UPDATE",
    "SELECT Id FROM Account LIMIT 5.5",
    "SELECT Id FROM Account ORDER BY",
    "SELECT Id FROM Account WHERE",
    "SELECT Id FROM Account WHERE a",
    "SELECT Id FROM Account WHERE a = ",
    "SELECT Id FROM Account WHERE (a = 1",
    "SELECT Id FROM Account WHERE a = 1)",
    "SELECT Id FROM ",
    "SELECT Id Account",
    "SELECT Id FROM Account WHERE a IN 'x'",
    "SELECT Id FROM Account WHERE a = 5.",
    "SELECT Id FROM Account WHERE a < > 1",
    "SELECT Id FROM Account WHERE a IN :x",
    "SELECT Id FROM Account WHERE a = 'x' 'y'",
    "SELECT _x FROM Account",
    "SELECT Id FROM Account WHERE a = 'unterminated",
    "SELECT Id FROM Account WHERE a = LAST_N_DAYS:-5",
    "SELECT Id FROM Account WHERE a = 2024-1-31",
    "SELECT Id FROM Account WHERE a = 2024-01-31T10:00Z",
    "SELECT Id FROM Account WHERE a = 2024-01-31T10:00:00",
    "SELECT Id FROM Account WHERE a = 2024-01-31 10:00:00Z",
    "SELECT Id FROM Account WHERE a = USD100",
    "SELECT Id FROM Account WHERE a = bareword",
    "SELECT Id FROM Account WHERE a = Account.Name",
    "SELECT Id FROM Account WHERE a NOT LIKE 'x'",
    "SELECT Id FROM Account WHERE a NOT INCLUDES ('x')",
    "SELECT Id FROM Account WHERE a INCLUDES 'x'",
    "SELECT Id FROM Account ORDER BY Name ASC NULLS",
    "SELECT Id FROM Account LIMIT 5 LIMIT 6",
    "SELECT Id FROM Account WHERE a = 1 AND b = 2 AND c = 3 OR d = 4",
    "SELECT COUNT(), Id FROM Account",
    "SELECT Id, COUNT() FROM Account",
    "SELECT Id FROM Account WHERE a = 1.5.5",
    "FROM Account",
    "SELECT Id FROM Account WHERE Name = 'a\\%b'",
    "SELECT Id FROM Account WHERE a = 1 and b = 2 or c = 3",
    "SELECT Id FROM Account WHERE a = 1 OR b = 2 AND c = 3",
    "SELECT Id FROM Account WHERE a IN ('a' , 'b' ,)",
    "SELECT Id FROM Account WHERE a = 1 LIMIT 5 OFFSET ",
    "SELECT Id FROM Account WHERE (a = 1) AND (b = 2) OR (c = 3)",
    "SELECT Id FROM Account WHERE a LIKE 'x' ESCAPE '\\'",
    "SELECT Id FROM Account WHERE a = LAST_N_DAYS:3:4",
    "SELECT Id FROM Account WHERE Name = 'a' OR",
    "SELECT Id FROM Account WHERE Name = 'x\\'",
    "SELECT Id FROM Account WHERE a = $5",
    "SELECT Id FROM Account WHERE a = LAST_N_DAYS:3.5",    "SELECT Id FROM Account;",
    "SELECT Id FROM Account WHERE a ! = 1",
    "SELECT Id FROM Account WHERE Name = 'line\nbreak'",
]


def _accepts(text: str) -> bool:
    try:
        parse(text)
    except SoqlError as exc:
        assert exc.error_code == "MALFORMED_QUERY"
        return exc.unsupported
    return True


@pytest.mark.parametrize("text", ACCEPTED)
def test_valid_soql_is_accepted(text: str) -> None:
    assert _accepts(text)


@pytest.mark.parametrize("text", REJECTED)
def test_invalid_soql_is_rejected_as_malformed(text: str) -> None:
    assert not _accepts(text)


def _error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    return caught.value


def test_mixing_and_with_or_points_at_the_second_operator() -> None:
    err = _error("SELECT Id FROM Account WHERE a = 1 AND b = 2 OR c = 3")
    assert err.message == ("\nSELECT Id FROM Account WHERE a = 1 AND b = 2 OR c = 3\n"
                           + " " * 45 + "^\nERROR at Row:1:Column:46\nunexpected token: 'OR'")
    assert not err.unsupported


def test_a_missing_limit_value_is_an_unexpected_end() -> None:
    err = _error("SELECT Id FROM Account LIMIT")
    assert err.message.endswith("ERROR at Row:1:Column:29\nunexpected token: <EOF>")


def test_errors_on_later_lines_show_that_line_and_row() -> None:
    err = _error("SELECT Id\nFROM Account\nWHERE Name = 'x' Name")
    assert err.message == ("\nWHERE Name = 'x' Name\n" + " " * 17
                           + "^\nERROR at Row:3:Column:18\nunexpected token: 'Name'")


def test_an_unknown_character_is_an_unexpected_token() -> None:
    assert _error('SELECT Id FROM Account WHERE Name = "x"').message.endswith(
        "unexpected token: '\"'")


def test_an_illegal_escape_names_the_sequence() -> None:
    err = _error("SELECT Id FROM Account WHERE Name = 'a\\zb'")
    assert err.message.endswith("Invalid string literal 'a\\zb'. Illegal character sequence "
                                "'\\z' in string literal.")


@pytest.mark.parametrize("text", [
    "SELECT Id FROM Account GROUP BY Id",
    "SELECT COUNT(Id) FROM Account",
    "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
    "SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)",
    "SELECT TYPEOF What WHEN Account THEN Name END FROM Event",
    "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    "SELECT Id FROM Account FOR VIEW",
    "SELECT Id FROM Account UPDATE TRACKING",
    "SELECT Id FROM Account USING SCOPE mine",
    "SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024",
    "SELECT Id FROM Account ORDER BY MAX(Name)",
    "SELECT FIELDS(ALL) FROM Account LIMIT 200",
])
def test_valid_but_unsupported_soql_says_so(text: str) -> None:
    err = _error(text)
    assert err.unsupported
    assert "is not supported by the local Salesforce org" in err.message


def test_select_list_fields_and_from_alias_are_read() -> None:
    q = parse("SELECT Id, Account.Owner.Name FROM Opportunity o")
    assert isinstance(q, Query)
    assert [f.field.parts for f in q.fields] == [("Id",), ("Account", "Owner", "Name")]
    assert (q.sobject, q.alias, q.is_count) == ("Opportunity", "o", False)
    assert q.sobject_pos == soql_ast.Position(1, 36)


def test_count_query_has_no_fields() -> None:
    q = parse("select count() from Account where Name != null limit 5 offset 1")
    assert q.is_count
    assert q.fields == ()
    assert (q.limit, q.offset) == (5, 1)


def _where(text: str) -> soql_ast.Condition:
    q = parse("SELECT Id FROM Account WHERE " + text)
    assert q.where is not None
    return q.where


def _value(text: str) -> soql_ast.Value:
    cond = _where("Name = " + text)
    assert isinstance(cond, soql_ast.Comparison)
    return cond.values[0]


@pytest.mark.parametrize(("literal", "kind", "value"), [
    ("'it\\'s'", "string", "it's"),
    ("'a\\\\b'", "string", "a\\b"),
    ("'line\\nbreak\\ttab'", "string", "line\nbreak\ttab"),
    ("'\\f\\B\\\"'", "string", "\f\b\""),
    ("'\\u00e9t\\u00C9'", "string", "étÉ"),
    ("'%'", "string", "%"),
    ("42", "number", 42),
    ("-1.5", "number", -1.5),
    ("+ .5", "number", 0.5),
    ("TRUE", "boolean", True),
    ("false", "boolean", False),
    ("NULL", "null", None),
    ("2024-01-31", "date", "2024-01-31"),
    ("2024-01-31T10:00:00.000+01:00", "datetime", "2024-01-31T10:00:00.000+01:00"),
    ("today", "date_constant", ("TODAY", None)),
    ("last_n_days : 7", "date_constant", ("LAST_N_DAYS", 7)),
])
def test_literals_are_decoded(literal: str, kind: str, value: object) -> None:
    v = _value(literal)
    assert (v.kind, v.value) == (kind, value)


@pytest.mark.parametrize(("literal", "pattern"), [
    ("'a%'", "a%"),
    ("'100\\%'", "100\\%"),
    ("'a\\_b'", "a\\_b"),
    ("'back\\\\slash'", "back\\\\slash"),
    ("'it\\'s%'", "it's%"),
])
def test_like_patterns_keep_escaped_wildcards_literal(literal: str, pattern: str) -> None:
    cond = _where("Name LIKE " + literal)
    assert isinstance(cond, soql_ast.Comparison)
    assert cond.values[0].kind == "pattern"
    assert cond.values[0].value == pattern


def test_operators_are_normalised() -> None:
    ops = []
    for text in ("a <> 1", "a != 1", "a not in (1)", "a includes ('x')", "a like 'x'",
                 "a > = 1", "a <\t= 1"):
        cond = _where(text)
        assert isinstance(cond, soql_ast.Comparison)
        ops.append(cond.op)
    assert ops == ["!=", "!=", "NOT_IN", "INCLUDES", "LIKE", ">=", "<="]


def test_conditions_keep_their_grouping() -> None:
    cond = _where("(a = 1 OR b = 2) AND (NOT d = 4)")
    assert isinstance(cond, soql_ast.And)
    assert isinstance(cond.items[0], soql_ast.Or)
    assert isinstance(cond.items[1], soql_ast.Not)


def test_order_by_applies_salesforce_null_defaults() -> None:
    q = parse("SELECT Id FROM Account ORDER BY a, b DESC, c ASC NULLS LAST, d DESC NULLS FIRST")
    assert [(k.field.parts[0], k.descending, k.nulls_first) for k in q.order_by] == [
        ("a", False, True), ("b", True, False), ("c", False, False), ("d", True, True)]


def test_keywords_can_be_object_and_field_names() -> None:
    q = parse("SELECT Type, Order__c FROM Order WHERE Type = 'x' ORDER BY Type")
    assert q.sobject == "Order"
