"""A spooled run's contact roles and team members: each batch gets its own in REST order.

A spooled run (a backfill's, a streamed first cycle's) reads each kind whole in one Bulk
query, whose rows come in no order (the local org shuffles them, as Salesforce's parallel
chunks do); a batch must still get its Opportunities' people as a REST read orders them
(contact roles: primary first, then Id; team members: by creation, then Id), since the first
contact in a milestone's role becomes its owner.
"""

from __future__ import annotations

from pathlib import Path

from connectors.emulator.server import Emulator
from sync.cycle.spool_tables import SpoolTables
from sync.cycle.spooled_push import people_of
from tests.sync.world import World

REST = {"roles": "SELECT OpportunityId, Role, ContactId FROM OpportunityContactRole "
                 "ORDER BY IsPrimary DESC, Id",
        "team": "SELECT OpportunityId, TeamMemberRole, UserId FROM OpportunityTeamMember "
                "ORDER BY CreatedDate, Id"}


def test_a_spooled_runs_people_come_in_the_order_a_rest_read_gives(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opps = [world.opportunity(name=f"Deal {n}") for n in range(3)]
    contacts = [world.rep.Contact.create({"LastName": f"Buyer {n}",
                                          "AccountId": world.account_id})["id"]
                for n in range(8)]
    users = [str(r["Id"]) for r in world.query(
        f"SELECT Id FROM User WHERE Id != '{world.client.user_id}' ORDER BY Username")]
    for opp in opps:
        for n, contact in enumerate(contacts):  # the primary neither first nor last
            world.rep.OpportunityContactRole.create(
                {"OpportunityId": opp, "ContactId": contact, "IsPrimary": n == 5,
                 "Role": "Economic Buyer" if n % 2 else "Champion"})
        for user in users:
            world.rep.OpportunityTeamMember.create(
                {"OpportunityId": opp, "UserId": user, "TeamMemberRole": "Solutions Engineer"})
    tables = SpoolTables(tmp_path / "spool.db")
    for kind, fields in (("roles", ("Role", "ContactId")),
                         ("team", ("TeamMemberRole", "UserId"))):
        rest: dict[str, list[tuple[str, str]]] = {}
        for row in world.query(REST[kind]):
            rest.setdefault(row["OpportunityId"], []).append(
                (row[fields[0]], row[fields[1]]))
        assert len(rest[opps[0]]) > 1
        assert people_of(world.client, tables, kind, opps) == rest
    tables.remove()
