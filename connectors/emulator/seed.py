"""Sample data for the local org: a believable sales org, or just its users.

``demo`` gives a newcomer something to look at: reps, accounts, buying-committee contacts
with Opportunity contact roles, and about fifty opportunities spread over every stage with
close dates around today. ``empty`` holds only the organization, its stages and its users.
``opportunities=N`` adds N generated opportunities for load tests, bulk-inserted.
Everything is derived from a fixed random seed and ``today``, so two orgs seeded on the same
day hold the same records with the same Ids.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from connectors.emulator import ids
from connectors.emulator.standard_objects import STANDARD_STAGES
from connectors.emulator.store import OrgStore

SEEDS = ("demo", "empty")
ORG_ID = ids.make_id("00D", 1)
ORG_NAME = "Northwind Robotics (local org)"

REPS = (
    ("Maya", "Chen", "Account Executive"),
    ("Jordan", "Blake", "Account Executive"),
    ("Priya", "Natarajan", "Senior Account Executive"),
    ("Luis", "Ortega", "Enterprise Account Executive"),
    ("Dana", "Whitfield", "Regional Sales Manager"),
)
ACCOUNTS = (
    ("Acme Manufacturing", "Manufacturing", "Chicago"),
    ("Globex Logistics", "Transportation", "Rotterdam"),
    ("Initech Financial", "Finance", "Austin"),
    ("Umbrella Health", "Healthcare", "Boston"),
    ("Stark Energy Systems", "Energy", "Denver"),
    ("Wayne Biotech", "Biotechnology", "Cambridge"),
    ("Hooli Media", "Media", "Palo Alto"),
    ("Vandelay Imports", "Retail", "New York"),
    ("Cyberdyne Engineering", "Engineering", "Sunnyvale"),
    ("Soylent Foods", "Agriculture", "Des Moines"),
    ("Tyrell Insurance", "Insurance", "Hartford"),
    ("Wonka Consumer Goods", "Retail", "Manchester"),
    ("Oscorp Communications", "Communications", "Seattle"),
    ("Pied Piper Software", "Technology", "San Francisco"),
    ("Massive Dynamic Banking", "Banking", "Toronto"),
)
FIRST_NAMES = ("Alex", "Sam", "Robin", "Taylor", "Morgan", "Casey", "Jamie", "Avery", "Riley",
               "Quinn", "Harper", "Rowan", "Elliot", "Noor", "Kenji", "Ines", "Tomas", "Zara")
LAST_NAMES = ("Garcia", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad",
              "Fischer", "Silva", "O'Brien", "Novak", "Rossi", "Singh", "Murphy", "Kim")
# (title, contact role on the opportunity)
BUYING_COMMITTEE = (
    ("Chief Financial Officer", "Economic Buyer"),
    ("VP Engineering", "Technical Buyer"),
    ("General Counsel", "Legal"),
    ("Director of Operations", "Business User"),
    ("Head of Procurement", "Procurement"),
    ("Chief Operating Officer", "Executive Sponsor"),
)
PRODUCTS = ("Platform", "Fleet Analytics", "Robotics Suite", "Expansion", "Renewal",
            "Pilot", "Enterprise Agreement", "Onboarding Services")


def seed_org(store: OrgStore, kind: str, integration_username: str,
             opportunities: int = 0, today: date | None = None, rng_seed: int = 20240601) -> None:
    """Fill a fresh store with the ``kind`` seed plus ``opportunities`` generated ones."""
    if kind not in SEEDS:
        raise ValueError(f"unknown seed {kind!r} (expected one of {', '.join(SEEDS)})")
    today = today or date.today()
    rng = random.Random(rng_seed)
    schema = store.schema
    integration_id = ids.make_id("005", 1)
    obj = schema.get
    store.insert_rows(obj("Organization"), [{  # type: ignore[arg-type]
        "Id": ORG_ID, "Name": ORG_NAME, "OrganizationType": "Enterprise Edition",
        "InstanceName": "EMU1", "IsSandbox": 0, "Country": "US",
        "TimeZoneSidKey": "America/Los_Angeles", "LanguageLocaleKey": "en_US",
        "DefaultLocaleSidKey": "en_US"}], integration_id)
    store.insert_rows(obj("OpportunityStage"), [{  # type: ignore[arg-type]
        "MasterLabel": s.name, "ApiName": s.name, "IsActive": 1, "IsClosed": int(s.is_closed),
        "IsWon": int(s.is_won), "SortOrder": i + 1, "DefaultProbability": float(s.probability),
        "ForecastCategoryName": s.forecast_category} for i, s in enumerate(STANDARD_STAGES)],
        integration_id)
    _admin, rep_profile, api_only = store.insert_rows(obj("Profile"), [  # type: ignore[arg-type]
        {"Name": "System Administrator", "UserType": "Standard"},
        {"Name": "Standard User", "UserType": "Standard"},
        {"Name": "Minimum Access - API Only Integrations", "UserType": "Standard"}],
        integration_id)
    # the integration user's access is its permission set alone (see permissions.py)
    users = [{"Id": integration_id, "Username": integration_username, "FirstName": "Integration",
              "LastName": "User", "Email": "integration@mapsync.example", "Alias": "integ",
              "Title": "Integration User", "ProfileId": api_only}]
    for first, last, title in REPS:
        users.append({"ProfileId": rep_profile,
                      "Username": f"{first.lower()}.{last.lower()}@northwind.example",
                      "FirstName": first, "LastName": last, "Title": title,
                      "Email": f"{first.lower()}.{last.lower()}@northwind.example",
                      "Alias": (first[0] + last)[:8].lower(), "Department": "Sales"})
    user_ids = store.insert_rows(obj("User"), users, integration_id)  # type: ignore[arg-type]
    reps = user_ids[1:]
    account_ids: list[str] = []
    # Sales data is entered by the reps, as in a real org: only mapsync's own writes carry
    # the integration user, which is how it tells a rep's change from the echo of its own.
    sales_rep = reps[0]
    if kind == "demo":
        account_ids = _demo(store, rng, reps, today, sales_rep)
    if opportunities:
        if not account_ids:
            account_ids = store.insert_rows(obj("Account"), [  # type: ignore[arg-type]
                {"Name": name, "Industry": industry, "BillingCity": city, "OwnerId": reps[i % 4]}
                for i, (name, industry, city) in enumerate(ACCOUNTS)], sales_rep)
        generate_opportunities(store, opportunities, account_ids, reps, today, sales_rep)


def _demo(store: OrgStore, rng: random.Random, reps: list[str], today: date,
          integration_id: str) -> list[str]:
    obj = store.schema.get
    account_rows = [{
        "Name": name, "Industry": industry, "BillingCity": city,
        "Type": "Customer - Direct" if i % 3 == 0 else "Prospect",
        "NumberOfEmployees": rng.choice((120, 450, 900, 2500, 8000, 15000)),
        "AnnualRevenue": float(rng.randrange(5, 900) * 1_000_000),
        "Website": "https://www." + name.split()[0].lower() + ".example",
        "OwnerId": reps[i % 4]} for i, (name, industry, city) in enumerate(ACCOUNTS)]
    account_ids = store.insert_rows(obj("Account"), account_rows, integration_id)  # type: ignore[arg-type]
    contacts: list[dict[str, object]] = []
    committee: dict[str, list[tuple[int, str]]] = {}  # account id -> (contact index, role)
    for acc_id, acc in zip(account_ids, account_rows, strict=True):
        domain = str(acc["Website"]).removeprefix("https://www.")
        for title, role in rng.sample(BUYING_COMMITTEE, rng.randint(3, 5)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            committee.setdefault(acc_id, []).append((len(contacts), role))
            contacts.append({
                "FirstName": first, "LastName": last, "Title": title, "AccountId": acc_id,
                "Email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
                "OwnerId": acc["OwnerId"]})
    contact_ids = store.insert_rows(obj("Contact"), contacts, integration_id)  # type: ignore[arg-type]
    opps: list[dict[str, object]] = []
    for i in range(50):
        stage = STANDARD_STAGES[i % len(STANDARD_STAGES)]
        acc_index = (i * 7) % len(account_ids)
        close = (today - timedelta(days=rng.randint(3, 90)) if stage.is_closed
                 else today + timedelta(days=rng.randint(7, 150)))
        opps.append({
            "Name": f"{ACCOUNTS[acc_index][0]} – {rng.choice(PRODUCTS)}",
            "AccountId": account_ids[acc_index], "OwnerId": reps[acc_index % 4],
            "StageName": stage.name, "CloseDate": close.isoformat(),
            "Amount": float(rng.randrange(10, 501) * 1000),
            "Type": "Existing Business" if rng.random() < 0.4 else "New Business",
            "LeadSource": rng.choice(("Web", "Partner", "Trade Show", "Employee Referral")),
            "NextStep": None if stage.is_closed else "Confirm next meeting with the buyer"})
    opp_ids = store.insert_rows(obj("Opportunity"), opps, integration_id)  # type: ignore[arg-type]
    roles: list[dict[str, object]] = []
    for opp_id, opp in zip(opp_ids, opps, strict=True):
        members = committee[str(opp["AccountId"])]
        for n, (contact_index, role) in enumerate(members[:rng.randint(2, len(members))]):
            roles.append({"OpportunityId": opp_id, "ContactId": contact_ids[contact_index],
                          "Role": role, "IsPrimary": int(n == 0)})
    store.insert_rows(obj("OpportunityContactRole"), roles, integration_id)  # type: ignore[arg-type]
    return account_ids


def generate_opportunities(store: OrgStore, count: int, account_ids: list[str],
                           owner_ids: list[str], today: date, user_id: str) -> None:
    """Add ``count`` opportunities fast (bulk inserts of 10,000), deterministic by index."""
    opp = store.schema.get("Opportunity")
    assert opp is not None
    open_stages = [s for s in STANDARD_STAGES if not s.is_closed]
    for start in range(0, count, 10_000):
        rows: list[dict[str, object]] = []
        for i in range(start, min(count, start + 10_000)):
            stage = (STANDARD_STAGES[8 + i % 2] if i % 10 == 9
                     else open_stages[i % len(open_stages)])
            rows.append({
                "Name": f"Generated Opportunity {i + 1:06d}",
                "AccountId": account_ids[i % len(account_ids)],
                "OwnerId": owner_ids[i % len(owner_ids)], "StageName": stage.name,
                "CloseDate": (today + timedelta(days=(i * 37) % 240 - 60)).isoformat(),
                "Amount": float(10_000 + (i * 7919) % 490_001),
                "Type": "New Business" if i % 3 else "Existing Business"})
        store.insert_rows(opp, rows, user_id)
