"""The standard ``OpportunityTeamMember``: the users working a deal beside its owner.

With Team Selling on, each Opportunity has a team: a member is a ``UserId`` with a
``TeamMemberRole`` (the org's Opportunity Team Roles picklist, which admins extend: the roles
mapsync's templates name for seller-side steps are among them here) and an
``OpportunityAccessLevel`` (Read, Edit or All; Read unless said). ``OpportunityId`` and
``UserId`` are set on create and never updated, and a user is on an Opportunity's team once:
creating a member that matches an existing one updates the existing record and answers its Id,
as Salesforce does. Members go with their Opportunity when it is deleted. mapsync reads teams
to name the user who owns each seller-side milestone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.emulator.schema import SObjectDef
from connectors.emulator.sqltext import q

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore

TEAM_MEMBER = "OpportunityTeamMember"
TEAM_ROLES = ("Account Manager", "Channel Manager", "Executive Sponsor", "Lead Qualifier",
              "Pre-Sales Consultant", "Sales Manager", "Sales Rep",
              # added by the org's admin for the plan's seller-side steps
              "Account Executive", "Solutions Engineer", "Customer Success Manager")
ACCESS_LEVELS = ("Read", "Edit", "All")
FIXED = ("OpportunityId", "UserId")  # set on create only


def opportunity_team_member() -> SObjectDef:
    from connectors.emulator.standard_objects import (  # standard_objects includes this module
        picklist,
        ref,
        sobject,
    )
    return sobject(TEAM_MEMBER, "00q", "Opportunity Team Member", "Opportunity Team Members", [
        ref("OpportunityId", "Opportunity", "Opportunity", "Opportunity ID", nillable=False,
            updateable=False, cascade_delete=True, relationship_plural="OpportunityTeamMembers"),
        ref("UserId", "User", "User", "User ID", nillable=False, updateable=False,
            relationship_plural="OpportunityTeamMembers"),
        picklist("TeamMemberRole", TEAM_ROLES, "Team Role"),
        picklist("OpportunityAccessLevel", ACCESS_LEVELS, "Opportunity Access",
                 restricted_picklist=True, default_value="Read"),
    ])


def same_member(store: OrgStore, obj: SObjectDef, body: dict[str, object]) -> str | None:
    """The Id of the live member ``body`` matches (same Opportunity and user), if any: a
    create of it is an update of that member."""
    if obj.name != TEAM_MEMBER:
        return None
    opp, user = (str(body.get(f) or "")[:15] for f in FIXED)
    if not opp or not user:
        return None
    row = store.conn.execute(
        f"SELECT Id FROM {q(TEAM_MEMBER)} WHERE substr(OpportunityId, 1, 15) = ? "
        "AND substr(UserId, 1, 15) = ? AND IsDeleted = 0", (opp, user)).fetchone()
    return str(row[0]) if row else None


# A member deleted by itself skips the recycle bin: queryAll no longer finds it, only Get
# Deleted names it (one deleted with its Opportunity goes to the bin with the Opportunity).
_PURGED = '"_PurgedRecords"'


def purge(store: OrgStore, obj: SObjectDef, record_id: str, stamp: str) -> bool:
    """Delete ``record_id`` for good when its object skips the recycle bin, keeping its Id
    and time for Get Deleted; ``False`` for the objects that keep their deleted rows."""
    if obj.name != TEAM_MEMBER:
        return False
    _ensure(store)
    store.conn.execute(f"DELETE FROM {q(obj.name)} WHERE Id = ?", (record_id,))
    store.conn.execute(f"INSERT INTO {_PURGED} VALUES (?, ?, ?)", (obj.name, record_id, stamp))
    return True


def purged_between(store: OrgStore, obj: SObjectDef, start: str,
                   end: str) -> list[tuple[str, str]]:
    """(Id, deletion time) of the records of ``obj`` purged in [start, end)."""
    if obj.name != TEAM_MEMBER:
        return []
    _ensure(store)
    return [(str(r[0]), str(r[1])) for r in store.conn.execute(
        f"SELECT Id, SystemModstamp FROM {_PURGED} WHERE Object = ? AND SystemModstamp >= ? "
        "AND SystemModstamp < ?", (obj.name, start, end))]


def _ensure(store: OrgStore) -> None:
    store.conn.execute(f"CREATE TABLE IF NOT EXISTS {_PURGED} "
                       "(Object TEXT, Id TEXT, SystemModstamp TEXT)")
