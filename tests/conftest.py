"""Shared pytest set-up: fixture plugins each part of the suite provides."""

pytest_plugins: list[str] = [
    "tests.fixtures.postgres",
    "connectors.emulator.pytest_plugin",
]
