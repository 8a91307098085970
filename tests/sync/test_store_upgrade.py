"""A store upgraded from full JSON copies of what mapsync wrote (revision 0001) to the compact
shadow decides as a store that never left it: the next cycle writes no milestone, keeps a
rep's renamed milestone and does not recreate one a rep deleted; and what it rewrites, it keeps
compact from then on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from connectors.emulator.server import Emulator
from sync.cycle.sobjects import (
    MILESTONE_FIELDS,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_FIELDS,
    PLAN_OBJECT,
    TASK,
    TASK_KEY_FIELD,
)
from sync.cycle.tasks import TRACKED
from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_OWNED_MILESTONE_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
)
from sync.store import Store
from sync.store.canonical import canonical_json, text_hash
from sync.store.compact import Digest
from sync.store.engine import create_store_engine
from sync.store.migrate import alembic_config
from tests.sync.world import World

WRITTEN = {  # what revision 0001 kept of each record: every field mapsync wrote
    PLAN_OBJECT: SERVICE_OWNED_PLAN_FIELDS | {"Name"},
    MILESTONE_OBJECT: (SERVICE_OWNED_MILESTONE_FIELDS | REP_PINNABLE_MILESTONE_FIELDS
                       | REP_OWNED_MILESTONE_FIELDS),
    OPPORTUNITY: OPPORTUNITY_ROLLUP_FIELDS,
    TASK: frozenset(TRACKED),  # a milestone's Task: the fields mapsync keeps with it
}


def _back_to_full_copies(world: World, url: str) -> None:
    """The store as revision 0001 held it: every written field of every record, in JSON."""
    world.store.close()
    engine = create_store_engine(url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    records = {
        PLAN_OBJECT: {r["External_Id__c"]: r for r in world.query(
            f"SELECT {', '.join(PLAN_FIELDS)} FROM {PLAN_OBJECT}")},
        MILESTONE_OBJECT: {r["External_Id__c"]: r for r in world.query(
            f"SELECT {', '.join(MILESTONE_FIELDS)} FROM {MILESTONE_OBJECT}")},
        OPPORTUNITY: {r["Id"]: r for r in world.query(
            f"SELECT Id, {', '.join(sorted(OPPORTUNITY_ROLLUP_FIELDS))} FROM Opportunity")},
        TASK: {r[TASK_KEY_FIELD]: r for r in world.query(
            f"SELECT {TASK_KEY_FIELD}, {', '.join(TRACKED)} FROM {TASK} "
            f"WHERE {TASK_KEY_FIELD} != null")},
    }
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT object_name, external_id FROM shadow_record")).all()
        assert len(rows) >= 10  # a plan, its milestones, its rollup
        for obj, key in rows:
            body = canonical_json({f: records[obj][key].get(f) for f in sorted(WRITTEN[obj])})
            conn.execute(text("UPDATE shadow_record SET fields_json = :f, fields_hash = :h "
                              "WHERE object_name = :o AND external_id = :k"),
                         {"f": body, "h": text_hash(body), "o": obj, "k": key})
    engine.dispose()


@pytest.mark.parametrize("upgraded", [False, True])
def test_an_upgraded_store_decides_as_one_that_never_left_its_revision(
        emulator: Emulator, tmp_path: Path, upgraded: bool) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    if upgraded:
        url = world.settings.database_url.get_secret_value()
        _back_to_full_copies(world, url)
        world.store = Store.open(url)  # SQLite upgrades itself on open
        world.sync = dataclasses.replace(world.sync, store=world.store)
    milestones = world.milestones(opp)
    renamed, deleted = sorted(k for k, m in milestones.items() if m["Status__c"] != "Done")[:2]
    world.edit(MILESTONE_OBJECT, milestones[renamed]["Id"], Name="Kick-off, with Legal")
    world.delete(MILESTONE_OBJECT, milestones[deleted]["Id"])
    world.edit(OPPORTUNITY, opp, Amount=75_000)

    report = world.cycle()

    assert (report.plans_created, report.milestones_written) == (0, 0)
    assert deleted not in world.milestones(opp)  # not recreated
    name = world.query(f"SELECT Name FROM {MILESTONE_OBJECT} WHERE Key__c = '{renamed}'")
    assert name[0]["Name"] == "Kick-off, with Legal"  # kept
    with world.store.transaction(write=False) as tx:
        key = f"{opp}:{renamed}"
        kept = tx.shadow(world.org_id, MILESTONE_OBJECT, [key])[key].fields
    assert isinstance(kept["Why_It_Matters__c"], Digest)  # rewritten compact
    assert "Stage__c" not in kept
