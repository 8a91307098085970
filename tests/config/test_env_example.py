"""The repository's ``.env.example`` documents every variable the product reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def documented() -> dict[str, str]:
    """``NAME`` → the example value of every ``# NAME=value`` line."""
    out = {}
    for line in EXAMPLE.read_text().splitlines():
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def test_every_setting_appears_in_env_example() -> None:
    names = {name.upper() for name in Settings.model_fields}
    missing = sorted(names - set(documented()))
    assert not missing, f".env.example lacks {missing}"


def test_env_example_names_nothing_the_product_does_not_read() -> None:
    names = {name.upper() for name in Settings.model_fields}
    assert sorted(set(documented()) - names) == []


def test_the_defaults_shown_are_the_defaults(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in documented():
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    for name, shown in documented().items():
        field = Settings.model_fields[name.lower()]
        default = field.default
        if default is None or not shown:
            continue
        value = getattr(settings, name.lower())
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        assert str(plain) == shown, name
