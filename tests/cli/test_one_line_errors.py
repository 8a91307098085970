"""Mistakes a newcomer makes in the first hour end in one line on stderr, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.cli.commands  # noqa: F401  (registers the command groups)
from connectors.emulator.server import Emulator
from sync.cli.app import app

MAPSYNC = str(Path(sys.executable).with_name("mapsync"))


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("bad", ["banana", "006000000000000AA", "006'OR'1'='1'--xyz",
                                 "001000000000000AAA", "006000000000000AAB"])
def test_preview_of_a_malformed_id_is_one_line_and_asks_salesforce_nothing(
        org_env: Emulator, bad: str) -> None:
    calls = org_env.api_calls
    result = CliRunner().invoke(app, ["mappings", "preview", bad])
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("mapsync: ")
    assert "SELECT" not in result.output
    assert org_env.api_calls == calls


def test_preview_takes_the_15_character_form_of_an_id(org_env: Emulator) -> None:
    result = CliRunner().invoke(app, ["mappings", "preview", "006000000000000"])
    assert result.exit_code == 1
    assert one_line(result.stderr) == "mapsync: no Opportunity with Id 006000000000000"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("url", "reason"), [
    ("https://mapsync-no-such-host.invalid", "the name does not resolve"),
    (None, "connection refused"),
])
def test_an_unreachable_login_host_fails_at_once_with_one_line(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch, url: str | None, reason: str) -> None:
    url = url or f"https://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("SF_LOGIN_URL", url)
    monkeypatch.setenv("SF_CLIENT_ID", "client")
    monkeypatch.setenv("SF_CLIENT_SECRET", "secret-value")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sync", "--once"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    host = url.removeprefix("https://")
    assert one_line(result.stderr).startswith(f"mapsync: cannot reach {host}: {reason}")
    assert elapsed < 3, f"took {elapsed:.1f} s: the login was retried"


def test_emulator_on_a_taken_port_is_one_line(clean_env: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["emulator", "--state-dir", str(clean_env / "org"),
                                          "--port", str(port), "--seed", "empty"])
    assert result.exit_code == 1
    assert one_line(result.stderr) == (
        f"mapsync: cannot listen on 127.0.0.1:{port}: another process is listening there; "
        "choose another --port (0: any free port)")


@pytest.mark.parametrize("command", ["emulator", "demo"])
def test_a_state_dir_that_cannot_be_created_is_one_line(clean_env: Path, command: str) -> None:
    blocker = clean_env / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, [command, "--state-dir", str(blocker / "org")])
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("mapsync: cannot create the state directory ")


def test_a_second_emulator_on_a_held_state_dir_is_refused_and_changes_nothing(
        clean_env: Path) -> None:
    state = clean_env / "org"
    first = subprocess.Popen([MAPSYNC, "emulator", "--state-dir", str(state), "--seed", "empty"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env_file = state / "emulator.env"
        deadline = time.monotonic() + 60
        while not env_file.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None
        files = {p.name: p.read_bytes() for p in state.iterdir() if p.suffix in {".env", ".pem"}}
        result = CliRunner().invoke(app, ["emulator", "--state-dir", str(state),
                                          "--seed", "empty"])
        assert result.exit_code == 1
        assert one_line(result.stderr) == (
            f"mapsync: {state} is in use by another local org (pid {first.pid}); stop it "
            "first or choose another --state-dir")
        assert files == {p.name: p.read_bytes() for p in state.iterdir()
                         if p.suffix in {".env", ".pem"}}
    finally:
        first.terminate()
        first.wait(timeout=30)
    # once the first org has stopped, the directory is free again
    again = Emulator(state, seed="empty")
    again.stop()


@pytest.mark.parametrize(("option", "message"), [
    (["--profile", "fast"], "--profile must be flat or realistic (got 'fast')"),
    (["--profile", "realistic", "--time-scale", "0"], "--time-scale must be above 0 (got 0.0)"),
])
def test_an_unknown_emulator_profile_is_one_line(clean_env: Path, option: list[str],
                                                  message: str) -> None:
    result = CliRunner().invoke(app, ["emulator", "--state-dir", str(clean_env / "org"),
                                      *option])
    assert result.exit_code == 2
    assert one_line(result.stderr) == f"mapsync: {message}"
    assert not (clean_env / "org").exists()
