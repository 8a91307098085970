"""Settings that cannot work are problems listed at once, and one line from every command.

A CA bundle that is not PEM, a ``DATABASE_URL`` whose port is not a number or that is not a
URL at all: ``config check`` lists them with every other problem and exits 1; any other command
says it in one line on stderr instead of a driver's traceback, without the URL's password.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.cli.commands  # noqa: F401  (registers the command groups)
from config.settings import load_settings, mask_url
from sync.cli.app import app

GOOD_SALESFORCE = {"SF_LOGIN_URL": "https://127.0.0.1:9", "SF_CLIENT_ID": "3MVG9",
                   "SF_CLIENT_SECRET": "x-secret", "LOG_FORMAT": "json"}
BAD_PORT = "postgresql://svc:hunter22@db.internal:abc/mapsync"
NOT_A_URL = "postgresql://svc:hunter22@[::1/mapsync"
PORT_PROBLEM = ("DATABASE_URL has a port that is not a number from 0 to 65535: 'abc' "
                "(got 'postgresql://svc:***@db.internal:abc/mapsync')")
URL_PROBLEM = ("DATABASE_URL cannot be read as a URL: Invalid IPv6 URL "
               "(got 'postgresql://svc:***@[::1/mapsync')")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("SF_", "MAPSYNC_", "DATABASE_URL", "SYNC_", "LOG_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
def not_pem(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("this is the CA, honest\n")
    return path


def test_config_check_lists_a_non_pem_bundle_and_a_bad_port_with_the_other_problems(
    not_pem: Path,
) -> None:
    result = CliRunner().invoke(app, ["config", "check"], env={
        "SF_CLIENT_ID": "3MVG9", "SF_CLIENT_SECRET": "x-secret", "SF_CA_BUNDLE": str(not_pem),
        "DATABASE_URL": BAD_PORT,
    })
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "mapsync: configuration has 3 problem(s)",
        f"  - {PORT_PROBLEM}",
        "  - SF_LOGIN_URL is not set: set it to https://login.salesforce.com, your My Domain "
        "URL, or the emulator's URL",
        f"  - SF_CA_BUNDLE is not a PEM file of CA certificates: {not_pem} (no certificate or "
        "crl found)",
    ]
    assert "hunter22" not in result.output


def test_config_check_lists_a_database_url_that_is_not_a_url() -> None:
    result = CliRunner().invoke(app, ["config", "check"],
                                env={**GOOD_SALESFORCE, "DATABASE_URL": NOT_A_URL})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["mapsync: configuration has 1 problem(s)",
                                          f"  - {URL_PROBLEM}"]
    assert "hunter22" not in result.output
    assert "postgresql://svc:***@[::1/mapsync" in result.stdout  # the table shows it masked


COMMANDS = [["status", "--no-api"], ["sync", "--once"], ["deadletters", "list"],
            ["db", "upgrade"], ["db", "current"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("database_url", "problem"), [(BAD_PORT, PORT_PROBLEM),
                                                       (NOT_A_URL, URL_PROBLEM)],
                         ids=["bad port", "not a url"])
def test_a_bad_database_url_is_one_line_from_every_command(
    command: list[str], database_url: str, problem: str
) -> None:
    result = CliRunner().invoke(app, command,
                                env={**GOOD_SALESFORCE, "DATABASE_URL": database_url})
    assert result.stderr.splitlines() == [f"mapsync: invalid configuration: {problem}"]
    assert result.exit_code == 1


# ``status --no-api`` reads the store only and never reaches Salesforce: no CA bundle in play.
@pytest.mark.parametrize("command", COMMANDS[1:3], ids=" ".join)
def test_a_non_pem_ca_bundle_is_one_line_from_every_command_that_reaches_salesforce(
    command: list[str], not_pem: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, command, env={
        **GOOD_SALESFORCE, "SF_CA_BUNDLE": str(not_pem),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mapsync.db'}"})
    assert result.stderr.splitlines() == [
        f"mapsync: invalid configuration: SF_CA_BUNDLE is not a PEM file of CA certificates: "
        f"{not_pem} (no certificate or crl found)"
    ]
    assert result.exit_code == 1


def test_a_real_ca_certificate_is_accepted(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    settings = load_settings(**{k.lower(): v for k, v in GOOD_SALESFORCE.items()},
                             sf_ca_bundle=tmp_path / "ca.pem")
    assert settings.salesforce_problems() == []


def test_a_url_too_broken_to_parse_is_still_masked_and_its_password_redacted() -> None:
    assert mask_url(NOT_A_URL) == "postgresql://svc:***@[::1/mapsync"
    assert "hunter22" in load_settings(database_url=NOT_A_URL).secret_values()
