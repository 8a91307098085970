"""The ``mapsync`` command line (console script ``mapsync = sync.cli:main``)."""

from sync.cli import commands  # noqa: F401  (registers every command group on the app)
from sync.cli.app import app, main

__all__ = ["app", "main"]
