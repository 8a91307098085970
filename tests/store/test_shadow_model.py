"""The shadow behaves like a dictionary of external id → (record id, fields), whatever the
mix of small writes, bulk writes (COPY on PostgreSQL), repeats and deletes."""

from __future__ import annotations

import random

from sync.store import ShadowWrite, Store, canonical_fields, fields_hash

ORG = "00D000000000001AAA"
OBJ = "MAP_Milestone__c"


def test_random_writes_and_deletes_leave_exactly_what_a_dictionary_would(store: Store) -> None:
    rng = random.Random(7)
    model: dict[str, tuple[str | None, dict]] = {}
    keys = [f"006{i:015d}:m" for i in range(3000)]
    for round_no in range(12):
        size = rng.choice([1, 5, 200, 1100, 2500])  # both sides of the bulk threshold
        writes: list[ShadowWrite] = []
        for key in rng.sample(keys, size):
            record_id = rng.choice([None, f"a01{rng.randrange(10**6):015d}"])
            if not writes:
                record_id = f"a01{round_no:015d}"
            fields = {"Status__c": rng.choice(["Done", "Blocked"]), "Round__c": round_no,
                      "Percent__c": rng.choice([12.5, 50, None])}
            writes.append(ShadowWrite(key, record_id, fields))
        # the same record twice in one write: the later values win, an unknown Id keeps one
        writes.append(ShadowWrite(writes[0].external_id, None, {"repeat": round_no}))
        gone = rng.sample(keys, rng.choice([0, 3, 400]))
        with store.transaction() as tx:
            tx.put_shadows(ORG, OBJ, writes)
            tx.delete_shadow(ORG, OBJ, gone)
        for w in writes:
            known = model.get(w.external_id, (None, {}))[0]
            model[w.external_id] = (w.record_id or known, w.fields)
        for key in gone:
            model.pop(key, None)
        with store.transaction(write=False) as tx:
            stored = {r.external_id: r for r in tx.iter_shadow(ORG, OBJ)}
        assert set(stored) == set(model), f"round {round_no}"
        for key, (record_id, fields) in model.items():
            record = stored[key]
            assert (record.record_id, record.fields) == (record_id, canonical_fields(fields))
            assert record.hash == fields_hash(fields)
