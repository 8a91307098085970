"""Settings: the environment contract, auth mode selection and whole-set validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.errors import ConfigurationError
from config.settings import AuthMode, load_settings, mask_url
from sync.cli import app

SF_VARS = (
    "SF_LOGIN_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_USERNAME", "SF_PRIVATE_KEY_FILE",
    "SF_PASSWORD", "SF_CA_BUNDLE", "SF_API_VERSION", "DATABASE_URL", "MAPSYNC_MAPPINGS",
    "LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SF_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_client_credentials_selected_when_only_secret_is_set(monkeypatch):
    monkeypatch.setenv("SF_LOGIN_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9")
    monkeypatch.setenv("SF_CLIENT_SECRET", "s3cret-value")
    s = load_settings()
    assert s.auth_mode is AuthMode.CLIENT_CREDENTIALS
    assert s.salesforce_problems() == []


def test_client_credentials_at_the_shared_login_host_is_a_problem(monkeypatch):
    monkeypatch.setenv("SF_LOGIN_URL", "https://login.salesforce.com")
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9")
    monkeypatch.setenv("SF_CLIENT_SECRET", "s3cret-value")
    [problem] = load_settings().salesforce_problems()
    assert "My Domain" in problem
    assert "https://login.salesforce.com" in problem


def test_jwt_selected_when_private_key_file_is_set(monkeypatch, tmp_path):
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    monkeypatch.setenv("SF_LOGIN_URL", "https://login.salesforce.com")
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9")
    monkeypatch.setenv("SF_USERNAME", "integration@example.com")
    monkeypatch.setenv("SF_PRIVATE_KEY_FILE", str(key))
    s = load_settings()
    assert s.auth_mode is AuthMode.JWT_BEARER
    assert s.salesforce_problems() == []


def test_every_problem_is_reported_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("SF_LOGIN_URL", "http://login.salesforce.com")
    monkeypatch.setenv("SF_PRIVATE_KEY_FILE", str(tmp_path / "missing.key"))
    monkeypatch.setenv("SF_CA_BUNDLE", str(tmp_path / "missing.pem"))
    s = load_settings()
    problems = s.salesforce_problems()
    assert "SF_LOGIN_URL must start with https:// (got 'http://login.salesforce.com')" in problems
    assert "SF_CLIENT_ID is not set: the connected app's consumer key" in problems
    assert f"SF_PRIVATE_KEY_FILE points to a missing file: {tmp_path / 'missing.key'}" in problems
    assert any(p.startswith("SF_PRIVATE_KEY_FILE is set but SF_USERNAME is not") for p in problems)
    assert f"SF_CA_BUNDLE points to a missing file: {tmp_path / 'missing.pem'}" in problems
    with pytest.raises(ConfigurationError) as err:
        s.require_salesforce()
    assert len(err.value.problems) == 5


def test_password_flow_needs_username_and_consumer_secret(monkeypatch):
    monkeypatch.setenv("SF_LOGIN_URL", "https://test.salesforce.com")
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9")
    monkeypatch.setenv("SF_PASSWORD", "pw")
    problems = load_settings().salesforce_problems()
    assert "SF_PASSWORD is set but SF_USERNAME is not" in problems
    assert any("SF_CLIENT_SECRET is not" in p for p in problems)


def test_bad_number_is_a_configuration_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SYNC_INTERVAL_SECONDS", "soon")
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert err.value.problems[0].startswith("SYNC_INTERVAL_SECONDS:")


def test_dot_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SF_CLIENT_ID=from-dot-env\n")
    assert load_settings().sf_client_id == "from-dot-env"


def test_database_password_is_masked():
    assert mask_url("postgresql://svc:hunter22@db:5432/mapsync") == (
        "postgresql://svc:***@db:5432/mapsync"
    )


def test_config_check_masks_secrets_and_exits_1_listing_problems(monkeypatch):
    monkeypatch.setenv("SF_CLIENT_SECRET", "very-secret-consumer-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://svc:hunter22@db/mapsync")
    result = CliRunner().invoke(app, ["config", "check"])
    out = result.output
    assert result.exit_code == 1
    assert "very-secret-consumer-secret" not in out
    assert "hunter22" not in out
    assert "********" in out
    assert "SF_LOGIN_URL is not set" in out


def test_config_check_exits_0_when_valid(monkeypatch):
    monkeypatch.setenv("SF_LOGIN_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9")
    monkeypatch.setenv("SF_CLIENT_SECRET", "x-secret")
    result = CliRunner().invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.output
