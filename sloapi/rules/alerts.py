"""Multi-window multi-burn-rate alert tiers (SRE Workbook), scaled to the SLO's period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sloapi.engine.durations import parse_duration
from sloapi.specs.model import SLOSpec

BASE_PERIOD_SECONDS = 30 * 86400


@dataclass(frozen=True)
class BurnTier:
    """One alert condition: both windows burn faster than `factor`.

    Attributes:
        severity: `page` or `ticket`.
        long_window: e.g. `1h`.
        short_window: e.g. `5m`.
        budget_share: share of the budget spent in `long_window` when it fires (0.02 = 2 %).
        factor: burn-rate threshold for the SLO's period.
        can_fire: False when factor x budget exceeds 1 (the error ratio would need to be > 100 %).
    """

    severity: str
    long_window: str
    short_window: str
    budget_share: Decimal
    factor: Decimal
    can_fire: bool

    @property
    def name(self) -> str:
        """`page 1h/5m`."""
        return f"{self.severity} {self.long_window}/{self.short_window}"

    @property
    def long_seconds(self) -> int:
        """The long window in seconds."""
        return parse_duration(self.long_window)

    @property
    def short_seconds(self) -> int:
        """The short window in seconds."""
        return parse_duration(self.short_window)

    def threshold_expr(self, budget: Decimal) -> str:
        """The error-ratio threshold as the rules write it: `(14.4 * 0.001)`."""
        return f"({self.factor} * {budget})"

    def threshold(self, budget: Decimal) -> float:
        """The value Prometheus computes from `threshold_expr` (a float64 product)."""
        return float(self.factor) * float(budget)


# (severity, long, short, budget share, long window seconds): 14.4x/6x page, 3x/1x ticket at 30d.
_TIERS = (
    ("page", "1h", "5m", Decimal("0.02"), 3600),
    ("page", "6h", "30m", Decimal("0.05"), 21600),
    ("ticket", "1d", "2h", Decimal("0.10"), 86400),
    ("ticket", "3d", "6h", Decimal("0.10"), 259200),
)


def tiers_for(period_seconds: int, budget: Decimal) -> list[BurnTier]:
    """The four tiers with factors scaled to `period_seconds` (14.4, 6, 3, 1 for 30 days)."""
    tiers = []
    for severity, long_w, short_w, share, long_seconds in _TIERS:
        factor = (share * Decimal(period_seconds) / Decimal(long_seconds)).normalize()
        tiers.append(BurnTier(severity, long_w, short_w, share, factor, can_fire=factor * budget < 1))
    return tiers


def spec_tiers(spec: SLOSpec) -> list[BurnTier]:
    """The tiers the generated rules alert on for `spec` (disabled severities left out)."""
    alerting = spec.alerting
    if alerting is None:
        return []
    off = {"page": alerting.page_disabled, "ticket": alerting.ticket_disabled}
    return [t for t in tiers_for(spec.window.seconds, spec.objective.budget_decimal) if not off[t.severity]]
