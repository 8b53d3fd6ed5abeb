"""SLO windows: rolling (`30d`) or calendar-aligned (`week`, `month`, `quarter`) in a time zone.

A calendar window is the period containing the evaluation time `at`, counted in local days of its
time zone (so a month holds 28 to 31 days, and a day 23 or 25 hours across a DST change); the
status covers its start up to `at`, the budget is that of the whole period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sloapi.engine.durations import DurationTooLongError, format_duration, parse_duration
from sloapi.errors import WindowError

Calendar = Literal["week", "month", "quarter"]
CALENDARS: tuple[str, ...] = get_args(Calendar)
ACCEPTED = (
    "a duration such as 30d, or week, month or quarter (optionally @Area/City, e.g. month@Europe/Paris)"
)


@dataclass(frozen=True)
class Window:
    """The window an SLO is measured over.

    Attributes:
        kind: `rolling` (the last `seconds`), or calendar `week` / `month` / `quarter` in `timezone`.
        seconds: the rolling length; unused for calendar windows.
        timezone: IANA time zone of calendar windows.
    """

    kind: Literal["rolling", "week", "month", "quarter"] = "rolling"
    seconds: int = 30 * 86400
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        """`30d`, `week`, `month` or `quarter` (with `@Zone` unless UTC)."""
        if self.kind == "rolling":
            return format_duration(self.seconds)
        return self.kind if self.timezone == "UTC" else f"{self.kind}@{self.timezone}"

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The full window containing `at`: (start, end) in UTC; end is `at` for rolling windows."""
        if self.kind == "rolling":
            return at - timedelta(seconds=self.seconds), at
        start, end = calendar_bounds(self.kind, at.astimezone(ZoneInfo(self.timezone)))
        return start.astimezone(UTC), end.astimezone(UTC)

    def length_seconds(self, at: datetime) -> int:
        """The full window's length in seconds (a calendar period's real length)."""
        start, end = self.bounds(at)
        return int((end - start).total_seconds())


def _month_start(local: datetime, month_index: int) -> datetime:
    """Local midnight of the first day of month `month_index` (year * 12 + month - 1)."""
    year, month = divmod(month_index, 12)
    return local.replace(year=year, month=month + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def calendar_bounds(kind: str, local: datetime) -> tuple[datetime, datetime]:
    """(start, end) local midnights of the `kind` period containing the local time `local`
    (weeks start on Monday, quarters in January, April, July and October)."""
    if kind == "week":
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    index = local.year * 12 + local.month - 1
    months = 3 if kind == "quarter" else 1
    first = index - index % months
    return _month_start(local, first), _month_start(local, first + months)


def _zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"invalid window: unknown time zone {zone!r} (an IANA name such as Europe/Paris)"
        ) from None
    return zone


def parse_window(value: object, timezone: str = "UTC") -> Window:
    """Parse a window: a duration (`30d`), `week`, `month`, `quarter`, `month@Europe/Paris`, or a
    mapping (`{calendar: month, timezone: ...}` or `{rolling: 30d}`).

    Args:
        value: the window text or mapping.
        timezone: the zone of a calendar window that names none.

    Raises:
        WindowError: naming the window and what is accepted.
    """
    if isinstance(value, dict):
        kind = value.get("calendar")
        if kind is None and "rolling" in value:
            return Window("rolling", parse_duration(str(value["rolling"]), "window"))
        return parse_window(str(kind), str(value.get("timezone", timezone)))
    if not isinstance(value, str) or not value.strip():
        raise WindowError(f"invalid window {value!r}: expected {ACCEPTED}")
    text, at_sign, zone = value.strip().partition("@")
    if text in CALENDARS:
        if at_sign and not zone:
            raise WindowError(f"invalid window {value!r}: empty time zone after @")
        return Window(text, 0, _zone(zone or timezone))  # type: ignore[arg-type]
    if at_sign:
        raise WindowError(f"invalid window {value!r}: a time zone applies to week, month or quarter only")
    try:
        return Window("rolling", parse_duration(text, "window"))
    except DurationTooLongError:
        raise
    except WindowError:
        raise WindowError(f"invalid window {value!r}: expected {ACCEPTED}") from None
