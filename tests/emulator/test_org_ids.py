"""Record Ids are shaped as Salesforce's: key prefix, 15 characters, case-safe suffix."""

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
