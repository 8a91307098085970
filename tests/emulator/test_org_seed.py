"""Seeds: a believable demo org, an empty one, and generated opportunities at volume."""

import time
from datetime import date

import pytest

from connectors.emulator.org import Org
from connectors.emulator.standard_objects import STANDARD_STAGES

TODAY = date(2026, 6, 15)


def rows(org, sql):
    return org.store.conn.execute(sql).fetchall()


def test_demo_spreads_fifty_opportunities_over_every_stage_around_today():
    org = Org(seed="demo", today=TODAY)
    stages = dict(rows(org, 'SELECT StageName, COUNT(*) FROM "Opportunity" GROUP BY 1'))
    assert set(stages) == {s.name for s in STANDARD_STAGES}
    assert sum(stages.values()) == 50
    [(low, high)] = rows(org, 'SELECT MIN(Amount), MAX(Amount) FROM "Opportunity"')
    assert low >= 10_000
    assert high <= 500_000
    open_dates = [d for (d,) in rows(org, 'SELECT CloseDate FROM "Opportunity" WHERE IsClosed = 0')]
    assert all(d > TODAY.isoformat() for d in open_dates)
    types = {t for (t,) in rows(org, 'SELECT DISTINCT Type FROM "Opportunity"')}
    assert types == {"New Business", "Existing Business"}


def test_demo_has_accounts_reps_and_buying_committee_roles():
    org = Org(seed="demo", today=TODAY)
    assert rows(org, 'SELECT COUNT(*) FROM "Account"') == [(15,)]
    roles = {r for (r,) in rows(org, 'SELECT DISTINCT Role FROM "OpportunityContactRole"')}
    assert {"Economic Buyer", "Technical Buyer", "Legal"} <= roles
    no_roles = rows(org, 'SELECT COUNT(*) FROM "Opportunity" o WHERE NOT EXISTS ('
                         'SELECT 1 FROM "OpportunityContactRole" r WHERE r.OpportunityId = o.Id)')
    assert no_roles == [(0,)]
    assert rows(org, 'SELECT COUNT(*) FROM "User"')[0][0] >= 5


def test_same_day_same_seed_same_records():
    a, b = Org(seed="demo", today=TODAY), Org(seed="demo", today=TODAY)
    sql = 'SELECT Id, Name, StageName, CloseDate, Amount FROM "Opportunity" ORDER BY Id'
    assert rows(a, sql) == rows(b, sql)


def test_empty_holds_only_the_organization_stages_and_users():
    org = Org(seed="empty")
    assert rows(org, 'SELECT COUNT(*) FROM "Organization"') == [(1,)]
    assert rows(org, 'SELECT COUNT(*) FROM "OpportunityStage"') == [(10,)]
    assert rows(org, 'SELECT COUNT(*) FROM "Account"') == [(0,)]
    assert rows(org, 'SELECT COUNT(*) FROM "Opportunity"') == [(0,)]


@pytest.mark.slow
def test_one_hundred_thousand_generated_opportunities_load_in_under_a_minute():
    started = time.monotonic()
    org = Org(seed="empty", opportunities=100_000, today=TODAY)
    assert time.monotonic() - started < 60
    assert rows(org, 'SELECT COUNT(*), COUNT(DISTINCT Id) FROM "Opportunity"') == \
        [(100_000, 100_000)]
