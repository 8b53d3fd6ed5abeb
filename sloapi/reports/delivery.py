"""Exactly-once delivery: a (month, recipient) row is claimed in the database before sending.

Claiming is an INSERT under the table's unique constraint, or a conditional UPDATE that moves a
row from ``failed`` or ``unconfirmed`` (retry due) or from a stale ``sending`` claim (an
instance that died; stale once the claim lease has run out) to ``sending``. The claim is
committed before any SMTP traffic, and only the claimer sends, so two instances or a restart
never send the same copy at once. The Message-ID is fixed at the first claim and every later
try carries it.

Outcomes of one try: the server's 250 (``sent``); a definite refusal or no conversation
(``failed``: retried within the run with exponential backoff, then by later runs); the body went
out but no final reply came (``unconfirmed``: the server may hold the message, so it is not
retried within the run, only later, slower, and at most ``unconfirmed_copies`` copies in all).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sloapi.reports.errors import AlreadyDeliveredError, UnconfirmedSendError
from sloapi.reports.mail import Mailer, message_id
from sloapi.storage.report_tables import ReportDelivery

log = logging.getLogger(__name__)

SENDING, SENT, FAILED, UNCONFIRMED = "sending", "sent", "failed", "unconfirmed"
#: Outcomes that are not row statuses: the copy went out earlier, or its turn has not come.
ALREADY_SENT, DELAYED = "already_sent", "delayed"
STATUSES = (SENDING, SENT, FAILED, UNCONFIRMED)


@dataclass(frozen=True)
class RetryPolicy:
    """How SMTP failures are retried.

    Attributes:
        attempts: Tries within one run before the row is left ``failed``.
        backoff_seconds: Pause before the second try; doubles each time.
        later_seconds: Delay before a later run retries a failed row; doubles per failed run,
            capped by ``later_max_seconds``.
        later_max_seconds: Cap of that delay.
        lease_seconds: A ``sending`` claim not renewed for this long belongs to a dead instance
            (a live one renews it every quarter of it while sending).
        unconfirmed_copies: At most this many copies go out without a final reply; then the row
            stays ``unconfirmed`` until an operator resends with ``force``.
        unconfirmed_seconds: Delay before the next try after an unconfirmed one; doubles each
            time.
        record_seconds: How long recording ``sent`` is retried while the store is unreachable
            (keep it well below ``lease_seconds``).
    """

    attempts: int = 3
    backoff_seconds: float = 1.0
    later_seconds: float = 300.0
    later_max_seconds: float = 3600.0
    lease_seconds: float = 300.0
    unconfirmed_copies: int = 2
    unconfirmed_seconds: float = 3600.0
    record_seconds: float = 120.0


@dataclass(frozen=True)
class Claim:
    """A committed claim: the row and the holder string written into ``claimed_by``."""

    row_id: int
    holder: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's copy.

    ``status``: ``sent``, ``failed``, ``unconfirmed``, ``already_sent`` or ``delayed`` (another
    instance holds the claim, or the next try is not due); ``next_attempt_at`` when a later
    run will try again.
    """

    recipient: str
    status: str
    detail: str = ""
    next_attempt_at: datetime | None = None


def _claimable(row: ReportDelivery, now: datetime, force: bool, policy: RetryPolicy) -> bool:
    if row.status == SENT:
        return force
    if row.status == FAILED:
        return force or _due(row.next_attempt_at, now)
    if row.status == UNCONFIRMED:
        return force or (row.next_attempt_at is not None and _due(row.next_attempt_at, now))
    return _stale(row.claimed_at, now, policy)


def _claim(
    session: Session,
    month: str,
    recipient: str,
    *,
    now: datetime,
    owner: str,
    force: bool,
    policy: RetryPolicy,
    snapshot_id: int | None,
) -> ReportDelivery | Outcome:
    """Claim the copy (committed before returning), or say why not.

    The claim's holder is ``owner`` plus a token of this claim, so even a second claim by the
    same instance (its retry job taking over its own lapsed claim) is told apart.
    """
    holder = f"{owner}/{secrets.token_hex(4)}"
    row = ReportDelivery(
        month=month,
        recipient=recipient,
        status=SENDING,
        attempts=0,
        sends=0,
        unconfirmed=0,
        claimed_by=holder,
        claimed_at=now,
        message_id=message_id(month, recipient, 1),
        snapshot_id=snapshot_id,
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
    if not _claimable(row, now, force, policy):
        return _not_claimed(row, month, recipient)
    resend = row.status == SENT  # a deliberate new copy: a new Message-ID
    values: dict[str, Any] = {"status": SENDING, "claimed_by": holder, "claimed_at": now}
    if snapshot_id is not None:
        values["snapshot_id"] = snapshot_id
    if resend or row.message_id is None:
        values.update(message_id=message_id(month, recipient, row.sends + 1), unconfirmed=0)
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
        .values(**values)
    )
    session.commit()
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return Outcome(recipient, DELAYED, "another instance claimed it at the same moment")
    session.refresh(row)
    return row


def _not_claimed(row: ReportDelivery, month: str, recipient: str) -> Outcome:
    if row.status == SENT:
        raise AlreadyDeliveredError(f"{month} report already sent to {recipient}")
    if row.status == SENDING:
        return Outcome(recipient, DELAYED, f"being sent by {row.claimed_by}")
    if row.status == UNCONFIRMED and row.next_attempt_at is None:
        return Outcome(
            recipient,
            UNCONFIRMED,
            f"{row.unconfirmed} copies sent without a final reply (Message-ID {row.message_id}); "
            "not retried, force sends again",
        )
    return Outcome(
        recipient, DELAYED, f"{row.status}, next try at {row.next_attempt_at}", _aware(row.next_attempt_at)
    )


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


def claim(
    sessions: sessionmaker[Session],
    month: str,
    recipient: str,
    *,
    now: datetime,
    owner: str,
    snapshot_id: int | None = None,
    force: bool = False,
    policy: RetryPolicy | None = None,
) -> Claim | Outcome:
    """Claim one recipient's copy for ``owner`` (committed), or say why not (``delayed``,
    ``unconfirmed`` beyond the bound).

    Raises:
        AlreadyDeliveredError: Already sent and not ``force``.
    """
    with sessions() as session:
        claimed = _claim(
            session,
            month,
            recipient,
            now=now,
            owner=owner,
            force=force,
            policy=policy or RetryPolicy(),
            snapshot_id=snapshot_id,
        )
        if isinstance(claimed, Outcome):
            return claimed
        return Claim(claimed.id, claimed.claimed_by or owner)


def send_claimed(
    sessions: sessionmaker[Session],
    claim: Claim,
    build: Callable[[str], EmailMessage],
    mailer: Mailer,
    *,
    now: Callable[[], datetime],
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Send a claimed copy. The claim is renewed first (a run over many recipients never sends
    on a claim that lapsed and was taken over) and kept alive while the SMTP conversation lasts,
    so only a dead instance's claim ever lapses.

    Args:
        sessions: Database sessions.
        claim: The committed claim.
        build: Builds the message given its Message-ID.
        mailer: Sends a message.
        now: Clock.
        policy: Retry policy.
        sleep: Pause between tries.

    Returns:
        The outcome.
    """
    policy = policy or RetryPolicy()
    with sessions() as session:
        renewed = _renew(session, claim, now())
        row = session.get(ReportDelivery, claim.row_id)
        assert row is not None  # rows are never deleted
        if not renewed:
            return Outcome(row.recipient, DELAYED, f"claim taken over by {row.claimed_by}")
        message = build(row.message_id or message_id(row.month, row.recipient, 1))
        with _KeepAlive(sessions, claim, now, policy.lease_seconds / 4):
            return _send(session, row, message, mailer, now=now, policy=policy, sleep=sleep)


def _renew(session: Session, claim: Claim, now: datetime) -> bool:
    """Move the claim's time to ``now`` if it is still ours; whether it was."""
    renewed = session.execute(
        update(ReportDelivery)
        .where(
            ReportDelivery.id == claim.row_id,
            ReportDelivery.status == SENDING,
            ReportDelivery.claimed_by == claim.holder,
        )
        .values(claimed_at=now)
    )
    session.commit()
    return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


class _KeepAlive:
    """Renews a claim every ``interval`` seconds from a thread while a send is in progress."""

    def __init__(
        self, sessions: sessionmaker[Session], claim: Claim, now: Callable[[], datetime], interval: float
    ) -> None:
        self.sessions, self.claim, self.now, self.interval = sessions, claim, now, interval
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="report-claim", daemon=True)

    def __enter__(self) -> _KeepAlive:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.done.wait(self.interval):
            try:
                with self.sessions() as session:
                    _renew(session, self.claim, self.now())
            except DBAPIError as exc:  # the store is failing over: try again next time
                log.warning("report claim %s not renewed: %s", self.claim.holder, exc)


def _send(
    session: Session,
    row: ReportDelivery,
    message: EmailMessage,
    mailer: Mailer,
    *,
    now: Callable[[], datetime],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> Outcome:
    """Try ``policy.attempts`` times; record the outcome in ``row``."""
    failed_runs = row.attempts // max(1, policy.attempts)
    error = ""
    for attempt in range(policy.attempts):
        try:
            mailer.send(message)
        except UnconfirmedSendError as exc:
            return _unconfirmed(session, row, _error_text(exc), now(), policy)
        except (smtplib.SMTPException, OSError) as exc:
            error = _error_text(exc)
            row.attempts += 1
            row.last_error = error
            session.commit()
            log.warning(
                "report %s to %s: attempt %d failed: %s", row.month, row.recipient, attempt + 1, error
            )
            if attempt + 1 < policy.attempts:
                sleep(policy.backoff_seconds * 2**attempt)
            continue
        recipient = row.recipient
        _record_sent(session, row, now(), policy, sleep)
        return Outcome(recipient, SENT)
    delay = min(policy.later_max_seconds, policy.later_seconds * 2**failed_runs)
    row.status, row.next_attempt_at = FAILED, now() + timedelta(seconds=delay)
    session.commit()
    return Outcome(row.recipient, FAILED, error, row.next_attempt_at)


def _record_sent(
    session: Session, row: ReportDelivery, at: datetime, policy: RetryPolicy, sleep: Callable[[float], None]
) -> None:
    """Write ``sent``; while the store is unreachable (a primary failing over), retry for up to
    ``policy.record_seconds``: the server has the message, and losing this write would let the
    claim lapse and the copy go out again."""
    row_id, owner, what = row.id, row.claimed_by, f"report {row.month} to {row.recipient} ({row.message_id})"
    values = {"status": SENT, "sent_at": at, "sends": row.sends + 1, "next_attempt_at": None}
    deadline = time.monotonic() + policy.record_seconds
    pause = 0.25
    while True:
        try:
            session.execute(
                update(ReportDelivery)
                .where(ReportDelivery.id == row_id, ReportDelivery.claimed_by == owner)
                .values(**values)
            )
            session.commit()
            log.info("%s sent", what)
            return
        except DBAPIError as exc:
            session.rollback()
            if time.monotonic() + pause > deadline:
                log.error("%s sent, but not recorded: %s", what, exc)
                raise
            log.warning("%s sent; recording it failed, retrying: %s", what, exc)
            sleep(pause)
            pause = min(2 * pause, 5.0)


def _unconfirmed(
    session: Session, row: ReportDelivery, error: str, now: datetime, policy: RetryPolicy
) -> Outcome:
    """Record a copy sent without a final reply; schedule the next try while under the bound."""
    row.attempts += 1
    row.unconfirmed += 1
    row.last_error = error
    row.status = UNCONFIRMED
    if row.unconfirmed < policy.unconfirmed_copies:
        delay = policy.unconfirmed_seconds * 2 ** (row.unconfirmed - 1)
        row.next_attempt_at = now + timedelta(seconds=delay)
    else:
        row.next_attempt_at = None
    session.commit()
    log.warning(
        "report %s to %s: no final reply after the body (copy %d of at most %d, %s): %s",
        row.month,
        row.recipient,
        row.unconfirmed,
        policy.unconfirmed_copies,
        row.message_id,
        error,
    )
    return Outcome(row.recipient, UNCONFIRMED, error, row.next_attempt_at)


def due_retries(sessions: sessionmaker[Session], now: datetime, policy: RetryPolicy) -> list[ReportDelivery]:
    """Rows whose retry is due (failed or unconfirmed past ``next_attempt_at``, or a stale claim)."""
    with sessions() as session:
        rows = session.scalars(
            select(ReportDelivery).where(ReportDelivery.status.in_([FAILED, UNCONFIRMED, SENDING]))
        ).all()
    return [row for row in rows if row.status != SENT and _claimable(row, now, False, policy)]


def list_deliveries(sessions: sessionmaker[Session], month: str) -> list[ReportDelivery]:
    """Every delivery row of ``month``, by recipient."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ReportDelivery).where(ReportDelivery.month == month).order_by(ReportDelivery.recipient)
            ).all()
        )


def delivery_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """How many delivery rows are in each status (every status present, zero when none)."""
    with sessions() as session:
        found = session.execute(
            select(ReportDelivery.status, func.count(ReportDelivery.id)).group_by(ReportDelivery.status)
        ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(count) for status, count in found})
    return counts
