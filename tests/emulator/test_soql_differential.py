"""The local org's SOQL parser accepts exactly the queries Salesforce's own parser accepts.

Salesforce publishes its SOQL grammar as the npm package ``@salesforce/soql-common``. One Node
process (``tests/node/soql_verdicts.js``) runs it over the whole corpus below, and every query
must get the same verdict from ``connectors.emulator.soql.parse``: a query the local org
accepts but Salesforce refuses would let mapsync ship a query that fails in production, and
the reverse would make the emulator refuse what production runs.

Each corpus entry also records the verdict Salesforce's parser gives, so a broken harness (a
parser that refuses everything, say) fails loudly instead of agreeing with a broken emulator.

The corpus keeps to the syntax the local org promises (docs/salesforce.md, SOQL) plus clear
rejections. Left out on purpose:
- constructs Salesforce accepts but the local org refuses as unsupported (aggregate functions,
  GROUP BY, subqueries, TYPEOF, WITH, FOR VIEW, USING SCOPE, UPDATE TRACKING, FIELDS()):
  ``UNSUPPORTED`` checks that these fail as "not supported", never as a syntax error;
- FROM aliases (``FROM Account a``, ``SELECT a.Id FROM Account a``): not promised; this includes
  ``SELECT Id FROM Account OFFSET``, which Salesforce reads as the alias ``OFFSET``;
- time literals (``10:00:00Z``), for Time fields mapsync does not use;
- dotted paths the reference lexer reads as one identifier (``Account.``, ``Account..Name``):
  Salesforce refuses them later as INVALID_FIELD, not as a syntax error, so they are no clear
  verdict on syntax;
- the ``\\f`` escape (``'a\\fb'``): Salesforce documents it and simple-salesforce writes it,
  but the reference lexer refuses it; the local org follows the documentation;
- ``SELECT COUNT FROM Opportunity`` (``COUNT`` read as a field name), ``LIMIT -1`` and
  ``OFFSET -5``: the grammar allows them, the server refuses them on meaning.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from connectors.emulator.soql import SoqlError, parse

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
PINNED_PACKAGES = {"@salesforce/soql-common": "0.2.2", "antlr4ts": "0.5.0-alpha.4"}

OK, BAD = True, False  # the verdict of Salesforce's parser

CORPUS: list[tuple[bool, str]] = [
    # field lists, parent relationship fields, FROM
    (OK, "SELECT Id FROM Account"),
    (OK, "select id, name from account"),
    (OK, "SeLeCt Id FrOm Opportunity"),
    (OK, "SELECT Id, Name, StageName, CloseDate, Amount FROM Opportunity"),
    (OK, "SELECT Id, Account.Name FROM Opportunity"),
    (OK, "SELECT Id, Account.Owner.Name FROM Opportunity"),
    (OK, "SELECT Id, Plan__r.Opportunity__r.Name, Plan__r.External_Id__c FROM MAP_Milestone__c"),
    (OK, "SELECT Id, Type, Date__c, Count__c, Order__c FROM Account"),
    (OK, "SELECT Id\nFROM Account\nWHERE Name = 'x'"),
    (OK, "  SELECT   Id  ,Name   FROM   Account  "),
    (OK, "\nSELECT Id FROM Account\n"),
    (OK, "SELECT Id FROM Account\tWHERE\tName = 'x'"),
    (OK, "SELECT Id\r\nFROM Account\r\nWHERE Name = 'x'"),
    (OK, "SELECT ns__Field__c, ns__Rel__r.Name FROM ns__Obj__c"),
    (BAD, ""),
    (BAD, "SELECT FROM Account"),
    (BAD, "SELECT Id"),
    (BAD, "SELECT Id FROM"),
    (BAD, "Id FROM Account"),
    (BAD, "FROM Account SELECT Id"),
    (BAD, "SELECT Id, FROM Account"),
    (BAD, "SELECT Id,, Name FROM Account"),
    (BAD, "SELECT , Id FROM Account"),
    (BAD, "SELECT * FROM Account"),
    (BAD, "SELECT 'Id' FROM Account"),
    (BAD, "SELECT Id SELECT Name FROM Account"),
    (BAD, "SELECT Id FROM Account FROM Contact"),
    (BAD, "SELECT Id FROM 'Account'"),
    (BAD, "SELECT Id FROM Account, "),
    (BAD, "SELECT _Id FROM Account"),
    (BAD, "SELECT 1Id FROM Account"),
    (BAD, "SELECT (Id) FROM Account"),
    (BAD, "SELECT Id FROM (Account)"),
    (BAD, "SELECT Id FROM\u00a0Account"),
    (BAD, "SELECT Id FROM Account FOR UPDATE"),
    # trailing garbage
    (BAD, "SELECT Id FROM Account garbage here"),
    (BAD, "SELECT Id FROM Account;"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'x' Name = 'y'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'x' WHERE Type = 'y'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a' 'b'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a''b'"),
    # comparison operators and literals
    (OK, "SELECT Id FROM Opportunity WHERE StageName = 'Closed Won'"),
    (OK, "SELECT Id FROM Opportunity WHERE Name != 'x'"),
    (OK, "SELECT Id FROM Opportunity WHERE Name <> 'x'"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount > 1000"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount >= 1000.50"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount < -5"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount <= 0"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount = +12.5"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount = .5"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount = - 5"),
    (OK, "SELECT Id FROM Account WHERE Amount>5"),
    (OK, "SELECT Id FROM Account WHERE Amount!=5"),
    (OK, "SELECT Id FROM Account WHERE Amount<>5"),
    (OK, "SELECT Id FROM Account WHERE Name='x'AND Type='y'"),
    (OK, "SELECT Id FROM Account WHERE Amount > = 5"),
    (OK, "SELECT Id FROM Account WHERE Amount < = 5"),
    (OK, "SELECT Id FROM Account WHERE Name > 'm'"),
    (OK, "SELECT Id FROM Opportunity WHERE AccountId = null"),
    (OK, "SELECT Id FROM Opportunity WHERE AccountId != NULL"),
    (OK, "SELECT Id FROM Opportunity WHERE IsClosed = true"),
    (OK, "SELECT Id FROM Opportunity WHERE IsWon = FALSE"),
    (OK, "SELECT Id FROM Opportunity WHERE IsClosed = True"),
    (OK, "SELECT Id FROM Account WHERE Name = ''"),
    (OK, "SELECT Id FROM Account WHERE Name = 'Zürich'"),
    (OK, "SELECT Id FROM Opportunity WHERE Name = 'O\\'Brien'"),
    (OK, "SELECT Id FROM Opportunity WHERE Name = 'line\\nbreak'"),
    (OK, "SELECT Id FROM Account WHERE Name = 'tab\\there'"),
    (OK, "SELECT Id FROM Account WHERE Name = '\\\\'"),
    (OK, "SELECT Id FROM Account WHERE Name = 'unicode\\u00e9'"),
    (OK, "SELECT Id FROM Account WHERE Name = 'a\\\"b'"),
    (OK, "SELECT Id FROM Account WHERE Name = 'a\tb'"),
    (OK, "SELECT Id FROM Account WHERE Name = 'a\\Nb\\Tc\\Bd'"),
    (OK, "SELECT Id FROM Opportunity WHERE Account.Name = 'Acme'"),
    (OK, "SELECT Id FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c = '006000000000001AAA'"),
    (BAD, "SELECT Id FROM Account WHERE"),
    (BAD, "SELECT Id FROM Account WHERE Name"),
    (BAD, "SELECT Id FROM Account WHERE Name ="),
    (BAD, "SELECT Id FROM Account WHERE Name == 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Name =! 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Name => 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Name =< 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Name ~ 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Amount >> 5"),
    (BAD, "SELECT Id FROM Account WHERE Amount >< 5"),
    (BAD, "SELECT Id FROM Account WHERE Amount < > 5"),
    (BAD, "SELECT Id FROM Account WHERE Amount ! = 5"),
    (BAD, "SELECT Id FROM Account WHERE Amount <>= 5"),
    (BAD, "SELECT Id FROM Account WHERE Name NOT = 'x'"),
    (BAD, "SELECT Id FROM Account WHERE Name IS NULL"),
    (BAD, "SELECT Id FROM Account WHERE 'x' = Name"),
    (BAD, 'SELECT Id FROM Account WHERE Name = "x"'),
    (BAD, "SELECT Id FROM Account WHERE Name = 'unterminated"),
    (BAD, "SELECT Id FROM Account WHERE Name = '\\q'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a\\_b'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a\\u00'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a\nb'"),
    (BAD, "SELECT Id FROM Account WHERE Name = ('a')"),
    (BAD, "SELECT Id FROM Account WHERE (Name) = 'a'"),
    (BAD, "SELECT Id FROM Account WHERE Name = :name"),
    (BAD, "SELECT Id FROM Opportunity WHERE Amount = 1e3"),
    (BAD, "SELECT Id FROM Opportunity WHERE Amount = 5."),
    (BAD, "SELECT Id FROM Opportunity WHERE Amount = --5"),
    (BAD, "SELECT Id FROM Opportunity WHERE Amount = 1.2.3"),
    (BAD, "SELECT Id FROM Account WHERE Amount = USD100"),
    # AND / OR / NOT and parentheses
    (OK, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND Amount > 5"),
    (OK, "SELECT Id FROM Account WHERE Name = 'x' and Type = 'y'"),
    (OK, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND Amount > 5 AND IsClosed = false"),
    (OK, "SELECT Id FROM Opportunity WHERE StageName = 'A' OR StageName = 'B' OR StageName = 'C'"),
    (OK, "SELECT Id FROM Opportunity WHERE (StageName = 'A' AND Amount > 5) OR IsWon = true"),
    (OK, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND (Amount > 5 OR IsWon = true)"),
    (OK, "SELECT Id FROM Account WHERE (Name = 'a' OR Name = 'b') AND (Name = 'c' OR Name = 'd')"),
    (OK, "SELECT Id FROM Opportunity WHERE ((StageName = 'A' AND Amount > 5) OR "
         "(IsWon = true AND Amount < 2)) AND Name != null"),
    (OK, "SELECT Id FROM Account WHERE (((Name = 'x') AND (Type = 'y')) OR Id = 'z')"),
    (OK, "SELECT Id FROM Opportunity WHERE (Name = 'x')"),
    (OK, "SELECT Id FROM Account WHERE ((Name = 'x'))"),
    (OK, "SELECT Id FROM Opportunity WHERE NOT Name = 'x'"),
    (OK, "SELECT Id FROM Opportunity WHERE NOT (Name = 'x' OR Name = 'y')"),
    (OK, "SELECT Id FROM Account WHERE (NOT Name = 'x')"),
    (OK, "SELECT Id FROM Account WHERE NOT (NOT Name = 'x')"),
    (OK, "SELECT Id FROM Opportunity WHERE IsClosed = false AND (NOT Name LIKE 'Test%')"),
    (OK, "SELECT Id FROM Account WHERE NOT Name IN ('a')"),
    (OK, "SELECT Id FROM Account WHERE (NOT Name = 'a') OR (NOT Type = 'b')"),
    (OK, "SELECT Id FROM Account WHERE Name = 'a' OR (Type = 'b' AND (Industry = 'c' OR "
         "(Rating = 'd' AND Site = 'e')))"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND Amount > 5 OR IsWon = true"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' OR Amount > 5 AND IsWon = true"),
    (BAD, "SELECT Id FROM Account WHERE (Name = 'x' AND Type = 'y' OR Id = 'z')"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'x' AND NOT Name = 'y'"),
    (BAD, "SELECT Id FROM Account WHERE NOT Name = 'x' AND Type = 'y'"),
    (BAD, "SELECT Id FROM Account WHERE NOT Name = 'x' OR Type = 'y'"),
    (BAD, "SELECT Id FROM Account WHERE NOT NOT Name = 'x'"),
    (BAD, "SELECT Id FROM Account WHERE NOT (Name = 'x') AND NOT (Type = 'y')"),
    (BAD, "SELECT Id FROM Account WHERE (Name = 'a' OR Type = 'b') AND Site = 'c' OR Rating = 'd'"),
    (BAD, "SELECT Id FROM Account WHERE Name = 'a' AND (Type = 'b') OR (Site = 'c')"),
    (BAD, "SELECT Id FROM Account WHERE NOT (Name = 'a') OR Type = 'b'"),
    (BAD, "SELECT Id FROM Opportunity WHERE (StageName = 'A'"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A')"),
    (BAD, "SELECT Id FROM Opportunity WHERE ((StageName = 'A')"),
    (BAD, "SELECT Id FROM Opportunity WHERE (StageName = 'A') (Amount > 5)"),
    (BAD, "SELECT Id FROM Opportunity WHERE ()"),
    (BAD, "SELECT Id FROM Opportunity WHERE AND StageName = 'A'"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' AND AND Amount > 5"),
    (BAD, "SELECT Id FROM Opportunity WHERE NOT"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' && Amount > 5"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName = 'A' XOR Amount > 5"),
    # IN, NOT IN, LIKE, INCLUDES, EXCLUDES
    (OK, "SELECT Id FROM Opportunity WHERE StageName IN ('Prospecting', 'Qualification')"),
    (OK, "SELECT Id FROM Opportunity WHERE StageName NOT IN ('Closed Won', 'Closed Lost')"),
    (OK, "SELECT Id FROM Opportunity WHERE Id IN ('006000000000001AAA')"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount IN (1, 2.5, 3)"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate IN (2024-01-31, 2024-02-29)"),
    (OK, "SELECT Id FROM Account WHERE Name IN ('a', null)"),
    (OK, "SELECT Id FROM Account WHERE Name IN ('a') OR Name IN ('b')"),
    (OK, "SELECT Id FROM Account WHERE Id NOT IN ('a', 'b') AND Name != 'x'"),
    (OK, "SELECT Id FROM Account WHERE Name LIKE 'Acme%'"),
    (OK, "SELECT Id FROM Account WHERE Name LIKE '_cme'"),
    (OK, "SELECT Id FROM Account WHERE Name LIKE '50\\%'"),
    (OK, "SELECT Id FROM Account WHERE NOT Name LIKE '%test%'"),
    (OK, "SELECT Id FROM Account WHERE Name LIKE 'a%' OR Name LIKE 'b%'"),
    (OK, "SELECT Id FROM Contact WHERE Interests__c INCLUDES ('Golf;Tennis', 'Chess')"),
    (OK, "SELECT Id FROM Contact WHERE Interests__c EXCLUDES ('Golf')"),
    (OK, "SELECT Id FROM Account WHERE NOT Interests__c INCLUDES ('a')"),
    (OK, "SELECT Id FROM Opportunity WHERE IsClosed IN (true, false)"),
    (OK, "SELECT Id FROM Opportunity WHERE Amount IN (-1, -2.5, +3)"),
    (OK, "SELECT Id FROM Account WHERE Name LIKE 'a\\_b'"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName IN 'Prospecting'"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName IN ()"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName IN ('A',)"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName IN ('A' 'B')"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName IN ('A', 'B'"),
    (BAD, "SELECT Id FROM Opportunity WHERE StageName NOT ('A')"),
    (BAD, "SELECT Id FROM Opportunity WHERE NOT IN ('A')"),
    (BAD, "SELECT Id FROM Account WHERE Name IN :names"),
    (BAD, "SELECT Id FROM Account WHERE Name IN (('a'))"),
    (BAD, "SELECT Id FROM Account WHERE Name LIKE"),
    (BAD, "SELECT Id FROM Account WHERE Name NOT LIKE 'a%'"),
    (BAD, "SELECT Id FROM Account WHERE Name LIKE 'x' LIKE 'y'"),
    (BAD, "SELECT Id FROM Contact WHERE Interests__c INCLUDES 'Golf'"),
    (BAD, "SELECT Id FROM Contact WHERE Interests__c INCLUDES ()"),
    (BAD, "SELECT Id FROM Contact WHERE Interests__c NOT INCLUDES ('Golf')"),
    (BAD, "SELECT Id FROM Contact WHERE Interests__c NOT EXCLUDES ('Golf')"),
    # date and datetime literals, date constants
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-31"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate >= 2024-01-01 AND CloseDate < 2024-04-01"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp >= 2024-01-31T10:00:00Z"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00.000Z"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00+02:00"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00-08:00"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00+0200"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31t10:00:00z"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = TODAY"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate < YESTERDAY"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = THIS_MONTH"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = NEXT_QUARTER"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = THIS_FISCAL_QUARTER"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_90_DAYS"),
    (OK, "SELECT Id FROM Opportunity WHERE CreatedDate = LAST_N_DAYS:30"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:7"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate < last_n_months:2"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = N_DAYS_AGO:3"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS: 30"),
    (OK, "SELECT Id FROM Account WHERE CreatedDate IN (TODAY, YESTERDAY)"),
    (OK, "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:30 AND CreatedDate != TODAY"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_WEEKS:0"),
    (OK, "SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_FISCAL_YEARS:2"),
    (OK, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00.123456Z"),
    (BAD, "SELECT Id FROM Opportunity WHERE CreatedDate = LAST_N_DAYS:"),
    (BAD, "SELECT Id FROM Opportunity WHERE CreatedDate = LAST_N_DAYS 30"),
    (BAD, "SELECT Id FROM Opportunity WHERE CreatedDate = LAST_N_DAYS:x"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate > LAST_N_DAYS:-3"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:30.5"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:1:2"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-31 10:00:00"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = SOMEDAY"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-1-31"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = 24-01-31"),
    (BAD, "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-31T"),
    (BAD, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00:00"),
    (BAD, "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-31T10:00Z"),
    # ORDER BY, LIMIT, OFFSET
    (OK, "SELECT Id FROM Account ORDER BY Name"),
    (OK, "SELECT Id FROM Account ORDER BY Name DESC"),
    (OK, "SELECT Id FROM Account ORDER BY Name ASC NULLS LAST"),
    (OK, "SELECT Id FROM Account ORDER BY Name NULLS FIRST"),
    (OK, "SELECT Id FROM Opportunity ORDER BY CloseDate DESC NULLS FIRST, Id"),
    (OK, "SELECT Id FROM Account ORDER BY Name ASC, CreatedDate DESC NULLS LAST, Id"),
    (OK, "SELECT Id FROM Account ORDER BY Name desc nulls first, Id asc"),
    (OK, "SELECT Id FROM Opportunity ORDER BY Account.Name"),
    (OK, "SELECT Id FROM Account ORDER BY Account.Owner.Name DESC NULLS LAST"),
    (OK, "SELECT Id FROM Account LIMIT 10"),
    (OK, "SELECT Id FROM Account LIMIT 0"),
    (OK, "SELECT Id FROM Account LIMIT 10 OFFSET 20"),
    (OK, "SELECT Id FROM Account OFFSET 5"),
    (OK, "SELECT Id FROM Account ORDER BY Name DESC LIMIT 5"),
    (OK, "SELECT Id FROM Account WHERE Name = 'x' LIMIT 5 OFFSET 10"),
    (OK, "SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= "
         "2024-01-01T00:00:00Z ORDER BY SystemModstamp, Id LIMIT 2000"),
    (OK, "SELECT Id FROM Opportunity WHERE IsClosed = false ORDER BY CloseDate ASC NULLS LAST "
         "LIMIT 200 OFFSET 400"),
    (BAD, "SELECT Id FROM Account ORDER Name"),
    (BAD, "SELECT Id FROM Account ORDER BY"),
    (BAD, "SELECT Id FROM Account ORDER BY Name,"),
    (BAD, "SELECT Id FROM Account ORDER BY Name, LIMIT 5"),
    (BAD, "SELECT Id FROM Account ORDER BY NULLS FIRST"),
    (BAD, "SELECT Id FROM Account ORDER BY Name NULLS"),
    (BAD, "SELECT Id FROM Account ORDER BY Name NULLS MIDDLE"),
    (BAD, "SELECT Id FROM Account ORDER BY Name ASC DESC"),
    (BAD, "SELECT Id FROM Account ORDER BY Name NULLS LAST ASC"),
    (BAD, "SELECT Id FROM Account ORDER BY Name DESC NULLS FIRST LAST"),
    (BAD, "SELECT Id FROM Account ORDER BY Name ASC NULLS FIRST NULLS LAST"),
    (BAD, "SELECT Id FROM Account ORDER BY Name WHERE Name = 'x'"),
    (BAD, "SELECT Id FROM Account ORDER BY 1"),
    (BAD, "SELECT Id FROM Account LIMIT 5 5"),
    (BAD, "SELECT Id FROM Account LIMIT :n"),
    (BAD, "SELECT Id FROM Account LIMIT"),
    (BAD, "SELECT Id FROM Account LIMIT ten"),
    (BAD, "SELECT Id FROM Account LIMIT 1.5"),
    (BAD, "SELECT Id FROM Account LIMIT 10 LIMIT 5"),
    (BAD, "SELECT Id FROM Account LIMIT 10 OFFSET"),
    (BAD, "SELECT Id FROM Account LIMIT 5 OFFSET 5 OFFSET 5"),
    (BAD, "SELECT Id FROM Account OFFSET 5 LIMIT 10"),
    (BAD, "SELECT Id FROM Account LIMIT 5 ORDER BY Name"),
    # COUNT()
    (OK, "SELECT COUNT() FROM Opportunity"),
    (OK, "SELECT count() FROM Opportunity WHERE IsClosed = false"),
    (OK, "SELECT COUNT () FROM Opportunity"),
    (OK, "SELECT COUNT() FROM Opportunity LIMIT 5"),
    (OK, "SELECT COUNT() FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c = "
         "'006000000000001AAA' AND Status__c != 'Done'"),
    (BAD, "SELECT COUNT( FROM Opportunity"),
    (BAD, "SELECT COUNT() Opportunity"),
    (BAD, "SELECT COUNT(), Id FROM Opportunity"),
    (BAD, "SELECT Id, COUNT() FROM Opportunity"),
    # field and stage history (who changed what last)
    (OK, "SELECT ParentId, Field, OldValue, NewValue, CreatedById, CreatedDate "
         "FROM MAP_Milestone__History WHERE CreatedDate >= 2024-01-01T00:00:00Z "
         "AND CreatedById != '005000000000001AAA' ORDER BY CreatedDate, Id"),
    (OK, "SELECT ParentId, Field, DataType, OldValue, NewValue FROM Mutual_Action_Plan__History "
         "WHERE ParentId IN ('a01000000000001AAA', 'a01000000000002AAA') "
         "AND Field IN ('Status__c', 'Summary__c', 'created')"),
    (OK, "SELECT OpportunityId, StageName, CloseDate, Amount, CreatedById, CreatedDate "
         "FROM OpportunityHistory WHERE CreatedDate > LAST_N_DAYS:7 "
         "AND CreatedById != '005000000000001AAA' ORDER BY OpportunityId, CreatedDate DESC"),
    (OK, "SELECT OpportunityId, Field, OldValue, NewValue FROM OpportunityFieldHistory "
         "WHERE Field = 'StageName' AND IsDeleted = false ORDER BY CreatedDate DESC LIMIT 200"),
    (OK, "SELECT Id, Parent.Name, Parent.Plan__r.External_Id__c, CreatedBy.Name "
         "FROM MAP_Milestone__History WHERE Parent.Plan__c = 'a01000000000001AAA'"),
    (OK, "SELECT COUNT() FROM MAP_Milestone__History WHERE CreatedDate = TODAY"),
    (BAD, "SELECT ParentId, Field FROM MAP_Milestone__History WHERE CreatedDate >= "
          "2024-01-01 00:00:00"),
    (BAD, "SELECT ParentId, Field FROM MAP_Milestone__History WHERE CreatedDate >= "
          "2024-01-01T00:00:00Z AND CreatedById != '005' OR Field = 'created'"),
    (BAD, "SELECT OpportunityId, StageName FROM OpportunityHistory WHERE StageName = 'x' AND"),
    (BAD, "SELECT OpportunityId, FROM OpportunityHistory ORDER BY CreatedDate"),
    (BAD, "SELECT Id FROM OpportunityHistory ORDER BY CreatedDate, "),
    (BAD, "SELECT Id FROM OpportunityFieldHistory WHERE Field = 'StageName' LIMIT"),
    # the poll's follow-up by Id, teams and the owners reps chose
    (OK, "SELECT Id, IsDeleted, SystemModstamp, LastModifiedById, OpportunityId, ContactId, Role, "
         "IsPrimary FROM OpportunityContactRole WHERE Id IN ('00K000000000001AAA', "
         "'00K000000000002AAA') ORDER BY SystemModstamp, Id"),
    (OK, "SELECT OpportunityId, UserId, TeamMemberRole, IsDeleted FROM OpportunityTeamMember "
         "ORDER BY OpportunityId, CreatedDate, Id"),
    (OK, "SELECT OpportunityId, UserId, TeamMemberRole, IsDeleted FROM OpportunityTeamMember "
         "WHERE OpportunityId IN ('006000000000001AAA') ORDER BY CreatedDate, Id"),
    (OK, "SELECT ParentId, Field, DataType, NewValue, CreatedDate, IsDeleted "
         "FROM MAP_Milestone__History WHERE Parent.Plan__r.External_Id__c IN "
         "('006000000000001AAA') AND Field IN ('Owner_Contact__c', 'Owner_User__c', "
         "'Status__c') AND CreatedById != '005000000000001AAA' ORDER BY CreatedDate, Id"),
    (BAD, "SELECT OpportunityId, UserId FROM OpportunityTeamMember WHERE OpportunityId IN "
          "('006000000000001AAA',) ORDER BY CreatedDate"),
    (BAD, "SELECT Id FROM OpportunityContactRole WHERE Id IN ORDER BY SystemModstamp"),
]

# Salesforce accepts these; the local org must refuse them as unsupported, not as bad syntax.
UNSUPPORTED = [
    "SELECT COUNT(Id) FROM Opportunity",
    "SELECT MAX(Amount) FROM Opportunity",
    "SELECT Name, COUNT(Id) FROM Account GROUP BY Name",
    "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
    "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
    "SELECT TYPEOF Owner WHEN User THEN Name END FROM Account",
    "SELECT FIELDS(ALL) FROM Account LIMIT 200",
    "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    "SELECT Id FROM Account WHERE Name = 'x' FOR VIEW",
    "SELECT Id FROM Account USING SCOPE mine",
    "SELECT Id FROM Account UPDATE TRACKING",
]


def _installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))


@pytest.fixture(scope="session")
def salesforce_parser() -> Path:
    """``tests/node`` with Salesforce's SOQL parser installed (``npm ci`` when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for Salesforce's SOQL parser")
    if any(_installed_version(p) != v for p, v in PINNED_PACKAGES.items()):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_DIR, check=True, capture_output=True, timeout=300)
    assert all(_installed_version(p) == v for p, v in PINNED_PACKAGES.items())
    return NODE_DIR


def salesforce_verdicts(node_dir: Path, queries: list[str]) -> dict[str, dict[str, object]]:
    """Run Salesforce's parser over all ``queries`` in one Node process."""
    done = subprocess.run(["node", "soql_verdicts.js"], cwd=node_dir, input=json.dumps(queries),
                          capture_output=True, text=True, check=True, timeout=120)
    verdicts = json.loads(done.stdout)
    assert len(verdicts) == len(queries)
    return dict(zip(queries, verdicts, strict=True))


@pytest.fixture(scope="session")
def verdicts(salesforce_parser: Path) -> dict[str, dict[str, object]]:
    return salesforce_verdicts(salesforce_parser, [q for _, q in CORPUS] + UNSUPPORTED)


def emulator_accepts(query: str) -> bool:
    try:
        parse(query)
    except SoqlError as exc:
        assert exc.error_code == "MALFORMED_QUERY", f"{exc.error_code}: {exc.message}"
        return False
    return True


def test_corpus_is_large_unique_and_balanced() -> None:
    queries = [q for _, q in CORPUS]
    assert len(queries) == len(set(queries))
    assert len(queries) >= 80
    accepted = sum(1 for ok, _ in CORPUS if ok)
    assert accepted >= 40
    assert len(queries) - accepted >= 40


@pytest.mark.parametrize(("salesforce_accepts", "query"), CORPUS, ids=[q for _, q in CORPUS])
def test_emulator_parser_accepts_exactly_what_salesforce_accepts(
        verdicts: dict[str, dict[str, object]], salesforce_accepts: bool, query: str) -> None:
    verdict = verdicts[query]
    assert verdict["accepted"] is salesforce_accepts, (
        f"Salesforce's parser no longer gives the recorded verdict: {verdict['errors']}")
    assert emulator_accepts(query) is salesforce_accepts


@pytest.mark.parametrize("query", UNSUPPORTED)
def test_salesforce_syntax_the_emulator_cannot_run_is_refused_as_unsupported(
        verdicts: dict[str, dict[str, object]], query: str) -> None:
    assert verdicts[query]["accepted"] is True
    with pytest.raises(SoqlError) as refused:
        parse(query)
    assert refused.value.error_code == "MALFORMED_QUERY"
    assert refused.value.unsupported


def test_reference_reports_a_trailing_token_it_recovers_from(salesforce_parser: Path) -> None:
    # Salesforce's parser builds a tree for this (alias plus one extraneous token) and only its
    # error list tells; a harness reading success alone would call it valid.
    query = "SELECT Id FROM Account garbage here"
    verdict = salesforce_verdicts(salesforce_parser, [query])[query]
    assert verdict["accepted"] is False
    assert "extraneous input 'here'" in str(verdict["errors"])
