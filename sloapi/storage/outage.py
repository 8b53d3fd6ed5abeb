"""A store outage as one error: lost or refused database connections become
`StoreUnavailableError` with the reason; safe reads are tried twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from sloapi.errors import StoreUnavailableError

T = TypeVar("T")
#: What a lost, refused or exhausted connection raises (not a constraint or a bad statement).
OUTAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeoutError)
RETRY_PAUSE_SECONDS = 0.2


def outage_reason(exc: BaseException) -> str:
    """A short reason for an outage error: the driver's first line, no statement, no secret."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"database unavailable: {first[:200]}"


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn an outage error raised inside into `StoreUnavailableError` (nothing retried)."""
    try:
        yield
    except OUTAGE_ERRORS as exc:
        raise StoreUnavailableError(outage_reason(exc)) from None


def read_with_retry(sessions: sessionmaker[Session], read: Callable[[Session], T]) -> T:
    """Run the read-only `read` in a fresh session; after an outage error, once more.

    Only for reads: running one twice changes nothing. The pool's pre-ping has already replaced
    a stale connection, so a second failure means the store is down.

    Raises:
        StoreUnavailableError: both tries failed (the reason of the last).
    """
    try:
        with sessions() as session:
            return read(session)
    except OUTAGE_ERRORS:
        time.sleep(RETRY_PAUSE_SECONDS)
    with store_errors(), sessions() as session:
        return read(session)
