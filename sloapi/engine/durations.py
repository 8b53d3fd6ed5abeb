"""Prometheus-style durations (`5m`, `1h30m`, `30d`) and RFC 3339 / unix times, parsed strictly.

Durations follow Prometheus's own grammar: each unit at most once, from the largest to the
smallest (`1h30m`, not `30m1h` nor `30d30d`). Every parse is total: any text gives a value or a
`WindowError` naming the parameter and what is accepted, never an `OverflowError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sloapi.errors import WindowError

_UNITS = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_DURATION = re.compile(
    r"(?:(?P<y>\d{1,10})y)?(?:(?P<w>\d{1,10})w)?(?:(?P<d>\d{1,10})d)?(?:(?P<h>\d{1,10})h)?"
    r"(?:(?P<m>\d{1,10})m)?(?:(?P<s>\d{1,10})s)?(?:(?P<ms>\d{1,10})ms)?"
)
MAX_DURATION_SECONDS = 100 * 31536000
"""The longest duration accepted anywhere (100y): it keeps date arithmetic far from overflow;
what a request may compute is bounded lower, by `SLOAPI_MAX_WINDOW`."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""The earliest evaluation time accepted: before it no Prometheus holds samples, and a window
reaching back from it stays far from `datetime.min`."""
_UNIX = re.compile(r"\d{1,12}(?:\.\d{1,9})?")
_SPACED_OFFSET = re.compile(r"(.*\d) (\d\d:\d\d)")  # `+14:00` sent raw in a query string


class DurationTooLongError(WindowError):
    """A well-formed duration longer than `MAX_DURATION_SECONDS`."""


def parse_duration(text: str, name: str = "duration") -> int:
    """Parse a Prometheus duration into whole seconds.

    Args:
        text: e.g. `5m`, `1h30m`, `30d`.
        name: the parameter's name, for the error message.

    Returns:
        The duration in seconds, in (0, 100y].

    Raises:
        WindowError: not a duration, zero, longer than 100y or not a whole number of seconds.
    """
    expected = "expected a duration such as 5m, 1h30m or 30d (units y w d h m s ms, largest first)"
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or not any(match.groupdict().values()):
        raise WindowError(f"invalid {name} {text!r}: {expected}")
    total = sum(int(n) * _UNITS[u] for u, n in match.groupdict().items() if n)
    if total <= 0 or total != int(total):
        raise WindowError(f"invalid {name} {text!r}: must be a positive whole number of seconds")
    if total > MAX_DURATION_SECONDS:
        raise DurationTooLongError(f"invalid {name} {text!r}: longer than the maximum of 100y")
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


def _from_text(text: str, name: str) -> datetime:
    expected = "expected RFC 3339 with an offset (2026-11-01T00:00:00Z) or unix seconds"
    if _UNIX.fullmatch(text):
        return datetime.fromtimestamp(float(text), UTC)
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise WindowError(f"invalid {name} {text!r}: {expected}") from None
    if value.tzinfo is None:
        raise WindowError(f"invalid {name} {text!r}: no time zone offset ({expected})")
    return value


def parse_time(text: str | float | int | None, now: datetime, name: str = "at") -> datetime:
    """Parse a time parameter (`name`, default `at`): RFC 3339 with an offset or unix seconds;
    None means `now`.

    Returns:
        An aware UTC datetime, not before `EARLIEST`.

    Raises:
        WindowError: not a time, or before 2000-01-01T00:00:00Z.
    """
    if text is None or text == "":
        return now.astimezone(UTC)
    try:
        if isinstance(text, int | float):
            value = datetime.fromtimestamp(float(text), UTC)
        else:
            value = _from_text(text.strip(), name)
        value = value.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        raise WindowError(f"invalid {name} {text!r}: out of range") from None
    if value < EARLIEST:
        raise WindowError(f"invalid {name} {text!r}: must not be before {EARLIEST.isoformat()}")
    return value
