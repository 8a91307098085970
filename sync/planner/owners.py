"""Who owns a milestone: the buyer's contact by role, the seller's user by team role or owner.

Owner contact and owner user are the rep's to choose: mapsync names them when it can and
never replaces a rep's choice (a pin: Salesforce's history says a rep set it). Buyer and
joint milestones take the contact holding their role on the Opportunity (the first listed,
primary first), on a new plan, a milestone new to a plan, or one whose owner is still empty.
Seller milestones take the Opportunity Team member whose team role is the milestone's role
(compared ignoring case; the first listed), else the Opportunity owner, and follow the team
and the owner as they change until a rep sets the owner user.
"""

from __future__ import annotations

from sync.planner.model import Opportunity


def owner_of(opportunity: Opportunity) -> str | None:
    """The Opportunity owner's user Id, who owns the seller-side milestones."""
    owner = opportunity.fields.get("OwnerId")
    return str(owner) if owner else None


def users_by_role(opportunity: Opportunity) -> dict[str, str]:
    """Team member user id by team role (case-folded); the first member listed names it."""
    users: dict[str, str] = {}
    for role, user_id in opportunity.team:
        if role:
            users.setdefault(role.casefold(), user_id)
    return users


def contacts_by_role(opportunity: Opportunity) -> dict[str, str]:
    """Contact id by role (case-folded); the first contact listed for a role names it."""
    contacts: dict[str, str] = {}
    for role, contact_id in opportunity.contact_roles:
        contacts.setdefault(role.casefold(), contact_id)
    return contacts
