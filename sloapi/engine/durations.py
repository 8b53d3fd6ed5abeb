"""Prometheus-style durations (`5m`, `1h30m`, `30d`) and RFC 3339 / unix times."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sloapi.errors import WindowError

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_WHOLE = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+")


def parse_duration(text: str) -> int:
    """Parse a Prometheus duration into whole seconds.

    Args:
        text: e.g. `5m`, `1h30m`, `30d`.

    Returns:
        The duration in seconds (> 0).

    Raises:
        WindowError: not a duration, zero, or not a whole number of seconds.
    """
    if not isinstance(text, str) or not _WHOLE.fullmatch(text.strip()):
        raise WindowError(f"invalid duration {text!r} (expected e.g. 5m, 1h, 30d)")
    total = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text.strip()))
    if total <= 0 or total != int(total):
        raise WindowError(f"invalid duration {text!r}: must be a positive whole number of seconds")
    return int(total)


def format_duration(seconds: int) -> str:
    """Format seconds as the shortest Prometheus duration (`86400` -> `1d`, `5400` -> `1h30m`)."""
    if seconds <= 0:
        raise WindowError("duration must be positive")
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_time(text: str | float | int | None, now: datetime) -> datetime:
    """Parse a time given as RFC 3339 or unix seconds; None means `now`.

    Returns:
        An aware UTC datetime.

    Raises:
        WindowError: the text is neither.
    """
    if text is None or text == "":
        return now.astimezone(UTC)
    if isinstance(text, int | float):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    except (OverflowError, OSError):
        raise WindowError(f"time {text!r} is out of range") from None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise WindowError(f"invalid time {text!r} (expected RFC 3339 or unix seconds)") from None
    if value.tzinfo is None:
        raise WindowError(f"time {text!r} has no time zone offset")
    return value.astimezone(UTC)
