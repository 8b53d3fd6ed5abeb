"""The gate's override audit: one row per override, written once, never changed or deleted.

Three locks keep rows: this module has no update or delete function, the ORM refuses to flush a
change or a deletion of a row (`AuditRowError`), and the database refuses both (triggers of
migration `0004_policy_audit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sloapi.errors import SloapiError
from sloapi.storage.db import Base

MAX_LISTED = 1000


class AuditRowError(SloapiError):
    """Something tried to change or delete an audit row."""


class GateOverride(Base):
    """A change the gate refused and someone let through anyway (who, when, why)."""

    __tablename__ = "gate_overrides"
    __table_args__ = (Index("ix_gate_overrides_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    service: Mapped[str] = mapped_column(String(255), nullable=False)
    change: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    refusals: Mapped[list[str]] = mapped_column(JSON, nullable=False)


@event.listens_for(Session, "before_flush")
def _keep_audit_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse to flush a change or a deletion of an override row."""
    for row in (*session.deleted, *session.dirty):
        if isinstance(row, GateOverride) and (row in session.deleted or session.is_modified(row)):
            raise AuditRowError("gate override rows are never changed or deleted")


def record_override(
    session: Session,
    *,
    at: datetime,
    actor: str,
    reason: str,
    service: str,
    change: str,
    state: str,
    refusals: Sequence[str],
) -> GateOverride:
    """Write one override row and commit it."""
    row = GateOverride(
        at=at,
        actor=actor,
        reason=reason,
        service=service,
        change=change,
        state=state,
        refusals=list(refusals),
    )
    session.add(row)
    session.commit()
    return row


def list_overrides(
    session: Session, start: datetime | None = None, end: datetime | None = None, limit: int = MAX_LISTED
) -> Sequence[GateOverride]:
    """Overrides with `start <= at < end` (either bound optional; stored in UTC), oldest first,
    at most `limit`."""
    query = select(GateOverride)
    if start is not None:
        query = query.where(GateOverride.at >= start.astimezone(UTC))
    if end is not None:
        query = query.where(GateOverride.at < end.astimezone(UTC))
    return session.scalars(query.order_by(GateOverride.at, GateOverride.id).limit(limit)).all()


def override_json(row: GateOverride) -> dict[str, Any]:
    """One audit row as JSON-ready values (`at` stays a datetime)."""
    return {
        "id": row.id,
        "at": row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC),  # SQLite keeps no offset
        "by": row.actor,
        "reason": row.reason,
        "service": row.service,
        "change": row.change,
        "state": row.state,
        "refusals": list(row.refusals),
    }
