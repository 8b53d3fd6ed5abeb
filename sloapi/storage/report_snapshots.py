"""Kept monthly reports: one snapshot per computation of a closed month; the newest is served.

A snapshot's payload is the report's JSON; the report package turns it back into its model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sloapi.storage.report_tables import ReportSnapshot


def save_snapshot(
    session: Session,
    *,
    month: str,
    timezone: str,
    generated_at: datetime,
    partial: bool,
    payload: dict[str, Any],
) -> int:
    """Store a new snapshot of `month` (older ones are kept) and return its id."""
    row = ReportSnapshot(
        month=month, timezone=timezone, generated_at=generated_at, partial=partial, payload=payload
    )
    session.add(row)
    session.commit()
    return row.id


def latest_snapshot(session: Session, month: str, timezone: str) -> tuple[int, dict[str, Any]] | None:
    """The newest snapshot of `month` in `timezone` as (id, payload), or None."""
    row = session.scalars(
        select(ReportSnapshot)
        .where(ReportSnapshot.month == month, ReportSnapshot.timezone == timezone)
        .order_by(ReportSnapshot.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.id, row.payload)


def load_snapshot(session: Session, snapshot_id: int) -> dict[str, Any] | None:
    """The payload of the snapshot with `snapshot_id`, or None."""
    row = session.get(ReportSnapshot, snapshot_id)
    return None if row is None else row.payload


def snapshot_count(session: Session, month: str, timezone: str) -> int:
    """How many snapshots `month` has (refreshes add one each)."""
    count = session.scalar(
        select(func.count(ReportSnapshot.id)).where(
            ReportSnapshot.month == month, ReportSnapshot.timezone == timezone
        )
    )
    return int(count or 0)
