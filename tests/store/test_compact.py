"""The shadow's compact forms give back exactly what went in: Ids and external ids, every
value in its canonical form, and digests equal to the values they stand for only."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sync.store import compact
from sync.store.canonical import canonical_fields, canonical_json
from sync.store.compact import Digest, decode_values, encode, pack_key, unpack_key

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _checksummed(id15: str) -> str:
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start:start + 5]) if c.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def test_ids_pack_into_13_bytes_and_come_back_with_their_checksum() -> None:
    rng = random.Random(3)
    ids = [_checksummed("".join(rng.choice(ALPHABET) for _ in range(15))) for _ in range(500)]
    for record_id in ids:
        assert len(pack_key(record_id)) == 13
        assert unpack_key(pack_key(record_id)) == record_id
        assert unpack_key(pack_key(f"{record_id}:kickoff")) == f"{record_id}:kickoff"
    # packed Ids sort as the Ids do (a whole object streams in Id order)
    assert sorted(ids, key=pack_key) == sorted(ids)


@pytest.mark.parametrize("text", [
    "006000000000001AAB",  # wrong checksum: kept as it is, never "corrected"
    "006000000000001",  # a 15-character Id
    "not-an-id:kickoff", "", "ünïcode ✓", "006000000000001AA",
])
def test_anything_else_is_kept_as_text(text: str) -> None:
    assert unpack_key(pack_key(text)) == text


def test_values_come_back_in_the_canonical_form_the_store_always_gave() -> None:
    fields = {
        "none": None, "yes": True, "no": False, "small": -7, "big": 10**12, "float": 3.0,
        "half": 12.5, "exact": Decimal("1.10"), "day": date(2026, 4, 1), "iso": "2026-04-01",
        "not_a_day": "2026-13-01", "stamp": datetime(2026, 3, 2, 9, tzinfo=UTC),
        "text": "Kickoff ✓", "long": "x" * 300, "empty": "", "list": [1, "a"],
        "map": {"b": 1, "a": 2}, "huge_float": 70000.0,
    }
    names, data = encode(fields)
    assert decode_values(names, data) == canonical_fields(fields)


def test_a_date_costs_four_bytes_and_a_digest_nine() -> None:
    _, lead = encode({})
    _, day = encode({"d": "2026-04-01"})
    _, digest = encode({"d": Digest.of("a long name " * 20)})
    assert (len(day) - len(lead), len(digest) - len(lead)) == (4, 9)


def test_a_digest_equals_its_value_and_nothing_else() -> None:
    name = Digest.of("Kickoff")
    assert name == "Kickoff"
    assert "Kickoff" == name  # noqa: SIM300  (the planner compares in this order)
    assert name != "Kick-off"
    assert name != None  # noqa: E711  (a cleared field is a change)
    assert name != object()
    assert Digest.of(date(2026, 4, 1)) == "2026-04-01"  # as dates are written
    with pytest.raises(ValueError, match="8 bytes"):
        Digest(b"short")


def test_text_encodes_the_same_whether_its_bytes_were_remembered_or_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {"day": "2026-04-01", "status": "Not Started", "long": "y" * 40, "empty": ""}
    first = encode(fields)
    assert encode(fields) == first  # the short texts' bytes now remembered
    monkeypatch.setattr(compact, "_SHORT_TEXT", {})
    monkeypatch.setattr(compact, "_SHORT_KEPT", 0)  # none remembered
    assert encode(fields) == first
    assert decode_values(*first) == fields


def test_a_text_digest_is_the_digest_of_its_canonical_json() -> None:
    for text in ("Kickoff", 'a "quote", a \\ and ✓\n', ""):
        expected = hashlib.blake2b(canonical_json(text).encode("utf-8"), digest_size=8).digest()
        assert Digest.of(text).value == expected
