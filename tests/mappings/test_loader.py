"""Reading the file itself: YAML syntax, versions, unreadable files, and the raising API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.errors import ConfigurationError, MappingError
from mappings.loader import (
    default_mapping_path,
    load_mapping,
    load_mapping_report,
    load_mapping_text,
    load_mapping_text_report,
    resolve_mapping_path,
)
from tests.mappings.sample import sample


def sample_text() -> str:
    return yaml.safe_dump(sample(), sort_keys=False)


def test_yaml_syntax_error_names_line_and_column() -> None:
    text = "version: 1\nstages: [Prospecting, Qualification\ncreate_at: Qualification\n"
    report = load_mapping_text_report(text)
    assert report.mapping is None
    assert report.errors == [
        "line 3, column 10: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence)"
    ]


def test_a_tab_in_the_indentation_gets_a_hint() -> None:
    report = load_mapping_text_report("version: 1\nstages:\n\t- Prospecting\n")
    assert report.errors == [
        "line 3, column 1: YAML syntax error: found character '\\t' that cannot start any "
        "token (while scanning for the next token) (indent with spaces, not tabs)"
    ]


def test_a_setting_written_twice_is_an_error_not_a_silent_override() -> None:
    text = sample_text().replace("default_template: mid_market\n",
                                 "default_template: mid_market\ndefault_template: enterprise\n")
    report = load_mapping_text_report(text)
    line = text.splitlines().index("default_template: enterprise") + 1
    assert report.errors == [
        f"line {line}, column 1: 'default_template' is written twice in the same block; keep one"
    ]
    assert report.mapping is None


def test_an_empty_file_says_what_it_should_contain() -> None:
    for text in ("", "   \n# only a comment\n", "~\n"):
        assert load_mapping_text_report(text).errors == [
            "(file): the file is empty; it starts with version:, stages:, create_at:, ... "
            "and templates:"
        ]


def test_a_file_that_is_a_list_is_refused() -> None:
    assert load_mapping_text_report("- a\n- b\n").errors == [
        "(file): the file is a list, not a mapping; it starts with version:, stages:, "
        "create_at:, ... and templates:"
    ]


def test_an_unsupported_version_is_the_only_problem_reported() -> None:
    text = sample_text().replace("version: 1", "version: 2") + "colour: blue\n"
    assert load_mapping_text_report(text).errors == [
        "version: unsupported version 2 (this mapsync reads version 1)"
    ]


def test_a_version_written_as_a_decimal_is_still_checked() -> None:
    text = sample_text().replace("version: 1", "version: 2.0")
    assert load_mapping_text_report(text).errors == [
        "version: unsupported version 2 (this mapsync reads version 1)"
    ]
    assert load_mapping_text(sample_text().replace("version: 1", "version: 1.0")).version == 1


def test_a_version_that_is_not_a_number_is_a_schema_error() -> None:
    text = sample_text().replace("version: 1", "version: one")
    assert load_mapping_text_report(text).errors == ["version: must be a whole number (got 'one')"]


def test_dates_are_read_from_unquoted_yaml() -> None:
    text = sample_text().replace("- '2026-12-24'", "- 2026-12-24")
    assert "- 2026-12-24\n" in text
    mapping = load_mapping_text(text)
    assert [d.isoformat() for d in mapping.calendar.holidays] == ["2026-12-24"]


def test_an_impossible_unquoted_date_is_a_located_error_not_a_crash() -> None:
    text = sample_text().replace("- '2026-12-24'", "- 2026-02-30")
    assert load_mapping_text_report(text).errors == [
        "calendar.holidays[0]: '2026-02-30' is not a valid date (day is out of range for month)"
    ]


def test_holiday_country_is_read_in_any_case() -> None:
    text = sample_text().replace("holidays_country: US", "holidays_country: us")
    assert load_mapping_text(text).calendar.holidays_country == "US"


def test_load_mapping_raises_one_mapping_error_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(sample_text().replace("create_at: Qualification", "create_at: Qualified")
                    .replace("default_template: mid_market", "default_template: smb"))
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert isinstance(caught.value, ConfigurationError)
    assert caught.value.problems == [
        "create_at: 'Qualified' is not one of stages (did you mean 'Qualification'?)",
        "default_template: no template named 'smb'",
    ]
    assert str(caught.value).startswith(f"invalid stage mapping {path}: create_at: ")


def test_load_mapping_text_returns_the_typed_mapping() -> None:
    mapping = load_mapping_text(sample_text())
    assert mapping.template("enterprise") is not None
    assert mapping.stage_index("closed won") == 4


def test_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert load_mapping_report(missing).errors == [f"cannot read {missing}: no such file"]
    assert load_mapping_report(tmp_path).errors == [f"cannot read {tmp_path}: it is a directory"]


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("stages: [Négociation]\n".encode("latin-1"))
    assert load_mapping_report(path).errors == [f"cannot read {path}: not UTF-8 text"]


def test_the_mapping_path_is_the_argument_then_the_environment_then_the_default() -> None:
    explicit, env = Path("/etc/explicit.yaml"), Path("/etc/env.yaml")
    assert resolve_mapping_path(explicit, env) == explicit
    assert resolve_mapping_path(None, env) == env
    assert resolve_mapping_path(None, None) == default_mapping_path()
    assert resolve_mapping_path(None, Path("")) == default_mapping_path()


def test_the_default_mapping_is_package_data_next_to_the_loader() -> None:
    path = default_mapping_path()
    assert path.is_absolute()
    assert path.is_file()
    assert path.name == "default.yaml"


def test_tasks_default_to_seller_and_joint_milestones_with_a_reminder_the_day_before() -> None:
    mapping = load_mapping_text(sample_text())
    spec = mapping.tasks_for("enterprise")
    assert (spec.covers("Seller"), spec.covers("Joint"), spec.covers("Buyer")) == (
        True, True, False)
    assert spec.reminder_days_before == 1


def test_a_templates_own_tasks_setting_outweighs_the_files() -> None:
    data = sample()
    data["tasks"] = {"sides": ["seller"], "reminder_days_before": 2}
    data["templates"][1]["tasks"] = {"sides": ["buyer", "JOINT"], "reminder_days_before": None}
    mapping = load_mapping_text(yaml.safe_dump(data))
    assert [s.value for s in mapping.tasks_for("enterprise").sides] == ["Seller"]
    assert mapping.tasks_for("enterprise").reminder_days_before == 2
    own = mapping.tasks_for("mid_market")
    assert ([s.value for s in own.sides], own.reminder_days_before) == (["Buyer", "Joint"], None)
    data["tasks"] = {"sides": []}  # off
    assert load_mapping_text(yaml.safe_dump(data)).tasks_for("enterprise").sides == []
