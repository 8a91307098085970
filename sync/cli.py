"""Placeholder CLI entry point; replaced by the real command tree."""


def main() -> None:
    raise SystemExit("mapsync: not available yet")
