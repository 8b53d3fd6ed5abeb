"""Monthly reports: snapshots, deliveries (unique per month and recipient), scheduler jobs.

Revision ID: 0002_reports
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_reports"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `report_snapshots`, `report_deliveries` and `report_scheduler_jobs`."""
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_report_snapshots_month", "report_snapshots", ["month", "timezone"])
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column(
            "snapshot_id",
            sa.Integer(),
            sa.ForeignKey("report_snapshots.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint("month", "recipient", name="uq_report_deliveries_month_rcpt"),
    )
    op.create_table(
        "report_scheduler_jobs",
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_report_scheduler_jobs_next_run_time", "report_scheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    """Drop the reports' tables."""
    op.drop_index("ix_report_scheduler_jobs_next_run_time", table_name="report_scheduler_jobs")
    op.drop_table("report_scheduler_jobs")
    op.drop_table("report_deliveries")
    op.drop_index("ix_report_snapshots_month", table_name="report_snapshots")
    op.drop_table("report_snapshots")
