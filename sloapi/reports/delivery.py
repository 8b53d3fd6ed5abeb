"""Exactly-once delivery: a (month, recipient) row is claimed in the database before sending.

Claiming is an INSERT under the table's unique constraint, or a conditional UPDATE that moves a
row from ``failed`` (retry due) or from a stale ``sending`` claim (an instance that died) to
``sending``. Only the claimer sends, so two instances or a restart never send the same copy.
SMTP failures are retried with exponential backoff; when they persist the row stays ``failed``
with the error and ``next_attempt_at``, and ``retry_due`` tries again later.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sloapi.reports.errors import AlreadyDeliveredError
from sloapi.reports.mail import Mailer, message_id
from sloapi.storage.report_tables import ReportDelivery

log = logging.getLogger(__name__)

SENDING, SENT, FAILED = "sending", "sent", "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """How SMTP failures are retried.

    Attributes:
        attempts: Tries within one run before the row is left ``failed``.
        backoff_seconds: Pause before the second try; doubles each time.
        later_seconds: Delay before a later run retries a failed row; doubles per failed run,
            capped by ``later_max_seconds``.
        later_max_seconds: Cap of that delay.
        lease_seconds: A ``sending`` claim older than this belongs to a dead instance.
    """

    attempts: int = 3
    backoff_seconds: float = 1.0
    later_seconds: float = 300.0
    later_max_seconds: float = 3600.0
    lease_seconds: float = 900.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's copy: ``sent``, ``failed`` or ``skipped`` (with why)."""

    recipient: str
    status: str
    detail: str = ""


def _claim(
    session: Session,
    month: str,
    recipient: str,
    *,
    now: datetime,
    owner: str,
    force: bool,
    policy: RetryPolicy,
) -> ReportDelivery | None:
    row = ReportDelivery(
        month=month,
        recipient=recipient,
        status=SENDING,
        attempts=0,
        sends=0,
        claimed_by=owner,
        claimed_at=now,
    )
    session.add(row)
    try:
        session.commit()
        return row
    except IntegrityError:
        session.rollback()
    row = session.scalars(
        select(ReportDelivery).where(ReportDelivery.month == month, ReportDelivery.recipient == recipient)
    ).one()
    claimable = (
        (row.status == SENT and force)
        or (row.status == FAILED and (force or _due(row.next_attempt_at, now)))
        or (row.status == SENDING and _stale(row.claimed_at, now, policy))
    )
    if not claimable:
        if row.status == SENT:
            raise AlreadyDeliveredError(f"{month} report already sent to {recipient}")
        return None
    moved = session.execute(
        update(ReportDelivery)
        .where(
            ReportDelivery.id == row.id,
            ReportDelivery.status == row.status,
            ReportDelivery.attempts == row.attempts,
            ReportDelivery.sends == row.sends,
            _same(ReportDelivery.claimed_by, row.claimed_by),
            _same(ReportDelivery.claimed_at, row.claimed_at),
        )
        .values(status=SENDING, claimed_by=owner, claimed_at=now)
    )
    session.commit()
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(row)
    return row


def _same(column: Any, value: object) -> ColumnElement[bool]:
    """``column = value``, or ``IS NULL`` for None (two instances reclaiming one stale claim:
    only the first update matches)."""
    return column.is_(None) if value is None else column == value


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite gives naive UTC datetimes back
        return moment.replace(tzinfo=UTC)
    return moment


def _due(moment: datetime | None, now: datetime) -> bool:
    moment = _aware(moment)
    return moment is None or moment <= now


def _stale(claimed_at: datetime | None, now: datetime, policy: RetryPolicy) -> bool:
    claimed_at = _aware(claimed_at)
    return claimed_at is None or now - claimed_at >= timedelta(seconds=policy.lease_seconds)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def deliver(
    sessions: sessionmaker[Session],
    month: str,
    recipient: str,
    build: Callable[[str], EmailMessage],
    mailer: Mailer,
    *,
    now: Callable[[], datetime],
    owner: str,
    snapshot_id: int | None = None,
    force: bool = False,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Send one recipient's copy at most once (unless ``force``).

    Args:
        sessions: Database sessions.
        month: ``YYYY-MM``.
        recipient: Mail address.
        build: Builds the message given its Message-ID.
        mailer: Sends a message.
        now: Clock.
        owner: Name of this instance (kept in the claim).
        snapshot_id: The snapshot mailed (lets later retries rebuild the same message).
        force: Send again even when already sent.
        policy: Retry policy.
        sleep: Pause between tries.

    Returns:
        The outcome.

    Raises:
        AlreadyDeliveredError: Already sent and not ``force``.
    """
    policy = policy or RetryPolicy()
    with sessions() as session:
        row = _claim(session, month, recipient, now=now(), owner=owner, force=force, policy=policy)
        if row is None:
            return Outcome(recipient, "skipped", "another instance holds it or it is not due")
        row.snapshot_id = snapshot_id if snapshot_id is not None else row.snapshot_id
        failed_runs = row.attempts // max(1, policy.attempts)
        msg_id = message_id(month, recipient, row.sends + 1)
        message = build(msg_id)
        error = ""
        for attempt in range(policy.attempts):
            try:
                mailer.send(message)
            except (smtplib.SMTPException, OSError) as exc:
                error = _error_text(exc)
                row.attempts += 1
                row.last_error = error
                session.commit()
                log.warning("report %s to %s: attempt %d failed: %s", month, recipient, attempt + 1, error)
                if attempt + 1 < policy.attempts:
                    sleep(policy.backoff_seconds * 2**attempt)
                continue
            row.status, row.sent_at, row.message_id = SENT, now(), msg_id
            row.sends += 1
            row.next_attempt_at = None
            session.commit()
            log.info("report %s sent to %s", month, recipient)
            return Outcome(recipient, SENT)
        delay = min(policy.later_max_seconds, policy.later_seconds * 2**failed_runs)
        row.status, row.next_attempt_at = FAILED, now() + timedelta(seconds=delay)
        session.commit()
        return Outcome(recipient, FAILED, error)


def due_retries(sessions: sessionmaker[Session], now: datetime, policy: RetryPolicy) -> list[ReportDelivery]:
    """Rows whose retry is due (failed and past ``next_attempt_at``, or a stale claim)."""
    with sessions() as session:
        rows = session.scalars(
            select(ReportDelivery).where(ReportDelivery.status.in_([FAILED, SENDING]))
        ).all()
    return [
        row
        for row in rows
        if (row.status == FAILED and _due(row.next_attempt_at, now))
        or (row.status == SENDING and _stale(row.claimed_at, now, policy))
    ]


def list_deliveries(sessions: sessionmaker[Session], month: str) -> list[ReportDelivery]:
    """Every delivery row of ``month``, by recipient."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ReportDelivery).where(ReportDelivery.month == month).order_by(ReportDelivery.recipient)
            ).all()
        )
