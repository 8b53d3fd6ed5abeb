"""The error-budget gate's override audit: rows the database refuses to change or delete.

Revision ID: 0004_policy_audit
Revises: 0003_delivery
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_policy_audit"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None

_MESSAGE = "gate override rows are never changed or deleted"

_SQLITE = [
    f"CREATE TRIGGER gate_overrides_no_{verb} BEFORE {verb.upper()} ON gate_overrides "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    for verb in ("update", "delete")
]
_POSTGRESQL = [
    "CREATE FUNCTION gate_overrides_keep() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$",
    "CREATE TRIGGER gate_overrides_keep BEFORE UPDATE OR DELETE OR TRUNCATE ON gate_overrides "
    "FOR EACH STATEMENT EXECUTE FUNCTION gate_overrides_keep()",
]


def upgrade() -> None:
    """Create `gate_overrides` and its keep-rows triggers (SQLite, PostgreSQL)."""
    op.create_table(
        "gate_overrides",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("change", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("refusals", sa.JSON(), nullable=False),
    )
    op.create_index("ix_gate_overrides_at", "gate_overrides", ["at"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    """Refuse: dropping the audit would delete its rows."""
    raise RuntimeError("0004_policy_audit cannot be downgraded: audit rows are never deleted")
