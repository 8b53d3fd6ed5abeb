"""Calendar months in an IANA time zone: parsing, bounds and whether a month is closed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sloapi.reports.errors import MonthError

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class Month:
    """One calendar month in a time zone.

    Attributes:
        year: Four-digit year.
        month: Month number, 1-12.
        tz: IANA zone name the month's days are counted in.
    """

    year: int
    month: int
    tz: str = "UTC"

    @property
    def key(self) -> str:
        """The month as ``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        """The month as words, e.g. ``October 2026``."""
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def zone(self) -> ZoneInfo:
        """The month's time zone."""
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        """First instant of the month (UTC, aware)."""
        return datetime(self.year, self.month, 1, tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """First instant after the month (UTC, aware)."""
        return self.next().start

    @property
    def seconds(self) -> float:
        """Length of the month in seconds (DST changes included)."""
        return (self.end - self.start).total_seconds()

    def next(self) -> Month:
        """The following month."""
        if self.month == 12:
            return Month(self.year + 1, 1, self.tz)
        return Month(self.year, self.month + 1, self.tz)

    def previous(self) -> Month:
        """The preceding month."""
        if self.month == 1:
            return Month(self.year - 1, 12, self.tz)
        return Month(self.year, self.month - 1, self.tz)

    def is_partial(self, now: datetime) -> bool:
        """True while the month is still in progress at ``now``."""
        return now < self.end

    def is_closed(self, now: datetime, grace: timedelta) -> bool:
        """True once the month has ended and the grace period has passed."""
        return now >= self.end + grace


def parse_month(text: str, tz: str = "UTC", now: datetime | None = None) -> Month:
    """Parse ``YYYY-MM`` into a Month, refusing months that have not started.

    Args:
        text: The month, e.g. ``2026-10``.
        tz: IANA zone name.
        now: The current time (aware); when given, a month starting later is refused.

    Returns:
        The month.

    Raises:
        MonthError: The text is malformed, the zone unknown, or the month lies in the future.
    """
    match = _MONTH_RE.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise MonthError(f"malformed month {text!r}: expected YYYY-MM, e.g. 2026-10")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MonthError(f"unknown time zone {tz!r}") from exc
    month = Month(int(match.group(1)), int(match.group(2)), tz)
    if now is not None and now < month.start:
        raise MonthError(
            f"month {month.key} has not started yet (it starts {month.start:%Y-%m-%d %H:%M} UTC)"
        )
    return month


def last_closed_month(now: datetime, tz: str = "UTC") -> Month:
    """The most recent month that has ended at ``now``."""
    local = now.astimezone(ZoneInfo(tz))
    return Month(local.year, local.month, tz).previous()
