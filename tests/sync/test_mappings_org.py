"""``mappings check`` and ``mappings preview`` against the local org."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.emulator.server import Emulator
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


def test_check_passes_when_the_org_has_the_mappings_stages(env: World) -> None:
    result = CliRunner().invoke(app, ["mappings", "check"])
    assert result.exit_code == 0, result.output
    assert "matches the org's 10 Opportunity stages" in result.output


def test_check_names_stages_the_org_lacks(env: World, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from mappings.loader import default_mapping_path

    text = default_mapping_path().read_text().replace("Negotiation/Review", "Negotiation")
    custom = tmp_path / "custom.yaml"
    custom.write_text(text)
    monkeypatch.setenv("MAPSYNC_MAPPINGS", str(custom))
    result = CliRunner().invoke(app, ["mappings", "check"])
    assert result.exit_code == 1
    assert "stage 'Negotiation' is in the mapping but not in the org" in result.output
    assert "'Negotiation/Review' is not in the mapping" in result.output


def test_preview_shows_the_plan_and_writes_nothing(env: World) -> None:
    opp = env.opportunity(stage="Value Proposition", name="Preview me")
    calls = env.org.api_calls
    result = CliRunner().invoke(app, ["mappings", "preview", opp])
    assert result.exit_code == 0, result.output
    assert "Preview me" in result.output
    assert "mid_market" in result.output
    assert env.counts() == (0, 0)
    assert env.org.api_calls > calls


def test_preview_of_an_unknown_opportunity_is_one_clear_line(env: World) -> None:
    result = CliRunner().invoke(app, ["mappings", "preview", "006000000000000AAA"])
    assert result.exit_code == 1
    assert "no Opportunity with Id 006000000000000AAA" in result.output
    assert "Traceback" not in result.output
