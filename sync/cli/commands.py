"""Registers every command group on the app; a group module adds itself with one line here."""

from sync.cli import (
    backfill_cmd,  # noqa: F401
    config_cmd,  # noqa: F401
    db_cmd,  # noqa: F401
    deadletters_cmd,  # noqa: F401
    demo_cmd,  # noqa: F401
    emulator_cmd,  # noqa: F401
    mappings_apply_cmd,  # noqa: F401
    mappings_cmd,  # noqa: F401
    mappings_org_cmd,  # noqa: F401
    reconcile_cmd,  # noqa: F401
    share_cmd,  # noqa: F401
    status_cmd,  # noqa: F401
    sync_cmd,  # noqa: F401
    worker_cmd,  # noqa: F401
)
