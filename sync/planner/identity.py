"""Who a plan and a milestone are: the one codec of their external ids.

A plan is its Opportunity's plan, so its identity is the Opportunity's 18-character Id; a
milestone is a step of one template in one plan, so its identity is ``<Opportunity Id>:<key>``.
Salesforce stores these as external ids (every write is an upsert by them, so a repeated
write never duplicates), and every record mapsync syncs can name its Opportunity from them.
"""

from __future__ import annotations


def milestone_external_id(opportunity_id: str, key: str) -> str:
    """A milestone's external id: its Opportunity's Id and its key in the template."""
    return f"{opportunity_id}:{key}"


def opportunity_of(external_id: str) -> str:
    """The Opportunity Id inside a plan's, a milestone's or an Opportunity's key."""
    return external_id.split(":", 1)[0]


def milestone_key_of(external_id: str) -> str | None:
    """The milestone key inside a milestone's external id (``None`` for any other key)."""
    _, sep, key = external_id.partition(":")
    return key if sep else None
