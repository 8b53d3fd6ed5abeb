"""What the pages show, derived from the API's status JSON (pure functions, no I/O).

Nothing here computes an SLI, a budget or a burn rate: those come from the status objects the
JSON API returns. This module only classifies them for display (alert tier, data badge, order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sloapi.rules.alerts import tiers_for

#: Display order of the states, worst first.
SEVERITY_ORDER = ("page", "ticket", "fine", "unknown")


@dataclass(frozen=True)
class TierView:
    """One multi-window alert tier as it stands now.

    Attributes:
        severity: ``page`` or ``ticket`` (what the tier raises when it fires).
        windows: e.g. ``1h / 5m``.
        factor: Burn-rate threshold of both windows.
        long_rate: Burn rate over the long window (None: no traffic or no data).
        short_rate: Burn rate over the short window.
        state: ``page`` or ``ticket`` when both windows reach the factor, ``fine`` when not,
            ``unknown`` when a rate is missing.
    """

    severity: str
    windows: str
    factor: float
    long_rate: float | None
    short_rate: float | None
    state: str


def tier_views(status: Mapping[str, Any], period_seconds: int) -> list[TierView]:
    """The SRE Workbook tiers (page 1h/5m, 6h/30m; ticket 1d/2h, 3d/6h) over the status' burn rates."""
    rates: Mapping[str, float | None] = status.get("burn_rates") or {}
    budget = Decimal(str(status["error_budget"]["total_ratio"]))
    views = []
    for tier in tiers_for(period_seconds, budget):
        long_rate, short_rate = rates.get(tier.long_window), rates.get(tier.short_window)
        factor = float(tier.factor)
        if long_rate is None or short_rate is None:
            state = "unknown"
        elif tier.can_fire and long_rate >= factor and short_rate >= factor:
            state = tier.severity
        else:
            state = "fine"
        views.append(
            TierView(tier.severity, f"{tier.long_window} / {tier.short_window}", factor, long_rate,
                     short_rate, state)
        )  # fmt: skip
    return views


def worst_state(tiers: Iterable[TierView]) -> str:
    """The most severe state among the tiers (``unknown`` only when no tier is known)."""
    states = {tier.state for tier in tiers}
    for state in SEVERITY_ORDER:
        if state in states:
            return state
    return "unknown"


#: Badges of the verdicts that judge nothing (``met`` and ``missed`` show in the figures).
VERDICT_BADGES = {"no_data": "no data", "no_traffic": "no traffic"}
UNJUDGED = frozenset(VERDICT_BADGES.values())


def data_badge(status: Mapping[str, Any]) -> str | None:
    """``no data`` or ``no traffic`` from the status' verdict, ``partial data`` when some steps of
    the window have no data, else None."""
    badge = VERDICT_BADGES.get(str(status.get("verdict")))
    if badge is None and (status.get("data") or {}).get("status") == "partial":
        return "partial data"
    return badge


def budget_order(status: Mapping[str, Any]) -> tuple[int, float, str]:
    """Sort key: least budget left first; SLOs without a figure last."""
    remaining = status["error_budget"].get("remaining_ratio")
    if remaining is None or status.get("sli") is None:
        return (1, 0.0, status["id"])
    return (0, float(remaining), status["id"])


def period_seconds(status: Mapping[str, Any]) -> int:
    """The status window's length in seconds."""
    start = datetime.fromisoformat(status["window_start"])
    end = datetime.fromisoformat(status["window_end"])
    return round((end - start).total_seconds())


@dataclass(frozen=True)
class Row:
    """One SLO on the overview page."""

    status: Mapping[str, Any]
    tiers: list[TierView]
    state: str
    badge: str | None

    @property
    def labels(self) -> Mapping[str, str]:
        """The SLO's labels."""
        return self.status.get("labels") or {}


def rows(statuses: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Overview rows, least budget left first."""
    out = []
    for status in sorted(statuses, key=budget_order):
        tiers = tier_views(status, period_seconds(status))
        badge = data_badge(status)
        out.append(Row(status, tiers, "unknown" if badge in UNJUDGED else worst_state(tiers), badge))
    return out


def label_values(rows_: Iterable[Row], key: str) -> list[str]:
    """Distinct values of label ``key`` among the rows, sorted."""
    return sorted({row.labels[key] for row in rows_ if row.labels.get(key)})


def matches(row: Row, filters: Mapping[str, str]) -> bool:
    """Whether the row's labels (or its service) carry every non-empty filter value."""
    for key, wanted in filters.items():
        if not wanted:
            continue
        value = row.status.get("service") if key == "service" else row.labels.get(key)
        if value != wanted:
            return False
    return True


def finite(value: float | None) -> bool:
    """A real number (not None, NaN or infinite)."""
    return value is not None and math.isfinite(value)
