"""Report delivery: copies sent without a final reply, and the scheduler lease of several instances.

Revision ID: 0003_delivery
Revises: 0002_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery"
down_revision = "0002_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `report_deliveries.unconfirmed` and create `report_scheduler_lease`."""
    with op.batch_alter_table("report_deliveries") as batch:
        batch.add_column(sa.Column("unconfirmed", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "report_scheduler_lease",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the lease table and the column."""
    op.drop_table("report_scheduler_lease")
    with op.batch_alter_table("report_deliveries") as batch:
        batch.drop_column("unconfirmed")
