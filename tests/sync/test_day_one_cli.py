"""Skip reasons where an admin reads them: ``mappings preview`` and ``status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path
from sync.cli import app
from tests.sync.world import World


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("MAPSYNC_MAPPINGS", raising=False)
    return World(emulator, tmp_path)


def test_preview_explains_a_deal_lost_before_it_had_a_plan(env: World) -> None:
    opp = env.opportunity(stage="Closed Lost", name="Lost early")
    result = CliRunner().invoke(app, ["mappings", "preview", opp])
    assert result.exit_code == 0, result.output
    assert "no plan for Lost early (Closed Lost): closed lost before a plan existed" in (
        " ".join(result.output.split()))
    assert "before plan stage" not in result.output


def test_preview_explains_a_stage_the_mapping_lacks(
        env: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text(default_mapping_path().read_text().replace("Negotiation/Review",
                                                                  "Negotiation"))
    monkeypatch.setenv("MAPSYNC_MAPPINGS", str(custom))
    opp = env.opportunity(stage="Negotiation/Review", name="Odd stage")
    result = CliRunner().invoke(app, ["mappings", "preview", opp])
    assert result.exit_code == 0, result.output
    assert "stage not in the mapping" in result.output


def test_preview_shows_a_won_deal_on_track_at_its_close(env: World) -> None:
    opp = env.opportunity(stage="Closed Won", close_in_days=-30, name="Won last month")
    result = CliRunner().invoke(app, ["mappings", "preview", opp])
    assert result.exit_code == 0, result.output
    assert "On Track" in result.output
    assert "Off Track" not in result.output


def test_status_names_why_opportunities_were_skipped(
        env: World, monkeypatch: pytest.MonkeyPatch) -> None:
    env.opportunity(stage="Closed Lost", name="Lost early")
    env.opportunity(stage="Prospecting", name="Too early")
    assert CliRunner().invoke(app, ["sync", "--once"]).exit_code == 0
    result = CliRunner().invoke(app, ["status", "--json"])
    runs = json.loads(result.stdout)["runs"]
    assert runs[0]["counts"]["skipped"] == {"closed lost before a plan existed": 1,
                                            "before plan stage": 1}
    monkeypatch.setenv("COLUMNS", "250")  # one table row a line
    table = CliRunner().invoke(app, ["status"])
    assert "closed lost before a plan existed 1" in " ".join(table.output.split())
