"""Exclusion windows declared through the API.

Revision ID: 0005_exclusions
Revises: 0004_policy_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_exclusions"
down_revision = "0004_policy_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `slo_exclusions`."""
    op.create_table(
        "slo_exclusions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slo_id", sa.String(255), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("who", sa.String(255), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_slo_exclusions_end", "slo_exclusions", ["end"])


def downgrade() -> None:
    """Drop `slo_exclusions`."""
    op.drop_index("ix_slo_exclusions_end", table_name="slo_exclusions")
    op.drop_table("slo_exclusions")
