"""``mapsync db upgrade|current|rebuild|size``: the local database's schema and its cache.

``mapsync db upgrade`` is the Procfile's release step: it brings the database (SQLite or
PostgreSQL, from ``DATABASE_URL``) to the revision this mapsync needs, before any worker
starts. ``mapsync db current`` says where the database stands and exits 1 when it is behind,
so a deploy check can run it. ``mapsync db rebuild`` refills a new or lost database's cache
of an org from Salesforce (plan index, shadow, tombstones) and says what it found; reps'
pins need no rebuilding, Salesforce's field history holds them. ``mapsync db size`` says how
many bytes the store takes on disk, by table, and per synced record (the figure to size a
database by: at most 250 bytes). The database is named with its password masked.
"""

from __future__ import annotations

import typer

from config.settings import load_settings, mask_url
from sync.cli.app import app, fail, run_guarded
from sync.cli.runtime import open_runtime
from sync.jobs.rebuild import rebuild
from sync.store import Store, database_revision, head_revision, upgrade_database

TARGET_BYTES_PER_RECORD = 250

db_app = typer.Typer(help="Manage the local database's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply the schema migrations; print the revision reached."""

    def body() -> None:
        settings = load_settings()
        where = mask_url(settings.database_url.get_secret_value())
        before, after = upgrade_database(settings.database_url)
        if before == after:
            print(f"database {where} already at revision {after} (head)")
        else:
            print(f"database {where} upgraded from {before or 'empty'} to revision {after} "
                  "(head)")

    run_guarded(body)


@db_app.command("current")
def current() -> None:
    """Print the database's schema revision; exit 1 if it is behind this mapsync."""

    def body() -> None:
        settings = load_settings()
        where = mask_url(settings.database_url.get_secret_value())
        revision, head = database_revision(settings.database_url), head_revision()
        if revision == head:
            print(f"database {where} at revision {revision} (head)")
            return
        raise fail(f"database {where} is at revision {revision or 'none'}, this mapsync "
                   f"needs {head}: run mapsync db upgrade")

    run_guarded(body)


@db_app.command("rebuild")
def rebuild_cache() -> None:
    """Refill the database's cache of the org from Salesforce (after a move or a loss)."""

    def body() -> None:
        with open_runtime() as rt:
            found = rebuild(rt.org)
        print(f"rebuilt from Salesforce in {found.api_calls} API calls, {found.seconds:.1f} s: "
              f"{found.plans} plans, {found.milestones} milestones, {found.rollups} "
              f"Opportunity rollups, {found.tombstones} plans reps deleted, {found.rep_pins} "
              "fields reps pinned (kept: read from Salesforce's field history)")

    run_guarded(body)


@db_app.command("size")
def size() -> None:
    """Print the store's size on disk by table and per synced record."""

    def body() -> None:
        settings = load_settings()
        with Store.open(settings.database_url) as store, \
                store.transaction(write=False) as tx:
            tables, records = tx.table_sizes(), tx.shadow_records()
        total = sum(tables.values())
        per = f"{total / records:.0f}" if records else "-"
        print(f"database {store.location}: {total / 1e6:.1f} MB on disk, {records} synced "
              f"records, {per} bytes per record (target {TARGET_BYTES_PER_RECORD})")
        for name, used in sorted(tables.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {name:<20}{used / 1e6:>10.2f} MB")

    run_guarded(body)
