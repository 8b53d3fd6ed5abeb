"""The typed SLO spec every input format is loaded into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sloapi.engine.durations import format_duration, parse_duration
from sloapi.engine.objective import Objective
from sloapi.engine.policy import BudgetPolicy
from sloapi.errors import WindowError

WINDOW_PLACEHOLDER = "{{.window}}"


@dataclass(frozen=True)
class EventsSLI:
    """An event SLI: PromQL rates of bad (or good) and total events, with `{{.window}}` in each."""

    total_query: str
    error_query: str | None = None
    good_query: str | None = None


@dataclass(frozen=True)
class RawSLI:
    """A raw SLI: a PromQL error ratio in [0, 1], with `{{.window}}`."""

    error_ratio_query: str


@dataclass(frozen=True)
class Window:
    """The window an SLO is measured over.

    Attributes:
        kind: `rolling` (the last `seconds`), or calendar `month` / `week` in `timezone`.
        seconds: the rolling length; unused for calendar windows.
        timezone: IANA time zone of calendar windows.
    """

    kind: Literal["rolling", "month", "week"] = "rolling"
    seconds: int = 30 * 86400
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        """`30d`, `month` or `week` (with `@Zone` unless UTC)."""
        if self.kind == "rolling":
            return format_duration(self.seconds)
        return self.kind if self.timezone == "UTC" else f"{self.kind}@{self.timezone}"

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The full window containing `at`: (start, end); end is `at` for rolling windows."""
        if self.kind == "rolling":
            return at - timedelta(seconds=self.seconds), at
        tz = ZoneInfo(self.timezone)
        local = at.astimezone(tz)
        if self.kind == "month":
            start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            year, month = divmod(start.year * 12 + start.month, 12)
            end = start.replace(year=year, month=month + 1)
        else:
            day = local.replace(hour=0, minute=0, second=0, microsecond=0)
            start = day - timedelta(days=day.weekday())
            end = start + timedelta(days=7)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))

    def length_seconds(self, at: datetime) -> int:
        """The full window's length in seconds (a calendar month's real length)."""
        start, end = self.bounds(at)
        return int((end - start).total_seconds())


def parse_window(value: object, timezone: str = "UTC") -> Window:
    """Parse a window: a duration (`30d`), `month`, `week`, `month@Europe/Paris`, or a mapping.

    Raises:
        WindowError: with the reason.
    """
    if isinstance(value, dict):
        kind = value.get("calendar")
        if kind is None and "rolling" in value:
            return Window("rolling", parse_duration(str(value["rolling"])))
        return parse_window(str(kind), str(value.get("timezone", timezone)))
    if not isinstance(value, str) or not value:
        raise WindowError(f"invalid window {value!r}")
    text, _, zone = value.partition("@")
    zone = zone or timezone
    if text in ("month", "week"):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise WindowError(f"unknown time zone {zone!r}") from None
        return Window(text, 0, zone)  # type: ignore[arg-type]
    return Window("rolling", parse_duration(text))


@dataclass(frozen=True)
class AlertSpec:
    """Sloth's `alerting` block."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    page_labels: dict[str, str] = field(default_factory=dict)
    page_annotations: dict[str, str] = field(default_factory=dict)
    page_disabled: bool = False
    ticket_labels: dict[str, str] = field(default_factory=dict)
    ticket_annotations: dict[str, str] = field(default_factory=dict)
    ticket_disabled: bool = False
    min_events: int = 0  # nines extension: burn-rate tiers need this many events in their long window


@dataclass(frozen=True)
class SLOSpec:
    """One SLO, whatever format it came from.

    Attributes:
        id: `<service>-<name>`, as Sloth builds it.
        service: the service.
        name: the SLO's name within the service.
        objective: exact objective (`Objective.from_percent("99.9")`).
        sli: an `EventsSLI` or a `RawSLI`.
        window: the default window of the SLO.
        labels: labels of the SLO (service-level labels merged with the SLO's own).
        description: free text.
        alerting: the alerting block.
        recipients: report recipients for this SLO.
        source: the file it was read from.
        policy: the error-budget policy (nines extension; defaults documented in
            `sloapi.engine.policy`).
    """

    id: str
    service: str
    name: str
    objective: Objective
    sli: EventsSLI | RawSLI
    window: Window = field(default_factory=Window)
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    alerting: AlertSpec | None = None
    recipients: tuple[str, ...] = ()
    source: str = ""
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)

    @property
    def objective_percent(self) -> Decimal:
        """The objective in percent, exact."""
        return self.objective.percent

    def queries(self, window: str) -> dict[str, str]:
        """The SLI's PromQL with `{{.window}}` replaced by `window`.

        Returns:
            `{"error": ..., "total": ...}` for event SLIs (error derived from good when needed)
            or `{"ratio": ...}` for raw SLIs.
        """
        if isinstance(self.sli, RawSLI):
            return {"ratio": self.sli.error_ratio_query.replace(WINDOW_PLACEHOLDER, window)}
        total = self.sli.total_query.replace(WINDOW_PLACEHOLDER, window)
        if self.sli.error_query is not None:
            error = self.sli.error_query.replace(WINDOW_PLACEHOLDER, window)
        else:
            good = (self.sli.good_query or "").replace(WINDOW_PLACEHOLDER, window)
            error = f"(({total}) - ({good}))"
        return {"error": error, "total": total}
