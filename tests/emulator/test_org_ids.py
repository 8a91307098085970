"""Record Ids are shaped as Salesforce's: key prefix, 15 characters, case-safe suffix."""

import pytest

from connectors.emulator import ids


def test_checksum_matches_salesforces_published_example():
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"


def test_checksum_encodes_upper_case_positions_of_each_five_character_chunk():
    # chunk 1 "001Ab": bit 3 -> I; chunk 2 "00000": A; chunk 3 "CDEfg": bits 0-2 -> H
    assert ids.checksum("001Ab00000CDEfg") == "IAH"


def test_minted_ids_carry_the_objects_key_prefix_and_sort_in_minting_order():
    minted = [ids.make_id("006", n) for n in (1, 9, 10, 61, 62, 3843, 3844)]
    assert all(i.startswith("006") and len(i) == 18 for i in minted)
    assert minted == sorted(minted)
    assert [ids.serial_of(i) for i in minted] == [1, 9, 10, 61, 62, 3843, 3844]


def test_normalize_turns_15_into_18_and_rejects_what_is_not_an_id():
    assert ids.normalize("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert ids.normalize("001D000000IqhSLAAA") == "001D000000IqhSLIAZ"
    assert ids.normalize("001D000000IqhS") is None
    assert ids.normalize("001D000000Iqh-L") is None


def test_minted_ids_round_trip_their_serial_and_carry_a_valid_checksum():
    serials = [0, 1, 61, 62, 3843, 3844, 62 ** 4 - 1, 62 ** 4, 62 ** 4 + 1, 123_456_789,
               62 ** 10 - 1, *range(14_770_000, 14_780_000, 7)]
    for prefix in ("017", "a01", "006"):
        for serial in serials:
            minted = ids.make_id(prefix, serial)
            assert minted[:3] == prefix
            assert ids.serial_of(minted) == serial
            assert minted == ids.to18(minted[:15])
    previous = ""
    for serial in range(62 ** 4 - 50, 62 ** 4 + 50):
        minted = ids.make_id("017", serial)
        assert minted > previous
        previous = minted


def test_a_serial_beyond_ten_base_62_digits_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        ids.make_id("017", 62 ** 10)
