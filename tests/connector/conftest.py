"""Fixtures of the connector's narrow HTTP tests: settings for a fake org, a client whose
sleeps are recorded instead of slept, and a strict ``responses`` mock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from config.settings import Settings
from connectors.salesforce import SalesforceClient

LOGIN = "https://login.example.test"
INSTANCE = "https://org.example.test"
API = f"{INSTANCE}/services/data/v59.0"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ORG_ID = "00D5g000000AbCdEAK"
USER_ID = "0055g000000XyZwAAC"
CLIENT_SECRET = "8C1F5E0B7A2D4C6E9F1A3B5C7D9E1F3A5B7C9D1E3F5A7B9C"
ACCESS_TOKEN = "00D5g000000AbCd!AQ4AQMfKzT7vQe1c2m3n4o5p6q7r8s9t0uVwXyZ"


def token_payload(access_token: str = ACCESS_TOKEN) -> dict[str, str]:
    return {"access_token": access_token, "instance_url": INSTANCE,
            "id": f"{LOGIN}/id/{ORG_ID}/{USER_ID}", "token_type": "Bearer",
            "issued_at": "1763770000000", "signature": "c2lnbmF0dXJl"}


@pytest.fixture(autouse=True)
def _no_salesforce_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test alone, never from the machine's environment."""
    import os

    for name in list(os.environ):
        if name.startswith("SF_") or name == "API_BUDGET_SHARE":
            monkeypatch.delenv(name)


@pytest.fixture
def rsa_key_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "server.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sf_login_url": LOGIN, "sf_client_id": "3MVG9testclientid",
        "sf_client_secret": SecretStr(CLIENT_SECRET), "sf_api_version": "59.0",
        "sf_retry_attempts": 4, "sf_retry_max_wait": 8.0, "sf_bulk_poll_seconds": 0.5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Sleeps(list[float]):
    """Every sleep the client asked for, in seconds; nothing is slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sf() -> Iterator[responses.RequestsMock]:
    """A responses mock that fails the test if a registered call was not made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def make_client(sleeps: Sleeps) -> Callable[..., SalesforceClient]:
    def build(**overrides: Any) -> SalesforceClient:
        return SalesforceClient(make_settings(**overrides), sleep=sleeps,
                                clock=lambda: 1_763_770_000.0)
    return build


@pytest.fixture
def client(make_client: Callable[..., SalesforceClient]) -> SalesforceClient:
    return make_client()


def add_token(mock: responses.RequestsMock, access_token: str = ACCESS_TOKEN) -> None:
    mock.add(responses.POST, TOKEN_URL, json=token_payload(access_token))


def limit_info(used: int, limit: int = 15000) -> dict[str, str]:
    return {"Sforce-Limit-Info": f"api-usage={used}/{limit}"}
