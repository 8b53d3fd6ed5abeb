"""The report scheduler's lease: one row per lease name, taken when free or expired.

Times are the instances' own UTC clocks, so the instances' clocks must agree to well within the
lease (NTP keeps them within milliseconds; the lease is tens of seconds).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sloapi.storage.report_tables import SchedulerLease


def take_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``.

    One conditional UPDATE (or the INSERT of a missing row, under the primary key) decides, so
    two instances never both win. Returns whether ``holder`` holds it now.
    """
    moved = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    session.commit()
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        return True
    session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up (only if ``holder`` has it), so another instance takes it at once."""
    session.execute(
        delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
    )
    session.commit()


def lease_holder(session: Session, name: str) -> tuple[str, datetime] | None:
    """(holder, expires_at) of the lease, or None when nobody ever took it."""
    row = session.get(SchedulerLease, name)
    return None if row is None else (row.holder, row.expires_at)
