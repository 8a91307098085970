"""The sample buyer document shown in the README (``docs/buyer-plan.png``), made reproducibly.

An enterprise plan of the shipped mapping, planned by the planner, with named owners, one
outcome done and one a week late, written as PDF and HTML, and the PDF's first page as PNG
(``pdftoppm``, Debian's ``poppler-utils``):

    python -m tests.share.sample_document docs/
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from mappings.loader import default_mapping_path, load_mapping
from mappings.model import ResourceSpec
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import Opportunity
from sync.planner.planner import Planner
from sync.share import SharedPlan, render_html, render_pdf, shared_plan
from tests.benchmarks.bench_share import rows_of

TODAY = dt.date(2026, 11, 30)
OWNERS = ("Priya Natarajan", "Dana Seller", "Priya Natarajan", "Marcus Webb", "Elena Ruiz",
          None, "Dana Seller", "Elena Ruiz", "Sam Lee", "Marcus Webb", "Priya Natarajan",
          "Tom Okafor")


def sample_plan() -> SharedPlan:
    mapping = load_mapping(default_mapping_path())
    opp = Opportunity(id="006000000000001AAA", name="Initech - Support Platform",
                      stage="Value Proposition", close_date=dt.date(2027, 2, 26),
                      amount=Decimal(180_000), type="New Business", contact_roles=())
    desired = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar)).plan(opp, None,
                                                                                    TODAY)
    assert desired is not None
    rows = rows_of(desired, opp.name, 0)
    for row, owner in zip(rows["milestones"], OWNERS, strict=False):
        row["Owner_Contact__r"] = {"Name": owner} if owner else None
    late = rows["milestones"][3]
    late["Due_Date__c"] = (dt.date.fromisoformat(late["Baseline_Due_Date__c"])
                           + dt.timedelta(days=7)).isoformat()
    late["Days_Slipped__c"] = 5
    rows["plan"].update(
        Days_Slipped__c=5, Projected_Close_Date__c="2027-03-05",
        Summary__c="Initech's support team spends 30 hours a week triaging tickets by hand. "
                   "Together we will prove that automated triage halves that time before "
                   "the spring peak.",
        Success_Criteria__c="Median triage time under 4 minutes for the pilot team; two weeks "
                            "of production use without a Sev-1.",
        Compelling_Event__c="Spring support peak", Compelling_Event_Date__c="2027-04-12",
        Resources__c="Security & compliance pack | https://acme.example/trust\n"
                     "Pilot success plan | https://acme.example/pilot")
    rows["opportunity"].update(Account={"Name": "Initech"}, Owner={
        "Name": "Dana Seller", "Email": "dana.seller@acme.example", "Title": "Account Executive"})
    rows["contact_roles"] = [
        {"Role": "Economic Buyer", "IsPrimary": True,
         "Contact": {"Name": "Priya Natarajan", "Email": "priya@initech.example"}},
        {"Role": "Technical Buyer", "IsPrimary": False,
         "Contact": {"Name": "Marcus Webb", "Email": "marcus@initech.example"}}]
    stories = ResourceSpec(title="Customer stories", link="https://acme.example/stories")
    return shared_plan(**rows, seller="Acme", today=TODAY, resources=[stories])


def main(folder: Path) -> None:
    plan = sample_plan()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "buyer-plan.html").write_bytes(render_html(plan))
    pdf = folder / "buyer-plan.pdf"
    pdf.write_bytes(render_pdf(plan))
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(folder / "buyer-plan")], check=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
