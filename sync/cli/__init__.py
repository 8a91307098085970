"""The ``mapsync`` command line (console script ``mapsync = sync.cli:main``)."""

from sync.cli.app import main

__all__ = ["main"]
