"""Keeping reports: one snapshot per computation of a closed month; the newest one is served."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sloapi.reports.model import MonthReport
from sloapi.reports.tables import ReportSnapshot


def save_snapshot(session: Session, report: MonthReport) -> int:
    """Store ``report`` as a new snapshot (older ones are kept) and return its id."""
    row = ReportSnapshot(
        month=report.month,
        timezone=report.timezone,
        generated_at=report.generated_at,
        partial=report.partial,
        payload=report.model_dump(mode="json"),
    )
    session.add(row)
    session.commit()
    return row.id


def latest_snapshot(session: Session, month: str, timezone: str) -> tuple[int, MonthReport] | None:
    """The newest snapshot of ``month`` in ``timezone``, with its id, or None."""
    row = session.scalars(
        select(ReportSnapshot)
        .where(ReportSnapshot.month == month, ReportSnapshot.timezone == timezone)
        .order_by(ReportSnapshot.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.id, MonthReport.model_validate(row.payload)


def load_snapshot(session: Session, snapshot_id: int) -> MonthReport | None:
    """The snapshot with ``snapshot_id``, or None."""
    row = session.get(ReportSnapshot, snapshot_id)
    return None if row is None else MonthReport.model_validate(row.payload)


def snapshot_count(session: Session, month: str, timezone: str) -> int:
    """How many snapshots ``month`` has (refreshes add one each)."""
    return len(
        session.scalars(
            select(ReportSnapshot.id).where(
                ReportSnapshot.month == month, ReportSnapshot.timezone == timezone
            )
        ).all()
    )
