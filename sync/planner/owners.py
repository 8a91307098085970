"""Who owns a milestone: the buyer's contact by role, the seller's user by Opportunity owner.

Owner contact and owner user are rep-owned: mapsync names them when it can (a new plan, a
milestone new to a plan, or one whose owner is still empty) and never replaces a rep's choice.
Buyer and joint milestones take the contact holding their role on the Opportunity (the first
listed, primary first); seller milestones take the Opportunity owner.
"""

from __future__ import annotations

from sync.planner.model import Opportunity


def owner_of(opportunity: Opportunity) -> str | None:
    """The Opportunity owner's user Id, who owns the seller-side milestones."""
    owner = opportunity.fields.get("OwnerId")
    return str(owner) if owner else None


def contacts_by_role(opportunity: Opportunity) -> dict[str, str]:
    """Contact id by role (case-folded); the first contact listed for a role names it."""
    contacts: dict[str, str] = {}
    for role, contact_id in opportunity.contact_roles:
        contacts.setdefault(role.casefold(), contact_id)
    return contacts
