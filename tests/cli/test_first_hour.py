"""What a newcomer, a RevOps analyst and an admin see in their first hour: quiet commands,
the version, and mapping files named on the command line."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.cli.commands  # noqa: F401  (registers the command groups)
from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path
from sync.cli.app import app
from tests.sync.world import World


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"mapsync {version('mapsync')}\n"


def test_commands_are_quiet_by_default_and_verbose_shows_the_chatter(
        org_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    quiet = CliRunner().invoke(app, ["mappings", "check"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""  # no Alembic migration lines, no login line
    loud = CliRunner().invoke(app, ["-v", "mappings", "check"])
    assert loud.exit_code == 0, loud.output
    assert "alembic" in loud.stderr
    assert "salesforce.auth.ok" in loud.stderr


def _renamed_mapping(tmp_path: Path) -> Path:
    custom = tmp_path / "growth.yaml"
    custom.write_text(default_mapping_path().read_text().replace("mid_market", "growth"))
    return custom


def test_preview_uses_the_mapping_named_by_mapping_option(org_env: Emulator,
                                                          tmp_path: Path) -> None:
    world = World(org_env, tmp_path)
    opp = world.opportunity(stage="Value Proposition")
    shipped = CliRunner().invoke(app, ["mappings", "preview", opp])
    assert shipped.exit_code == 0, shipped.output
    assert "mid_market" in shipped.stdout
    custom = CliRunner().invoke(app, ["mappings", "preview", opp,
                                      "--mapping", str(_renamed_mapping(tmp_path))])
    assert custom.exit_code == 0, custom.output
    assert "growth" in custom.stdout
    assert "mid_market" not in custom.stdout


def test_check_uses_the_mapping_named_by_mapping_option(org_env: Emulator,
                                                        tmp_path: Path) -> None:
    broken = tmp_path / "stages.yaml"
    broken.write_text(default_mapping_path().read_text().replace("Negotiation/Review",
                                                                 "Negotiation"))
    result = CliRunner().invoke(app, ["mappings", "check", "--mapping", str(broken)])
    assert result.exit_code == 1
    assert "stage 'Negotiation' is in the mapping but not in the org" in result.stderr


def test_a_missing_mapping_option_file_is_one_line(org_env: Emulator, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mappings", "check", "--mapping",
                                      str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"mapsync: --mapping {tmp_path / 'nope.yaml'}: no such file\n"
