"""Bounds on the work of one request: the longest window and the data Prometheus still keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sloapi.engine.durations import format_duration
from sloapi.errors import WindowError
from sloapi.specs.model import Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LONGEST_CALENDAR = timedelta(days=31)


def check_window_bounds(
    window: Window, at: datetime, max_seconds: int, retention_start: datetime | None = None
) -> None:
    """Refuse a window longer than `max_seconds` or starting before `retention_start`.

    The length is checked before any date is computed, so a huge window costs nothing.

    Raises:
        WindowError: naming the limit (the setting, or Prometheus's retention).
    """
    if window.kind == "rolling" and window.seconds > max_seconds:
        raise WindowError(
            f"window {window.name} is longer than the maximum {format_duration(max_seconds)} "
            "(SLOAPI_MAX_WINDOW)"
        )
    if retention_start is None:
        return
    start, _end = window.bounds(at)
    if start < retention_start:
        oldest = retention_start.astimezone(UTC).replace(microsecond=0).isoformat()
        kept = format_duration(max(1, round((at - retention_start).total_seconds())))
        raise WindowError(
            f"window {window.name} starts before the oldest data Prometheus keeps ({oldest}, "
            f"its retention of {kept}): ask for a shorter window"
        )


def check_window_start(window: Window, at: datetime) -> None:
    """Refuse a window that starts before 1970 (Prometheus holds nothing there, and dates that
    early overflow the step grid). Checked without date arithmetic that could overflow.

    Raises:
        WindowError: naming the window and `at`.
    """
    length = window.seconds if window.kind == "rolling" else LONGEST_CALENDAR.total_seconds()
    if (at - EPOCH).total_seconds() < length:
        raise WindowError(
            f"window {window.name} at {at.isoformat()} starts before 1970-01-01, "
            "where Prometheus holds no data"
        )
