"""Initial tables of the SLO engine: status snapshots.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `slo_status_snapshots`."""
    op.create_table(
        "slo_status_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slo_id", sa.String(255), nullable=False),
        sa.Column("window", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.UniqueConstraint("slo_id", "window", "at", name="uq_slo_status_snapshots_key"),
    )
    op.create_index("ix_slo_status_snapshots_slo_at", "slo_status_snapshots", ["slo_id", "at"])


def downgrade() -> None:
    """Drop `slo_status_snapshots`."""
    op.drop_index("ix_slo_status_snapshots_slo_at", table_name="slo_status_snapshots")
    op.drop_table("slo_status_snapshots")
