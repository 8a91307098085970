"""Revision 0002 converts a store's shadow to the compact form without losing a value: the
cycle reads exactly what it read before the upgrade, so an upgraded store decides the same;
and a store that goes back to 0001 reads its values again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from sync.store import ShadowWrite, Store
from sync.store.canonical import canonical_json, decode, text_hash
from sync.store.compact import Digest
from sync.store.engine import create_store_engine
from sync.store.migrate import alembic_config, head_revision, upgrade

ORG, OTHER = "00D000000000001AAA", "00D000000000002AAA"
PLAN, MILESTONE, OPPORTUNITY = "Mutual_Action_Plan__c", "MAP_Milestone__c", "Opportunity"
OPP = "006000000000001AAA"
# what 0001 held after a cycle: every field mapsync wrote, as canonical JSON
OLD_ROWS = [
    (ORG, PLAN, OPP, "a00000000000001AAA",
     {"Name": "MAP: Initech", "Template__c": "new_business", "Status__c": "Active",
      "Percent_Complete__c": 12.5, "Target_Close_Date__c": "2026-06-30", "Summary__c": None}),
    (ORG, MILESTONE, f"{OPP}:kickoff", "a01000000000001AAA",
     {"Name": "Kickoff", "Key__c": "kickoff", "Sequence__c": 1, "Status__c": "Done",
      "Completed_Date__c": None, "Due_Date__c": "2026-03-02",
      "Baseline_Due_Date__c": "2026-03-02", "Days_Slipped__c": 0,
      "Why_It_Matters__c": "x" * 255, "Depends_On__c": None, "Owner_Side__c": "Joint"}),
    (ORG, MILESTONE, f"{OPP}:security_review", None,
     {"Name": "Security review ✓", "Status__c": "In Progress", "Days_Slipped__c": -3}),
    (ORG, OPPORTUNITY, OPP, OPP, {"MAP_Health__c": "On Track", "MAP_Percent_Complete__c": 12.5}),
    (OTHER, MILESTONE, "not-an-id:kickoff", "a01000000000002", {"Status__c": "Blocked"}),
]


def _store_at_0001(url: str) -> None:
    engine = create_store_engine(url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for org, obj, key, record_id, fields in OLD_ROWS:
                body = canonical_json(fields)
                conn.execute(text(
                    "INSERT INTO shadow_record (org_id, object_name, external_id, record_id, "
                    "fields_json, fields_hash, written_at) VALUES (:o, :b, :k, :r, :f, :h, :w)"),
                    {"o": org, "b": obj, "k": key, "r": record_id, "f": body,
                     "h": text_hash(body), "w": datetime(2026, 3, 2, tzinfo=UTC)})
    finally:
        engine.dispose()


def test_an_upgraded_store_reads_every_shadow_value_the_old_one_held(
        empty_database_url: str) -> None:
    _store_at_0001(empty_database_url)
    with Store.open(empty_database_url, auto_upgrade=True) as store:
        assert store.revision() == head_revision()
        with store.transaction(write=False) as tx:
            for org, obj, key, record_id, fields in OLD_ROWS:
                record = tx.shadow(org, obj, [key])[key]
                assert record.record_id == record_id
                assert record.fields == decode(canonical_json(fields))  # as 0001 returned them
            assert [r.external_id for r in tx.iter_shadow(ORG, MILESTONE)] == [
                f"{OPP}:kickoff", f"{OPP}:security_review"]
            assert tx.shadow(OTHER, PLAN, [OPP]) == {}


def test_a_store_taken_back_to_0001_reads_its_values_again(empty_database_url: str) -> None:
    _store_at_0001(empty_database_url)
    engine = create_store_engine(empty_database_url)
    try:
        upgrade(engine)
        with Store.open(empty_database_url) as store, store.transaction() as tx:
            tx.put_shadows(ORG, MILESTONE, [ShadowWrite(
                f"{OPP}:scoping", None, {"Status__c": "Done", "Name": Digest.of("Scoping")})])
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0001")
        with engine.connect() as conn:
            rows = {(r.org_id, r.object_name, r.external_id): (r.record_id,
                                                               decode(r.fields_json))
                    for r in conn.execute(text("SELECT * FROM shadow_record"))}
    finally:
        engine.dispose()
    for org, obj, key, record_id, fields in OLD_ROWS:
        assert rows[(org, obj, key)] == (record_id, decode(canonical_json(fields)))
    # a digest cannot come back: to 0001 that field was never written
    assert rows[(ORG, MILESTONE, f"{OPP}:scoping")] == (None, {"Status__c": "Done"})
