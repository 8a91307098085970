"""Arguments checked before anything is asked of Salesforce: one clear line when they are wrong.

A malformed Id sent to Salesforce comes back as a SOQL error quoting the whole query; checking
its shape first says what is wrong in the admin's words and costs no API call.
"""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import Settings, load_settings
from sync.cli.app import fail

_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
OPPORTUNITY_PREFIX = "006"


def _checksum(id15: str) -> str:
    """The 3-character suffix of an 18-character Id: which of the first 15 are upper case."""
    out = []
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5])
                   if "A" <= ch <= "Z")
        out.append(_CHECKSUM_CHARS[bits])
    return "".join(out)


def opportunity_id(value: str) -> str:
    """The 18-character form of ``value`` if it is an Opportunity's Id, else exit 2."""
    if not _ID_SHAPE.match(value):
        raise fail(f"{value!r} is not a Salesforce Id: an Id is 15 or 18 letters and digits "
                   "(an Opportunity's starts with 006)", code=2)
    if not value.startswith(OPPORTUNITY_PREFIX):
        raise fail(f"{value} is not an Opportunity's Id: Opportunity Ids start with "
                   f"{OPPORTUNITY_PREFIX}", code=2)
    if len(value) == 18 and _checksum(value[:15]).upper() != value[15:].upper():
        raise fail(f"{value} is not a valid 18-character Id: its last three characters do "
                   "not match the first fifteen (copied with a typo?)", code=2)
    return value[:15] + _checksum(value[:15])


def settings_with_mapping(mapping: Path | None) -> Settings:
    """The settings, with ``--mapping FILE`` (when given) in place of ``MAPSYNC_MAPPINGS``."""
    if mapping is None:
        return load_settings()
    if not mapping.is_file():
        raise fail(f"--mapping {mapping}: no such file", code=2)
    return load_settings(mapsync_mappings=mapping)
