"""Settings: the environment contract (README, Configuration), validated once at start-up.

Values come from the environment and from a ``.env`` file in the working directory. Loading
never fails on Salesforce settings alone, because commands such as ``mappings validate`` need
none; commands that talk to Salesforce call :meth:`Settings.require_salesforce`, which reports
every problem at once, in words an admin can act on.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import sys
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import ConfigurationError

# Salesforce's shared login hosts: they serve JWT bearer and password logins, but a client
# credentials token request must go to the org's own My Domain.
GENERIC_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})


class AuthMode(StrEnum):
    """How mapsync obtains a Salesforce session; chosen by which variables are set."""

    CLIENT_CREDENTIALS = "client_credentials"
    JWT_BEARER = "jwt_bearer"
    PASSWORD = "password"  # noqa: S105 - legacy flow name, not a secret


class Settings(BaseSettings):
    """Everything mapsync reads from the environment (see README, "Configuration")."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    sf_login_url: str | None = None
    sf_client_id: str | None = None
    sf_client_secret: SecretStr | None = None
    sf_username: str | None = None
    sf_private_key_file: Path | None = None
    sf_password: SecretStr | None = None
    sf_jwt_audience: str | None = None
    sf_ca_bundle: Path | None = None
    sf_api_version: str = "59.0"
    sf_connect_timeout: float = Field(default=10.0, gt=0)
    sf_read_timeout: float = Field(default=120.0, gt=0)
    sf_retry_attempts: int = Field(default=5, ge=1, le=20)
    sf_retry_max_wait: float = Field(default=30.0, gt=0)
    sf_bulk_threshold: int = Field(default=2000, ge=1)
    sf_bulk_poll_seconds: float = Field(default=0.25, gt=0)  # the first wait; doubles to 10 s
    api_budget_share: float = Field(default=0.8, gt=0, le=1)

    database_url: SecretStr = SecretStr("sqlite:///mapsync.db")
    mapsync_mappings: Path | None = None
    sync_interval_seconds: int = Field(default=120, ge=1)
    sync_lookback_seconds: int = Field(default=600, ge=0)
    # Opportunities planned, pushed and committed at a time: each chunk commits on its own,
    # so a smaller one keeps progress under repeated crashes and memory flat.
    sync_chunk_size: int = Field(default=5_000, ge=1, le=1_000_000)
    # Seller-side owners from the Opportunity Team: off for an org without Team Selling,
    # which has no OpportunityTeamMember to read (the Opportunity owner owns them then).
    sync_opportunity_teams: bool = True
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The worker's Prometheus endpoint: loopback unless stated (it has no authentication).
    mapsync_metrics_address: str = "127.0.0.1"
    mapsync_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # --- derived -------------------------------------------------------------------------

    @property
    def auth_mode(self) -> AuthMode | None:
        """The flow the set variables select; ``None`` when no flow is configured."""
        if self.sf_private_key_file is not None:
            return AuthMode.JWT_BEARER
        if self.sf_password is not None:
            return AuthMode.PASSWORD
        if self.sf_client_secret is not None:
            return AuthMode.CLIENT_CREDENTIALS
        return None

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        """JSON lines unless stated otherwise or writing to a terminal."""
        if self.log_format is not None:
            return self.log_format
        return "console" if sys.stderr.isatty() else "json"

    def secret_values(self) -> list[str]:
        """Every secret's plain value, for the log redactor (never printed)."""
        values = [s.get_secret_value() for s in (self.sf_client_secret, self.sf_password) if s]
        values.append(_url_password(self.database_url.get_secret_value()) or "")
        return [v for v in values if v]

    def database_url_masked(self) -> str:
        """``DATABASE_URL`` with any password replaced by ``***``."""
        return mask_url(self.database_url.get_secret_value())

    # --- validation ----------------------------------------------------------------------

    def salesforce_problems(self) -> list[str]:
        """Every reason the Salesforce settings cannot be used, as sentences an admin acts on."""
        problems: list[str] = []
        if not self.sf_login_url:
            problems.append(
                "SF_LOGIN_URL is not set: set it to https://login.salesforce.com, your My Domain "
                "URL, or the emulator's URL"
            )
        elif urlsplit(self.sf_login_url).scheme != "https":
            problems.append(f"SF_LOGIN_URL must start with https:// (got {self.sf_login_url!r})")
        if not self.sf_client_id:
            problems.append("SF_CLIENT_ID is not set: the connected app's consumer key")
        mode = self.auth_mode
        if mode is None:
            problems.append(
                "no Salesforce credentials: set SF_CLIENT_SECRET (client credentials), or "
                "SF_USERNAME + SF_PRIVATE_KEY_FILE (JWT bearer), or SF_USERNAME + SF_PASSWORD "
                "(password, legacy)"
            )
        elif mode is AuthMode.JWT_BEARER:
            if not self.sf_username:
                problems.append("SF_PRIVATE_KEY_FILE is set but SF_USERNAME is not: JWT bearer "
                                "needs the integration user's username")
            key = self.sf_private_key_file
            if key is not None and not key.is_file():
                problems.append(f"SF_PRIVATE_KEY_FILE points to a missing file: {key}")
        elif mode is AuthMode.PASSWORD:
            if not self.sf_username:
                problems.append("SF_PASSWORD is set but SF_USERNAME is not")
            if self.sf_client_secret is None:
                problems.append("SF_PASSWORD is set but SF_CLIENT_SECRET is not: the password "
                                "flow needs the connected app's consumer secret")
        if (mode is AuthMode.CLIENT_CREDENTIALS and self.sf_login_url
                and urlsplit(self.sf_login_url).hostname in GENERIC_LOGIN_HOSTS):
            problems.append(
                f"SF_LOGIN_URL is {self.sf_login_url} but the client credentials flow only "
                "works at the org's My Domain: set SF_LOGIN_URL to "
                "https://<your-domain>.my.salesforce.com")
        if self.sf_ca_bundle is not None:
            problems.extend(ca_bundle_problems(self.sf_ca_bundle))
        version = self.sf_api_version
        if not version.replace(".", "", 1).isdigit() or "." not in version:
            problems.append(f"SF_API_VERSION must look like 59.0 (got {version!r})")
        return problems

    def general_problems(self) -> list[str]:
        """Problems with settings every command uses."""
        problems = database_url_problems(self.database_url.get_secret_value())
        try:
            ipaddress.ip_address(self.mapsync_metrics_address)
        except ValueError:
            problems.append("MAPSYNC_METRICS_ADDRESS must be an IP address of this host, e.g. "
                            f"127.0.0.1 or 0.0.0.0 (got {self.mapsync_metrics_address!r})")
        if self.mapsync_mappings is not None and not self.mapsync_mappings.is_file():
            problems.append(f"MAPSYNC_MAPPINGS points to a missing file: {self.mapsync_mappings}")
        return problems

    def require_salesforce(self) -> Settings:
        """Return self, or raise one ConfigurationError listing every problem."""
        problems = self.general_problems() + self.salesforce_problems()
        if problems:
            raise ConfigurationError(
                "invalid configuration: " + "; ".join(problems), problems=problems
            )
        return self

    def describe(self) -> dict[str, str]:
        """The effective configuration with secrets masked, for ``mapsync config check``."""
        def show(v: object) -> str:
            if v is None:
                return "(not set)"
            if isinstance(v, SecretStr):
                return "********" if v.get_secret_value() else "(empty)"
            return str(v)

        out = {name.upper(): show(getattr(self, name)) for name in type(self).model_fields}
        out["DATABASE_URL"] = self.database_url_masked()
        out["auth mode"] = self.auth_mode.value if self.auth_mode else "(none)"
        return out


def database_url_problems(url: str) -> list[str]:
    """Why ``DATABASE_URL`` cannot be used, checked before any driver sees it (a driver's
    own errors are tracebacks, and may print the URL whole)."""
    shown = mask_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as err:  # e.g. an unclosed [ of an IPv6 address
        return [f"DATABASE_URL cannot be read as a URL: {err} (got {shown!r})"]
    scheme = parts.scheme.split("+")[0].lower()
    if scheme not in {"sqlite", "postgresql", "postgres"} or not url.partition("://")[1]:
        return [f"DATABASE_URL must be sqlite:///PATH or postgresql://... (got {shown!r})"]
    if scheme == "sqlite":
        return []
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        return [f"DATABASE_URL has a port that is not a number from 0 to 65535: {port!r} "
                f"(got {shown!r})"]
    if not parts.hostname:
        return [f"DATABASE_URL names no database server: postgresql://USER:PASSWORD@HOST:PORT/DB "
                f"(got {shown!r})"]
    return []


def ca_bundle_problems(path: Path) -> list[str]:
    """Why ``SF_CA_BUNDLE`` cannot be trusted: missing, or not PEM certificates."""
    if not path.is_file():
        return [f"SF_CA_BUNDLE points to a missing file: {path}"]
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or str(err)
        return [f"SF_CA_BUNDLE is not a PEM file of CA certificates: {path} "
                f"({str(reason).replace('_', ' ').lower()})"]
    return []


_PASSWORD = re.compile(r"^([^:/?#]*://[^:/?#@]*:)([^@]*)@")


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``; never raises, so a URL too
    broken to parse is still shown without its password."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return _PASSWORD.sub(r"\1***@", url, count=1)
    if not password:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        match = _PASSWORD.match(url)
        return match.group(2) if match else None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``; ``overrides`` win (tests, CLI flags)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as err:  # pydantic.ValidationError
        problems = _validation_problems(err)
        raise ConfigurationError(
            "invalid configuration: " + "; ".join(problems), problems=problems
        ) from None


def _validation_problems(err: ValueError) -> list[str]:
    errors = getattr(err, "errors", None)
    if not callable(errors):
        return [str(err)]
    out = []
    for e in errors():
        loc = ".".join(str(p) for p in e.get("loc", ())).upper() or "settings"
        out.append(f"{loc}: {e.get('msg', 'invalid value')}")
    return out
