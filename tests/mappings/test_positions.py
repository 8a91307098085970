"""Findings are listed in the order of the file, whichever pass found them."""

from __future__ import annotations

import yaml

from mappings.positions import in_file_order, node_positions, parse_location

TEXT = """\
version: 1
templates:
  - name: a
    milestones:
      - {key: x, side: buyr}
      - key: y
        stage: Nope
calendar:
  holidays_country: XX
"""


def test_locations_are_parsed_into_paths() -> None:
    assert parse_location("templates[1].milestones[3].side") == (
        "templates", 1, "milestones", 3, "side")
    assert parse_location("version") == ("version",)


def test_messages_are_sorted_by_the_line_and_column_they_point_at() -> None:
    positions = node_positions(yaml.compose(TEXT))
    messages = [
        "calendar.holidays_country: unknown country",
        "templates[0].milestones[1].stage: unknown stage",
        "unexplained: somewhere else",
        "templates[0].milestones[0].side: must be one of buyer, seller, joint",
        "templates[0] (a): dependency cycle x -> y -> x",
        "line 2, column 1: 'templates' is written twice",
        "(file): the file is empty",
        "templates[0].milestones[0].key: duplicate key",
        "templates[0].milestones[0].depends_on: unknown milestone",  # absent: its milestone
    ]
    assert in_file_order(messages, positions) == [
        "(file): the file is empty",
        "line 2, column 1: 'templates' is written twice",
        "templates[0] (a): dependency cycle x -> y -> x",
        "templates[0].milestones[0].depends_on: unknown milestone",
        "templates[0].milestones[0].key: duplicate key",
        "templates[0].milestones[0].side: must be one of buyer, seller, joint",
        "templates[0].milestones[1].stage: unknown stage",
        "calendar.holidays_country: unknown country",
        "unexplained: somewhere else",
    ]
