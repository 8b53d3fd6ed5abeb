"""Tables of the SLO engine: computed status snapshots that must outlive a restart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sloapi.storage.db import Base


class StatusSnapshot(Base):
    """One computed status of one SLO over one window at one pinned time.

    The same (slo_id, window, at) computed again replaces nothing: it is unique, so a snapshot
    used by a report stays what it was.
    """

    __tablename__ = "slo_status_snapshots"
    __table_args__ = (
        UniqueConstraint("slo_id", "window", "at", name="uq_slo_status_snapshots_key"),
        Index("ix_slo_status_snapshots_slo_at", "slo_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slo_id: Mapped[str] = mapped_column(String(255), nullable=False)
    window: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
