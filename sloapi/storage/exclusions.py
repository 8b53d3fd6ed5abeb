"""Exclusion windows declared through the API: one row each, never edited (a mistake is ended
by declaring the record again with the right times; rows are the audit trail)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sloapi.engine.exclusions import Exclusion
from sloapi.storage.db import Base

MAX_LISTED = 10_000


class ExclusionRow(Base):
    """One maintenance window: [start, end) for one SLO (or all when `slo_id` is null)."""

    __tablename__ = "slo_exclusions"
    __table_args__ = (Index("ix_slo_exclusions_end", "end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slo_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    who: Mapped[str] = mapped_column(String(255), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_exclusion(row: ExclusionRow) -> Exclusion:
    """The engine's view of a row."""
    return Exclusion(_utc(row.start), _utc(row.end), row.reason, row.who, row.slo_id, f"api#{row.id}")


def add_exclusion(session: Session, item: Exclusion, declared_at: datetime) -> ExclusionRow:
    """Store one exclusion (committed)."""
    row = ExclusionRow(
        slo_id=item.slo_id,
        start=item.start,
        end=item.end,
        reason=item.reason,
        who=item.who,
        declared_at=declared_at,
    )
    session.add(row)
    session.commit()
    return row


def exclusion_rows(session: Session, limit: int = MAX_LISTED) -> list[ExclusionRow]:
    """Stored exclusions, by start, at most `limit`."""
    return list(
        session.scalars(select(ExclusionRow).order_by(ExclusionRow.start, ExclusionRow.id).limit(limit))
    )


def list_exclusions(session: Session) -> list[Exclusion]:
    """Every stored exclusion as the engine sees it."""
    return [to_exclusion(row) for row in exclusion_rows(session)]
