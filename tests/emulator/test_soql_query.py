"""SOQL compiled to SQL and run on SQLite: names, filters, order, paging, COUNT(), deletions.

The org here is a hand-built schema (User, Account, Opportunity, a custom plan object and its
master-detail milestones) stored in an in-memory SQLite database laid out as
``connectors/emulator/schema.py`` describes, so these tests need no other part of the emulator.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.soql import SoqlError, compile_query, parse
from connectors.emulator.soql.literals import id18

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)  # a Thursday


def _fields(*defs: FieldDef) -> dict[str, FieldDef]:
    base = [FieldDef("Id", "id", system=True, createable=False, updateable=False),
            FieldDef("IsDeleted", "boolean", system=True, createable=False, updateable=False),
            FieldDef("Name", "string", length=80)]
    return {f.name: f for f in (*base, *defs)}


def _ref(name: str, target: str, relationship: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", reference_to=(target,), relationship_name=relationship,
                    **kw)


def build_schema() -> Schema:
    schema = Schema()
    schema.add(SObjectDef("User", "005", fields=_fields()))
    schema.add(SObjectDef("Account", "001", fields=_fields(
        FieldDef("Type", "picklist"), FieldDef("Industry", "picklist"),
        FieldDef("NumberOfEmployees", "int"), FieldDef("AnnualRevenue", "currency"),
        FieldDef("Visits__c", "long", custom=True),
        FieldDef("Description", "textarea", length=32000),
        FieldDef("Code__c", "string", case_sensitive=True, custom=True),
        _ref("OwnerId", "User", "Owner"), _ref("ParentId", "Account", "Parent"))))
    schema.add(SObjectDef("Opportunity", "006", fields=_fields(
        _ref("AccountId", "Account", "Account"), _ref("OwnerId", "User", "Owner"),
        FieldDef("Amount", "currency"), FieldDef("Probability", "percent"),
        FieldDef("CloseDate", "date"), FieldDef("IsWon", "boolean"),
        FieldDef("StageName", "picklist"), FieldDef("CreatedDate", "datetime", system=True),
        FieldDef("Tags__c", "multipicklist", custom=True))))
    schema.add(SObjectDef("Mutual_Action_Plan__c", "a00", custom=True, fields=_fields(
        _ref("Opportunity__c", "Opportunity", "Opportunity__r", custom=True),
        FieldDef("External_Id__c", "string", custom=True, external_id=True))))
    schema.add(SObjectDef("MAP_Milestone__c", "a01", custom=True, fields=_fields(
        _ref("Plan__c", "Mutual_Action_Plan__c", "Plan__r", custom=True, cascade_delete=True),
        FieldDef("Due_Date__c", "date", custom=True), FieldDef("Sequence__c", "double",
                                                              custom=True),
        FieldDef("Done__c", "boolean", custom=True))))
    schema.link_children()
    return schema


_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "long": "INTEGER", "double": "REAL",
              "currency": "REAL", "percent": "REAL"}


def create_tables(db: sqlite3.Connection, schema: Schema) -> None:
    for obj in schema.objects.values():
        cols = ", ".join(f'"{f.name}" {_SQL_TYPES.get(f.type, "TEXT")}'
                         + (" PRIMARY KEY" if f.name == "Id" else "")
                         for f in obj.fields.values())
        db.execute(f'CREATE TABLE "{obj.name}" ({cols})')


def make_id(prefix: str, n: int) -> str:
    normal = id18(f"{prefix}{n:012d}")
    assert normal is not None
    return normal


def insert(db: sqlite3.Connection, sobject: str, **values: Any) -> str:
    values.setdefault("IsDeleted", 0)
    names = ", ".join(f'"{k}"' for k in values)
    marks = ", ".join("?" for _ in values)
    db.execute(f'INSERT INTO "{sobject}" ({names}) VALUES ({marks})', list(values.values()))
    return str(values["Id"])


U1, U2 = make_id("005", 1), make_id("005", 2)
ACME, GLOBEX, INITECH = make_id("001", 1), make_id("001", 2), make_id("001", 3)
O1, O2, O3, O4, O5 = (make_id("006", n) for n in range(1, 6))
PLAN = make_id("a00", 1)
M1, M2 = make_id("a01", 1), make_id("a01", 2)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


@pytest.fixture
def db(schema: Schema) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(":memory:")
    create_tables(con, schema)
    insert(con, "User", Id=U1, Name="Ada Lovelace")
    insert(con, "User", Id=U2, Name="Grace Hopper")
    insert(con, "Account", Id=ACME, Name="Acme", Type="Customer", OwnerId=U1,
           NumberOfEmployees=50, AnnualRevenue=1e6, Code__c="AB", Visits__c=12345678901)
    insert(con, "Account", Id=GLOBEX, Name="globex", Type="Prospect", OwnerId=U2,
           ParentId=ACME, NumberOfEmployees=5, Code__c="ab")
    insert(con, "Account", Id=INITECH, Name="Initech", IsDeleted=1)
    insert(con, "Opportunity", Id=O1, Name="Acme renewal", AccountId=ACME, OwnerId=U1,
           Amount=1000.0, Probability=10.0, CloseDate="2024-03-14", IsWon=0,
           StageName="Prospecting", CreatedDate="2024-03-14T00:00:00.000+0000",
           Tags__c="Blue;Green")
    insert(con, "Opportunity", Id=O2, Name="Acme upsell", AccountId=ACME, OwnerId=U2,
           Amount=5000.0, CloseDate="2024-03-13", IsWon=1, StageName="Closed Won",
           CreatedDate="2024-03-13T23:59:59.999+0000", Tags__c="Red")
    insert(con, "Opportunity", Id=O3, Name="Globex pilot", AccountId=GLOBEX, OwnerId=U1,
           Amount=None, CloseDate="2024-04-02", IsWon=0, StageName="Prospecting",
           CreatedDate="2024-02-29T12:00:00.000+0000")
    insert(con, "Opportunity", Id=O4, Name="Orphan 100%_deal", OwnerId=U2,
           Amount=250.5, CloseDate=None, IsWon=0, StageName="Qualification",
           CreatedDate="2024-03-10T08:00:00.000+0000", Tags__c="Green;Red")
    insert(con, "Opportunity", Id=O5, Name="Deleted deal", AccountId=ACME, OwnerId=U1,
           Amount=9.0, CloseDate="2024-03-14", StageName="Prospecting", IsDeleted=1,
           CreatedDate="2024-03-14T10:00:00.000+0000")
    insert(con, "Mutual_Action_Plan__c", Id=PLAN, Name="Plan A", Opportunity__c=O1,
           External_Id__c=O1)
    insert(con, "MAP_Milestone__c", Id=M1, Name="Kickoff", Plan__c=PLAN,
           Due_Date__c="2024-03-20", Sequence__c=1.0, Done__c=1)
    insert(con, "MAP_Milestone__c", Id=M2, Name="Legal review", Plan__c=PLAN,
           Due_Date__c=None, Sequence__c=2.0, Done__c=0)
    yield con
    con.close()


def run(db: sqlite3.Connection, schema: Schema, soql: str, **kw: Any) -> list[dict[str, Any]]:
    cq = compile_query(parse(soql), schema, now=NOW, **kw)
    return [cq.shape(row) for row in db.execute(cq.sql, cq.params)]


def names(db: sqlite3.Connection, schema: Schema, soql: str, **kw: Any) -> list[str]:
    return [r["Name"] for r in run(db, schema, soql, **kw)]


def count(db: sqlite3.Connection, schema: Schema, soql: str, **kw: Any) -> int:
    cq = compile_query(parse(soql), schema, now=NOW, **kw)
    assert cq.is_count
    return int(db.execute(cq.sql, cq.params).fetchone()[0])


def compile_error(schema: Schema, soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        compile_query(parse(soql), schema, now=NOW)
    return caught.value


# -- names: objects, fields, relationships ----------------------------------------------------

def test_unknown_object_is_invalid_type_in_salesforce_words(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Foo")
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is "
        "not supported. If you are attempting to use a custom object, be sure to append the "
        "'__c' after the entity name. Please reference your WSDL or the describe call for the "
        "appropriate names.")


def test_unknown_field_is_invalid_field_in_salesforce_words(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Bogus FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Bogus FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Bogus' "
        "on entity 'Account'. If you are attempting to use a custom field, be sure to append "
        "the '__c' after the custom field name. Please reference your WSDL or the describe "
        "call for the appropriate names.")


def test_unknown_field_behind_a_relationship_names_the_parent_entity(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Account.Bogus FROM Opportunity")
    assert err.error_code == "INVALID_FIELD"
    assert "No such column 'Bogus' on entity 'Account'" in err.message


def test_unknown_relationship_is_invalid_field(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Opportunity WHERE Acount.Name = 'x'")
    assert err.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount' in field path" in err.message
    assert "Row:1:Column:34" in err.message


def test_a_lookup_field_name_is_not_a_relationship(schema: Schema) -> None:
    err = compile_error(schema, "SELECT AccountId.Name FROM Opportunity")
    assert err.error_code == "INVALID_FIELD"


def test_unknown_field_in_where_and_order_by_is_reported(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Account WHERE Nope = 1").error_code \
        == "INVALID_FIELD"
    assert compile_error(schema, "SELECT Id FROM Account ORDER BY Nope").error_code \
        == "INVALID_FIELD"


def test_object_and_field_names_are_case_insensitive_and_echoed_canonically(
        db: sqlite3.Connection, schema: Schema) -> None:
    rows = run(db, schema, "select name, account.name from OPPORTUNITY where NAME = 'acme renewal'")
    assert rows == [{
        "attributes": {"type": "Opportunity",
                       "url": f"/services/data/v59.0/sobjects/Opportunity/{O1}"},
        "Name": "Acme renewal",
        "Account": {"attributes": {"type": "Account",
                                   "url": f"/services/data/v59.0/sobjects/Account/{ACME}"},
                    "Name": "Acme"},
    }]


def test_parent_fields_nest_several_levels_and_are_null_without_a_parent(
        db: sqlite3.Connection, schema: Schema) -> None:
    rows = run(db, schema, "SELECT Name, Account.Owner.Name, Account.Parent.Name, Owner.Name "
                           "FROM Opportunity WHERE Name IN ('Globex pilot', 'Orphan 100%_deal') "
                           "ORDER BY Name")
    assert rows[0]["Account"]["Owner"]["Name"] == "Grace Hopper"
    assert rows[0]["Account"]["Parent"]["Name"] == "Acme"
    assert rows[0]["Owner"]["Name"] == "Ada Lovelace"
    assert rows[1]["Account"] is None
    assert rows[1]["Owner"]["attributes"]["type"] == "User"


def test_custom_relationships_use_the_r_name(db: sqlite3.Connection, schema: Schema) -> None:
    rows = run(db, schema, "SELECT Name, Plan__r.Opportunity__c, "
                           "Plan__r.Opportunity__r.Account.Name FROM MAP_Milestone__c "
                           "WHERE Plan__r.External_Id__c = "
                           f"'{O1}' ORDER BY Sequence__c")
    assert [r["Name"] for r in rows] == ["Kickoff", "Legal review"]
    assert rows[0]["Plan__r"]["Opportunity__c"] == O1
    assert rows[0]["Plan__r"]["Opportunity__r"]["Account"]["Name"] == "Acme"


def test_the_from_alias_and_the_object_name_may_prefix_fields(
        db: sqlite3.Connection, schema: Schema) -> None:
    assert names(db, schema, "SELECT o.Name FROM Opportunity o WHERE o.Amount > 4000") \
        == ["Acme upsell"]
    assert names(db, schema, "SELECT Opportunity.Name FROM Opportunity AS x "
                             "WHERE x.Amount > 4000") == ["Acme upsell"]


def test_selecting_a_field_twice_is_an_error(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Name, name FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith("ERROR at Row:1:Column:14\nduplicate field selected: Name")
    assert compile_error(schema, "SELECT Account.Name, account.NAME FROM Opportunity"
                         ).error_code == "INVALID_FIELD"
    assert compile_query(parse("SELECT Name, Account.Name FROM Opportunity"), schema, now=NOW)


def test_aliasing_a_plain_field_is_an_error(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Name n FROM Account")
    assert err.error_code == "MALFORMED_QUERY"
    assert "Only aggregate expressions use field aliasing" in err.message


# -- comparison operators ----------------------------------------------------------------------

@pytest.mark.parametrize(("where", "expected"), [
    ("Amount = 1000", ["Acme renewal"]),
    ("Amount != 1000", ["Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
    ("Amount <> 1000", ["Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
    ("Amount < 1000", ["Orphan 100%_deal"]),
    ("Amount <= 1000", ["Acme renewal", "Orphan 100%_deal"]),
    ("Amount > 1000", ["Acme upsell"]),
    ("Amount >= 1000", ["Acme renewal", "Acme upsell"]),
    ("Amount >= -1.5", ["Acme renewal", "Acme upsell", "Orphan 100%_deal"]),
    ("Amount IN (250.5, 5000)", ["Acme upsell", "Orphan 100%_deal"]),
    ("Amount NOT IN (250.5, 5000)", ["Acme renewal", "Globex pilot"]),
    ("Amount = null", ["Globex pilot"]),
    ("Amount != null", ["Acme renewal", "Acme upsell", "Orphan 100%_deal"]),
    ("Amount IN (1000, null)", ["Acme renewal", "Globex pilot"]),
    ("Amount NOT IN (1000, null)", ["Acme upsell", "Orphan 100%_deal"]),
    ("Amount > null", []),
    ("Tags__c = ''", ["Globex pilot"]),
    ("Tags__c != ''", ["Acme renewal", "Acme upsell", "Orphan 100%_deal"]),
    ("AccountId IN ('')", ["Orphan 100%_deal"]),
    ("IsWon = true", ["Acme upsell"]),
    ("IsWon = FALSE", ["Acme renewal", "Globex pilot", "Orphan 100%_deal"]),
    ("CloseDate = 2024-03-14", ["Acme renewal"]),
    ("CloseDate > 2024-03-13", ["Acme renewal", "Globex pilot"]),
    ("CloseDate != 2024-03-14", ["Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
    ("CreatedDate < 2024-03-14T00:00:00Z", ["Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
    ("CreatedDate = 2024-03-14T01:00:00+01:00", ["Acme renewal"]),
    ("CreatedDate = 2024-03-13T18:59:59.999-05:00", ["Acme upsell"]),
    ("CreatedDate > 2024-03-13T23:59:59.999Z", ["Acme renewal"]),
    ("CreatedDate >= 2024-03-13T23:59:59.999Z", ["Acme renewal", "Acme upsell"]),
    ("Name > 'b'", ["Globex pilot", "Orphan 100%_deal"]),
    ("StageName IN ('prospecting', 'QUALIFICATION')",
     ["Acme renewal", "Globex pilot", "Orphan 100%_deal"]),
    ("StageName NOT IN ('prospecting')", ["Acme upsell", "Orphan 100%_deal"]),
    ("Account.Name = 'ACME'", ["Acme renewal", "Acme upsell"]),
    ("Account.Name != 'acme'", ["Globex pilot", "Orphan 100%_deal"]),
])
def test_comparison_operators_follow_soql(db: sqlite3.Connection, schema: Schema, where: str,
                                          expected: list[str]) -> None:
    assert sorted(names(db, schema, f"SELECT Name FROM Opportunity WHERE {where}")) == expected


def test_text_equality_ignores_case(db: sqlite3.Connection, schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Account WHERE Name = 'GLOBEX'") == ["globex"]


def test_long_integers_compare_as_numbers_and_come_back_as_integers(
        db: sqlite3.Connection, schema: Schema) -> None:
    rows = run(db, schema, "SELECT Visits__c FROM Account WHERE Visits__c > 12345678900")
    assert [r["Visits__c"] for r in rows] == [12345678901]
    assert compile_error(schema, "SELECT Id FROM Account WHERE Visits__c = '1'").error_code \
        == "INVALID_FIELD"


def test_case_sensitive_fields_compare_exactly(db: sqlite3.Connection, schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Account WHERE Code__c = 'ab'") == ["globex"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("'acme%'", ["Acme renewal", "Acme upsell"]),
    ("'%PILOT'", ["Globex pilot"]),
    ("'acme _enewal'", ["Acme renewal"]),
    ("'%100\\%\\_deal'", ["Orphan 100%_deal"]),
    ("'%0\\%x%'", []),
    ("'acme'", []),
    ("'%'", ["Acme renewal", "Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
])
def test_like_matches_wildcards_case_insensitively(db: sqlite3.Connection, schema: Schema,
                                                   pattern: str, expected: list[str]) -> None:
    found = names(db, schema, f"SELECT Name FROM Opportunity WHERE Name LIKE {pattern}")
    assert sorted(found) == expected


def test_like_is_refused_on_numbers(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Opportunity WHERE Amount LIKE '1%'"
                         ).error_code == "INVALID_FIELD"


@pytest.mark.parametrize(("where", "expected"), [
    ("Tags__c INCLUDES ('green')", ["Acme renewal", "Orphan 100%_deal"]),
    ("Tags__c INCLUDES ('Blue;Green')", ["Acme renewal"]),
    ("Tags__c INCLUDES ('Blue;Red', 'red')", ["Acme upsell", "Orphan 100%_deal"]),
    ("Tags__c EXCLUDES ('Red')", ["Acme renewal", "Globex pilot"]),
    ("Tags__c = 'blue;green'", ["Acme renewal"]),
])
def test_includes_and_excludes_test_multiselect_values(db: sqlite3.Connection, schema: Schema,
                                                       where: str, expected: list[str]) -> None:
    assert sorted(names(db, schema, f"SELECT Name FROM Opportunity WHERE {where}")) == expected


def test_includes_is_refused_on_a_single_select_field(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Opportunity WHERE StageName INCLUDES ('a')"
                         ).error_code == "INVALID_QUERY_FILTER_OPERATOR"


def test_ids_match_in_15_and_18_characters(db: sqlite3.Connection, schema: Schema) -> None:
    for literal in (ACME, ACME[:15], ACME[:15] + ACME[15:].lower()):
        assert names(db, schema, f"SELECT Name FROM Account WHERE Id = '{literal}'") == ["Acme"]
        assert sorted(names(db, schema, "SELECT Name FROM Opportunity "
                                        f"WHERE AccountId IN ('{literal}')")) \
            == ["Acme renewal", "Acme upsell"]


def test_an_id_differing_in_case_is_another_record(db: sqlite3.Connection,
                                                   schema: Schema) -> None:
    mixed = id18("001AbCdEfGhIjKl")
    assert mixed is not None
    insert(db, "Account", Id=mixed, Name="Mixed")
    assert names(db, schema, f"SELECT Name FROM Account WHERE Id = '{mixed[:15]}'") == ["Mixed"]
    other = mixed[:15].swapcase()
    assert names(db, schema, f"SELECT Name FROM Account WHERE Id = '{other}'") == []


def test_a_malformed_id_literal_is_refused(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Opportunity WHERE AccountId = '001xyz'")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert "invalid ID field: 001xyz" in err.message


# -- boolean logic ------------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "expected"), [
    ("Amount > 100 AND StageName = 'Prospecting'", ["Acme renewal"]),
    ("Amount > 2000 OR StageName = 'Qualification'", ["Acme upsell", "Orphan 100%_deal"]),
    ("(Amount > 2000 OR Amount < 300) AND Tags__c != null", ["Acme upsell", "Orphan 100%_deal"]),
    ("NOT Amount > 300", ["Globex pilot", "Orphan 100%_deal"]),
    ("NOT (Amount > 300 OR CloseDate = null)", ["Globex pilot"]),
    ("(NOT Name LIKE 'acme%') AND Amount != null", ["Orphan 100%_deal"]),
    ("NOT Tags__c INCLUDES ('Red')", ["Acme renewal", "Globex pilot"]),
])
def test_and_or_not_combine_with_two_valued_nulls(db: sqlite3.Connection, schema: Schema,
                                                  where: str, expected: list[str]) -> None:
    assert sorted(names(db, schema, f"SELECT Name FROM Opportunity WHERE {where}")) == expected


# -- literal types --------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "expected_type"), [
    ("CloseDate = '2024-03-14'", "date"),
    ("CloseDate = 5", "date"),
    ("CloseDate = 2024-03-14T00:00:00Z", "date"),
    ("CreatedDate > 2024-03-14", "dateTime"),
    ("Amount = '5'", "double"),
    ("IsWon = 'true'", "boolean"),
])
def test_a_literal_of_the_wrong_type_is_refused_as_salesforce_does(
        schema: Schema, where: str, expected_type: str) -> None:
    err = compile_error(schema, f"SELECT Id FROM Opportunity WHERE {where}")
    assert err.error_code == "INVALID_FIELD"
    field = where.split()[0]
    assert f"value of filter criterion for field '{field}' must be of type {expected_type} " \
           "and should not be enclosed in quotes" in err.message


def test_text_compared_with_a_number_must_be_quoted(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Opportunity WHERE Name = 5")
    assert err.error_code == "INVALID_FIELD"
    assert "must be of type string and should be enclosed in quotes" in err.message


def test_an_impossible_date_is_malformed(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-02-30"
                         ).error_code == "MALFORMED_QUERY"


def test_long_text_areas_cannot_be_filtered(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Account WHERE Description = 'x'")
    assert err.error_code == "INVALID_FIELD"
    assert "can not be filtered" in err.message


def test_long_text_areas_cannot_be_sorted(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Account ORDER BY Description")
    assert err.error_code == "INVALID_FIELD"
    assert "field 'Description' can not be sorted in a query call" in err.message


def test_literals_travel_as_bound_parameters(schema: Schema) -> None:
    cq = compile_query(parse("SELECT Id FROM Account WHERE Name = 'x\\' OR 1=1 --'"), schema,
                       now=NOW)
    assert "OR 1=1" not in cq.sql
    assert cq.params == ("x' OR 1=1 --",)


# -- date constants ---------------------------------------------------------------------------

@pytest.mark.parametrize(("constant", "expected"), [
    ("TODAY", ["Acme renewal"]),
    ("YESTERDAY", ["Acme upsell"]),
    ("TOMORROW", []),
    ("LAST_N_DAYS:1", ["Acme renewal", "Acme upsell"]),
    ("NEXT_N_DAYS:19", ["Globex pilot"]),
    ("NEXT_N_DAYS:18", []),
    ("THIS_MONTH", ["Acme renewal", "Acme upsell"]),
    ("NEXT_MONTH", ["Globex pilot"]),
    ("THIS_WEEK", ["Acme renewal", "Acme upsell"]),
    ("THIS_YEAR", ["Acme renewal", "Acme upsell", "Globex pilot"]),
    ("LAST_YEAR", []),
    ("THIS_QUARTER", ["Acme renewal", "Acme upsell"]),
    ("NEXT_QUARTER", ["Globex pilot"]),
])
def test_date_constants_are_day_ranges_around_now(db: sqlite3.Connection, schema: Schema,
                                                  constant: str, expected: list[str]) -> None:
    found = names(db, schema, f"SELECT Name FROM Opportunity WHERE CloseDate = {constant}")
    assert sorted(found) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("CloseDate < TODAY", ["Acme upsell"]),
    ("CloseDate <= TODAY", ["Acme renewal", "Acme upsell"]),
    ("CloseDate > TODAY", ["Globex pilot"]),
    ("CloseDate >= YESTERDAY", ["Acme renewal", "Acme upsell", "Globex pilot"]),
    ("CloseDate != TODAY", ["Acme upsell", "Globex pilot", "Orphan 100%_deal"]),
    ("CloseDate IN (YESTERDAY, 2024-04-02)", ["Acme upsell", "Globex pilot"]),
    ("CloseDate NOT IN (TODAY, YESTERDAY)", ["Globex pilot", "Orphan 100%_deal"]),
])
def test_date_constants_bound_ranges_with_every_operator(
        db: sqlite3.Connection, schema: Schema, where: str, expected: list[str]) -> None:
    assert sorted(names(db, schema, f"SELECT Name FROM Opportunity WHERE {where}")) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("CreatedDate = TODAY", ["Acme renewal"]),
    ("CreatedDate = YESTERDAY", ["Acme upsell"]),
    ("CreatedDate = LAST_N_DAYS:5", ["Acme renewal", "Acme upsell", "Orphan 100%_deal"]),
    ("CreatedDate = LAST_MONTH", ["Globex pilot"]),
    ("CreatedDate < THIS_WEEK", ["Globex pilot"]),
    ("CreatedDate = LAST_WEEK", []),
])
def test_date_constants_on_datetime_fields_are_utc_ranges(
        db: sqlite3.Connection, schema: Schema, where: str, expected: list[str]) -> None:
    assert sorted(names(db, schema, f"SELECT Name FROM Opportunity WHERE {where}")) == expected


def test_a_date_constant_needs_its_number_exactly_when_it_takes_one(schema: Schema) -> None:
    for where in ("CloseDate = LAST_N_DAYS", "CloseDate = TODAY:3"):
        assert compile_error(schema, f"SELECT Id FROM Opportunity WHERE {where}").error_code \
            == "MALFORMED_QUERY"


def test_a_date_constant_on_a_text_field_is_refused(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Opportunity WHERE Name = TODAY").error_code \
        == "INVALID_FIELD"


# -- order, paging, count, deletions --------------------------------------------------------

def test_order_by_defaults_put_nulls_first_ascending_and_last_descending(
        db: sqlite3.Connection, schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Opportunity ORDER BY Amount") \
        == ["Globex pilot", "Orphan 100%_deal", "Acme renewal", "Acme upsell"]
    assert names(db, schema, "SELECT Name FROM Opportunity ORDER BY Amount DESC") \
        == ["Acme upsell", "Acme renewal", "Orphan 100%_deal", "Globex pilot"]


def test_order_by_honours_explicit_nulls_placement(db: sqlite3.Connection,
                                                    schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Opportunity ORDER BY Amount ASC NULLS LAST")[-1] \
        == "Globex pilot"
    assert names(db, schema, "SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS FIRST")[0] \
        == "Globex pilot"


def test_order_by_text_ignores_case(db: sqlite3.Connection, schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Account ORDER BY Name DESC") == ["globex", "Acme"]


def test_order_by_several_keys_and_parent_fields(db: sqlite3.Connection,
                                                 schema: Schema) -> None:
    assert names(db, schema, "SELECT Name FROM Opportunity "
                             "ORDER BY Account.Name DESC NULLS LAST, Amount DESC") \
        == ["Globex pilot", "Acme upsell", "Acme renewal", "Orphan 100%_deal"]


def test_ties_are_broken_by_id_so_pages_are_stable(db: sqlite3.Connection,
                                                   schema: Schema) -> None:
    rows = run(db, schema, "SELECT Id FROM Opportunity ORDER BY StageName")
    assert [r["Id"] for r in rows] == [O2, O1, O3, O4]
    cq = compile_query(parse("SELECT Id FROM Opportunity ORDER BY StageName"), schema, now=NOW)
    assert cq.sql.endswith('ORDER BY t0."StageName" COLLATE NOCASE ASC NULLS FIRST, t0."Id"')
    plain = compile_query(parse("SELECT Id FROM Opportunity"), schema, now=NOW)
    assert plain.sql.endswith('ORDER BY t0."Id"')


def test_limit_and_offset_page_through_the_ordered_rows(db: sqlite3.Connection,
                                                        schema: Schema) -> None:
    soql = "SELECT Name FROM Opportunity ORDER BY Name"
    assert names(db, schema, soql + " LIMIT 2") == ["Acme renewal", "Acme upsell"]
    assert names(db, schema, soql + " LIMIT 2 OFFSET 2") == ["Globex pilot", "Orphan 100%_deal"]
    assert names(db, schema, soql + " OFFSET 3") == ["Orphan 100%_deal"]
    assert names(db, schema, soql + " LIMIT 0") == []
    cq = compile_query(parse(soql + " LIMIT 2 OFFSET 1"), schema, now=NOW)
    assert (cq.limit, cq.offset) == (2, 1)
    assert compile_query(parse(soql), schema, now=NOW).limit is None


def test_offset_above_2000_is_out_of_range(schema: Schema) -> None:
    err = compile_error(schema, "SELECT Id FROM Account OFFSET 2001")
    assert err.error_code == "NUMBER_OUTSIDE_VALID_RANGE"


def test_a_negative_limit_is_malformed(schema: Schema) -> None:
    assert compile_error(schema, "SELECT Id FROM Account LIMIT -1").error_code \
        == "MALFORMED_QUERY"


def test_count_returns_the_number_of_matching_rows(db: sqlite3.Connection,
                                                   schema: Schema) -> None:
    assert count(db, schema, "SELECT COUNT() FROM Opportunity") == 4
    assert count(db, schema, "SELECT count() FROM Opportunity WHERE Account.Name = 'acme'") == 2
    assert count(db, schema, "SELECT COUNT() FROM Opportunity LIMIT 3") == 3
    assert count(db, schema, "SELECT COUNT() FROM Opportunity LIMIT 3 OFFSET 2") == 2
    assert count(db, schema, "SELECT COUNT() FROM Opportunity", include_deleted=True) == 5


def test_deleted_rows_are_seen_only_with_include_deleted(db: sqlite3.Connection,
                                                         schema: Schema) -> None:
    soql = "SELECT Name, IsDeleted FROM Opportunity WHERE CloseDate = TODAY"
    assert run(db, schema, soql) == [{
        "attributes": {"type": "Opportunity",
                       "url": f"/services/data/v59.0/sobjects/Opportunity/{O1}"},
        "Name": "Acme renewal", "IsDeleted": False}]
    all_rows = run(db, schema, soql, include_deleted=True)
    assert [(r["Name"], r["IsDeleted"]) for r in all_rows] \
        == [("Acme renewal", False), ("Deleted deal", True)]


def test_parents_that_are_deleted_still_resolve_for_queryall(db: sqlite3.Connection,
                                                             schema: Schema) -> None:
    insert(db, "Opportunity", Id=make_id("006", 9), Name="Initech deal", AccountId=INITECH,
           StageName="Prospecting")
    rows = run(db, schema, "SELECT Account.Name FROM Opportunity WHERE Name = 'Initech deal'")
    assert rows[0]["Account"]["Name"] == "Initech"


def test_unsupported_clauses_are_never_ignored(schema: Schema) -> None:
    for soql in ("SELECT Id FROM Account GROUP BY Id",
                 "SELECT Id, (SELECT Id FROM Opportunities) FROM Account",
                 "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
                 "SELECT Id FROM Account WITH SECURITY_ENFORCED"):
        with pytest.raises(SoqlError) as caught:
            compile_query(parse(soql), schema, now=NOW)
        assert caught.value.error_code == "MALFORMED_QUERY"
        assert caught.value.unsupported
