"""Kept statuses: one row per (SLO, window, time), created once, listed newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sloapi.storage.models import StatusSnapshot

MAX_LISTED = 1000


def keep_status(
    session: Session, slo_id: str, window: str, at: datetime, computed_at: datetime, payload: dict[str, Any]
) -> StatusSnapshot:
    """The snapshot of (`slo_id`, `window`, `at`): the existing one, else `payload` stored now."""
    existing = session.scalars(
        select(StatusSnapshot).where(
            StatusSnapshot.slo_id == slo_id, StatusSnapshot.window == window, StatusSnapshot.at == at
        )
    ).first()
    if existing is not None:
        return existing
    row = StatusSnapshot(slo_id=slo_id, window=window, at=at, computed_at=computed_at, payload=payload)
    session.add(row)
    session.commit()
    return row


def list_statuses(session: Session, slo_id: str, limit: int = MAX_LISTED) -> Sequence[StatusSnapshot]:
    """The kept statuses of `slo_id`, newest first, at most `limit`."""
    return session.scalars(
        select(StatusSnapshot)
        .where(StatusSnapshot.slo_id == slo_id)
        .order_by(StatusSnapshot.at.desc())
        .limit(limit)
    ).all()
