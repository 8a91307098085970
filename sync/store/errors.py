"""Errors of the local store, placed in the product's tree by what an admin does about them.

    ConfigurationError (config.errors)
    ├── SchemaOutOfDateError      the database's schema revision is not the code's: run
    │                             ``mapsync db upgrade`` (or upgrade mapsync, if it is newer)
    └── NotAStoreError            the SQLite file is not a database (random bytes, another
                                  kind of file) or is damaged (truncated): point
                                  ``DATABASE_URL`` at the right file or restore it; no retry
                                  helps
    RetryableError (config.errors)
    └── DatabaseUnavailableError  the database cannot be reached or opened; the message names
        │                         it by its URL with the password masked
        └── StoreLockedError      another process holds the SQLite file's lock past the busy
                                  timeout (a stuck writer, a backup tool, a sqlite3 shell)
    MapsyncError (config.errors)
    └── DeadLetterStateError      no such dead letter, or not in a state the change applies to
                                  (e.g. discarding a resolved one)

Every message is one line and never contains the ``DATABASE_URL`` password.
"""

from __future__ import annotations

from config.errors import ConfigurationError, MapsyncError, RetryableError


class SchemaOutOfDateError(ConfigurationError):
    """The database schema is behind (or ahead of) the revision this code expects."""

    def __init__(self, message: str, current: str | None, expected: str) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected


class NotAStoreError(ConfigurationError):
    """The store's file is not a SQLite database, or a damaged one."""


class DatabaseUnavailableError(RetryableError):
    """The database refused the connection or could not be opened."""


class StoreLockedError(DatabaseUnavailableError):
    """Another process kept the SQLite store locked for the whole busy timeout."""


class DeadLetterStateError(MapsyncError):
    """A dead letter does not exist, or is not in a state the requested change applies to."""
