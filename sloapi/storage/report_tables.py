"""Tables of the monthly reports: snapshots, deliveries and the scheduler's job store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sloapi.storage.db import Base

SCHEDULER_JOBS_TABLE = "report_scheduler_jobs"


class ReportSnapshot(Base):
    """A computed monthly report; a refresh adds a new row and keeps the old ones."""

    __tablename__ = "report_snapshots"
    __table_args__ = (Index("ix_report_snapshots_month", "month", "timezone"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    partial: Mapped[bool] = mapped_column(Boolean, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class ReportDelivery(Base):
    """One recipient's copy of one month's report.

    The (month, recipient) pair is unique: whoever inserts the row (or moves it from ``failed``
    to ``sending`` with a conditional update) is the only one allowed to send.
    Statuses: ``sending`` (claimed until ``claimed_at`` + the claim lease), ``sent``, ``failed``
    (a definite refusal or no connection; retried at ``next_attempt_at``) and ``unconfirmed`` (the
    body went out, the final reply never came; retried at ``next_attempt_at`` until
    ``unconfirmed`` copies reach the bound, then left for an operator). ``message_id`` is fixed at
    the first claim and kept by every retry.
    """

    __tablename__ = "report_deliveries"
    __table_args__ = (UniqueConstraint("month", "recipient", name="uq_report_deliveries_month_rcpt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sends: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unconfirmed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_snapshots.id", ondelete="SET NULL"), nullable=True
    )


class SchedulerJob(Base):
    """APScheduler 3's SQLAlchemy job store table (same columns as it creates itself)."""

    __tablename__ = SCHEDULER_JOBS_TABLE

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True, nullable=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class SchedulerLease(Base):
    """Who runs the report scheduler: one row per lease, held until ``expires_at``.

    An instance takes the row when it is free or expired and renews it while it lives; the
    others wait, and take it over once the holder stops renewing.
    """

    __tablename__ = "report_scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
