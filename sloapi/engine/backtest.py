"""Alert backtest: when the multi-window burn-rate alerts would have fired over recorded steps,
and how that compares with the incidents the report's finder sees (pure; docs/sloapi.md,
"Alert backtest").

On the step grid, the error ratio of a window of n steps ending at step k is
    event SLIs: sum(errors[k-n+1..k]) / sum(total[k-n+1..k])   (NaN when no event)
    raw SLIs:   mean of the covered steps' error ratios in the window
which for counters scraped at regular times is what `rate(err[w]) / rate(total[w])` gives at the
step's end (the extrapolation factors of `rate` cancel in the ratio). A tier fires at step k when
both windows' ratios are above its threshold (strictly, as `>` in PromQL) and, with the
low-traffic guard, its long window holds at least `min_events` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from sloapi.engine.incidents import Incident
from sloapi.engine.steps import StepArrays


@dataclass(frozen=True)
class TierWindows:
    """What one alert tier needs from the rules' definitions.

    Attributes:
        name: e.g. `page 1h/5m`.
        severity: `page` or `ticket`.
        short_seconds: the short window.
        long_seconds: the long window.
        threshold: the error ratio both windows must exceed (factor x budget).
        min_events: events the long window must hold (0: no guard).
    """

    name: str
    severity: str
    short_seconds: int
    long_seconds: int
    threshold: float
    min_events: int = 0


@dataclass(frozen=True)
class Detection:
    """One incident as one tier saw it.

    Attributes:
        incident: the incident.
        caught: whether the tier fired during it (or within its short window after its end).
        delay_seconds: from the incident's start to the first firing step (None when missed).
    """

    incident: Incident
    caught: bool
    delay_seconds: float | None


@dataclass(frozen=True)
class TierResult:
    """One tier's backtest.

    Attributes:
        tier: the tier.
        firing: the firing episodes (first and last firing step end), in time order.
        firing_seconds: steps firing x step length.
        detections: one per incident, in time order.
        alerts_without_incident: episodes that overlap no incident.
    """

    tier: TierWindows
    firing: list[tuple[datetime, datetime]]
    firing_seconds: float
    detections: list[Detection]
    alerts_without_incident: list[tuple[datetime, datetime]]

    @property
    def caught(self) -> int:
        """Incidents caught."""
        return sum(d.caught for d in self.detections)

    @property
    def missed(self) -> int:
        """Incidents missed."""
        return len(self.detections) - self.caught


def _window_sum(values: np.ndarray, steps: int) -> np.ndarray:
    """Sum of the last `steps` values at each position (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    lower = np.maximum(np.arange(1, len(values) + 1) - steps, 0)
    return cumulative[1:] - cumulative[lower]


def window_ratio(steps: StepArrays, seconds: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(error ratio, events) of the window of `seconds` ending at each step (NaN: nothing to
    judge; events None for raw SLIs)."""
    n = max(1, round(seconds / steps.step_seconds))
    with np.errstate(divide="ignore", invalid="ignore"):
        if steps.errors is not None and steps.total is not None:
            total = _window_sum(steps.total, n)
            ratio = np.where(total > 0, _window_sum(steps.errors, n) / np.where(total > 0, total, 1), np.nan)
            return ratio, total
        covered = _window_sum(steps.covered.astype(float), n)
        bad = _window_sum(np.where(steps.covered, steps.ratio, 0.0), n)
        return np.where(covered > 0, bad / np.where(covered > 0, covered, 1), np.nan), None


def tier_firing(steps: StepArrays, tier: TierWindows) -> np.ndarray:
    """Whether `tier` fires at each step end."""
    short, _ = window_ratio(steps, tier.short_seconds)
    long, events = window_ratio(steps, tier.long_seconds)
    with np.errstate(invalid="ignore"):
        firing = (short > tier.threshold) & (long > tier.threshold)
        if tier.min_events and events is not None:
            firing &= events >= tier.min_events
    return np.asarray(firing, dtype=bool)


def episodes(steps: StepArrays, firing: np.ndarray) -> list[tuple[datetime, datetime]]:
    """Maximal runs of firing steps as (first, last) step end times."""
    positions = np.flatnonzero(firing)
    if positions.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) > 1) + 1
    return [
        (steps.index[int(g[0])].to_pydatetime(), steps.index[int(g[-1])].to_pydatetime())
        for g in np.split(positions, breaks)
    ]


def _detect(
    incident: Incident, runs: list[tuple[datetime, datetime]], slack: timedelta
) -> tuple[Detection, list[int]]:
    """The detection of one incident and the runs that overlap it."""
    hits = [
        i for i, (first, last) in enumerate(runs) if last > incident.start and first <= incident.end + slack
    ]
    if not hits:
        return Detection(incident, False, None), []
    first = runs[hits[0]][0]
    delay = max(0.0, (first - incident.start).total_seconds())
    return Detection(incident, True, delay), hits


def backtest_tier(
    steps: StepArrays, tier: TierWindows, incidents: list[Incident], start: datetime
) -> TierResult:
    """Fire `tier` over `steps` and match its episodes with `incidents`.

    Only steps ending after `start` count (earlier ones are the windows' lead-in). An incident
    is caught when an episode overlaps it or starts within the short window after its end (the
    short window still holds its errors then); the delay runs from the incident's start to the
    first firing step (0 when already firing). Episodes that overlap no incident are alerts
    without an incident.
    """
    firing = tier_firing(steps, tier)
    firing &= np.asarray(steps.index > start)
    runs = episodes(steps, firing)
    slack = timedelta(seconds=tier.short_seconds)
    detections: list[Detection] = []
    matched: set[int] = set()
    for incident in incidents:
        detection, hits = _detect(incident, runs, slack)
        detections.append(detection)
        matched.update(hits)
    return TierResult(
        tier=tier,
        firing=runs,
        firing_seconds=float(firing.sum()) * steps.step_seconds,
        detections=detections,
        alerts_without_incident=[run for i, run in enumerate(runs) if i not in matched],
    )
