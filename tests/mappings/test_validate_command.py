"""``mapsync mappings validate``: a one-line summary and exit 0, or every problem and exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import sync.cli.commands  # noqa: F401  (registers the command groups)
from mappings.loader import default_mapping_path
from sync.cli.app import app
from tests.mappings.sample import milestone, sample

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_mapping_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MAPSYNC_MAPPINGS", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_valid_file_prints_a_one_line_summary_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.yaml", sample())
    result = runner.invoke(app, ["mappings", "validate", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"{path}: OK, version 1, 2 templates (enterprise 5 milestones, mid_market 2 "
        "milestones), 0 warnings\n"
    )
    assert result.stderr == ""


def test_without_a_file_the_shipped_default_is_validated() -> None:
    result = runner.invoke(app, ["mappings", "validate"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{default_mapping_path()}: OK, version 1, 2 templates "
                                    "(enterprise 12 milestones, mid_market 8 milestones)")


def test_mapsync_mappings_environment_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "from-env.yaml", sample())
    monkeypatch.setenv("MAPSYNC_MAPPINGS", str(path))
    result = runner.invoke(app, ["mappings", "validate"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK")


def test_every_problem_is_listed_on_stderr_one_per_line_with_exit_1(tmp_path: Path) -> None:
    data = sample()
    milestone(data, 0, 1)["side"] = "Buyr"
    milestone(data, 0, 1)["depends_on"] = ["procurement"]
    milestone(data, 0, 2)["depends_on"] = ["legal"]
    data["default_template"] = "smb"
    path = write(tmp_path / "broken.yaml", data)
    result = runner.invoke(app, ["mappings", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"mapsync: {path}: 3 problems",
        f"{path}:13:3: templates[0] (enterprise): dependency cycle legal -> procurement -> legal",
        f"{path}:26:5: templates[0].milestones[1].side: must be one of buyer, seller, joint",
        f"{path}:72:1: default_template: no template named 'smb'",
    ]
    text = path.read_text().splitlines()  # each line:column is where the wrong value is set
    assert text[12][2:].startswith("name: enterprise")
    assert text[25][4:].startswith("side: Buyr")
    assert text[71].startswith("default_template: smb")


def test_warnings_go_to_stderr_and_do_not_fail_validation(tmp_path: Path) -> None:
    data = sample()
    data["templates"][1]["milestones"] += [
        {"key": f"step_{n}", "name": f"Step {n}", "side": "seller", "role": "AE"}
        for n in range(29)
    ]
    path = write(tmp_path / "long.yaml", data)
    result = runner.invoke(app, ["mappings", "validate", str(path)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}:56:3: warning: templates[1] (mid_market): 31 milestones; plans longer than "
        "30 steps stop helping (aim for 5-12)\n"
    )
    assert result.stdout.endswith("1 warning\n")


def test_yaml_syntax_errors_exit_1_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("version: 1\ntemplates:\n  - name: x\n   milestones: []\n")
    result = runner.invoke(app, ["mappings", "validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[1].startswith(f"{path}:4:4: YAML syntax error: ")


def test_a_missing_file_exits_1_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mappings", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mapsync: {tmp_path / 'nope.yaml'}: 1 problem",
        f"cannot read {tmp_path / 'nope.yaml'}: no such file",
    ]


def test_the_installed_command_finds_the_default_mapping_from_any_directory(
    tmp_path: Path,
) -> None:
    command = Path(sys.executable).parent / "mapsync"
    if not command.exists():
        pytest.skip("the mapsync console script is not installed in this environment")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(command), "mappings", "validate"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{default_mapping_path()}: OK")
