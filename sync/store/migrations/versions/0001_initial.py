"""Initial schema: watermarks, shadow, plan index, tombstones, runs, dead letters, leases,
backfill checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Migrations are frozen history: they use plain SQLAlchemy types, never the live models, so a
later change to ``sync/store/models.py`` cannot rewrite what an old revision did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE = "status IN ('open', 'parked')"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "watermark",
        _str("org_id", 64), _str("object_name", 80),
        _ts("systemmodstamp"), _text("ids_at_json"), _ts("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "object_name", name="pk_watermark"),
    )
    op.create_table(
        "shadow_record",
        _str("org_id", 64), _str("object_name", 80), _str("external_id", 255),
        _str("record_id", 18, nullable=True), _text("fields_json"), _str("fields_hash", 64),
        _ts("written_at"),
        sa.PrimaryKeyConstraint("org_id", "object_name", "external_id", name="pk_shadow_record"),
    )
    op.create_table(
        "plan_index",
        _str("org_id", 64), _str("opportunity_id", 18), _str("plan_id", 18, nullable=True),
        _text("milestones_json"), _ts("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "opportunity_id", name="pk_plan_index"),
    )
    op.create_index("ix_plan_index_org_id_plan_id", "plan_index", ["org_id", "plan_id"])
    op.create_table(
        "tombstone",
        _str("org_id", 64), _str("opportunity_id", 18), _ts("deleted_at"),
        _str("deleted_by", 255, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "opportunity_id", name="pk_tombstone"),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("org_id", 64), _str("kind", 16), _ts("started_at"),
        _ts("finished_at", nullable=True), _str("outcome", 16), _text("counts_json"),
        sa.Column("api_calls", sa.Integer(), nullable=False), _text("error", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_run"),
    )
    op.create_index("ix_sync_run_org_id_started_at", "sync_run", ["org_id", "started_at"])
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("org_id", 64), _str("object_name", 80), _str("external_id", 255),
        _str("operation", 16), _text("payload_json"), _str("error_code", 80, nullable=True),
        _text("error_message"), sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("first_seen"), _ts("last_seen"), _str("status", 16),
        _text("discard_reason", nullable=True), _ts("next_attempt_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letter"),
    )
    op.create_index("ix_dead_letter_org_id_status", "dead_letter", ["org_id", "status"])
    op.create_index(
        "uq_dead_letter_active", "dead_letter",
        ["org_id", "object_name", "external_id", "operation"], unique=True,
        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
    )
    op.create_table(
        "lease",
        _str("org_id", 64), _str("holder", 255), _ts("acquired_at"), _ts("expires_at"),
        _ts("heartbeat_at"),
        sa.PrimaryKeyConstraint("org_id", name="pk_lease"),
    )
    op.create_table(
        "backfill_checkpoint",
        _str("backfill_id", 64), _str("org_id", 64), _text("parameters_json"),
        _text("cursor", nullable=True), _text("counts_json"), _str("status", 16),
        _ts("created_at"), _ts("updated_at"),
        sa.PrimaryKeyConstraint("backfill_id", name="pk_backfill_checkpoint"),
    )
    op.create_index(
        "ix_backfill_checkpoint_org_id_status", "backfill_checkpoint", ["org_id", "status"]
    )


def downgrade() -> None:
    for table in ("backfill_checkpoint", "lease", "dead_letter", "sync_run", "tombstone",
                  "plan_index", "shadow_record", "watermark"):
        op.drop_table(table)
