"""Pure monthly report maths over pandas: one SLO's per-step series in, a typed SLOReport out.

Series convention: a DataFrame indexed by *step end* times (UTC, aware), one row per step, with
either ``errors`` and ``total`` (or ``good`` and ``total``) events per step, or ``error_ratio``
(raw ratio SLIs, time-weighted). A missing row or NaN is a step without data (it lowers coverage
and counts neither good nor bad); ``total == 0`` is a step without traffic (neutral).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from sloapi.reports.model import (
    DailySLI,
    ErrorBudget,
    Incident,
    MonthChange,
    SLOReport,
)
from sloapi.reports.month import Month

COVERAGE_WARNING = 0.99
MET_TOLERANCE = 1e-12  # float noise must not turn an exactly met objective into a miss


@dataclass(frozen=True)
class SLOSeries:
    """One SLO's identity and its month of per-step data.

    Attributes:
        id: The SLO id (``<service>-<name>``).
        objective: Objective as an exact ratio, e.g. ``Decimal("0.999")``.
        frame: Per-step data, see the module docstring.
        service: Service name of the spec.
        name: SLO name within the service.
        description: Free text.
        labels: Spec and SLO labels (``component`` feeds the per-component summary).
    """

    id: str
    objective: Decimal
    frame: pd.DataFrame
    service: str = ""
    name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``events`` or ``ratio``."""
        return "ratio" if "error_ratio" in self.frame.columns else "events"


@dataclass(frozen=True)
class ReportOptions:
    """Knobs of the report maths.

    Attributes:
        step: Step of the series.
        incident_burn_rate: A step burns fast when its burn rate reaches this.
        incident_merge_gap: Burning steps closer than this belong to one incident.
        retention_start: Oldest instant Prometheus still holds, when known.
    """

    step: timedelta = timedelta(minutes=1)
    incident_burn_rate: float = 10.0
    incident_merge_gap: timedelta = timedelta(minutes=5)
    retention_start: datetime | None = None


@dataclass(frozen=True)
class _Steps:
    """Aligned per-step arrays of one SLO over the month's grid."""

    index: pd.DatetimeIndex
    covered: np.ndarray
    ratio: np.ndarray
    errors: np.ndarray | None
    total: np.ndarray | None


def step_grid(month: Month, step: timedelta, now: datetime) -> pd.DatetimeIndex:
    """Step-end times of the month's elapsed part: ``start + step`` .. ``min(end, now)``."""
    end = min(month.end, now.astimezone(UTC))
    first = month.start + step
    if end < first:
        return pd.DatetimeIndex([], tz=UTC)
    return pd.date_range(first, end, freq=step, tz=UTC)


def _align(series: SLOSeries, grid: pd.DatetimeIndex) -> _Steps:
    frame = series.frame
    if frame.index.tz is None:
        frame = frame.tz_localize(UTC)
    frame = frame[~frame.index.duplicated(keep="last")].reindex(grid)
    if series.kind == "ratio":
        raw = frame["error_ratio"].to_numpy(dtype=float)
        covered = np.isfinite(raw)
        ratio = np.where(covered, np.clip(np.nan_to_num(raw), 0.0, 1.0), 0.0)
        return _Steps(grid, covered, ratio, None, None)
    total = frame["total"].to_numpy(dtype=float)
    if "errors" in frame.columns:
        errors = frame["errors"].to_numpy(dtype=float)
    else:
        errors = total - frame["good"].to_numpy(dtype=float)
    covered = np.isfinite(total)  # no error series on a step with traffic means no errors
    total = np.where(covered, np.maximum(np.nan_to_num(total, posinf=0.0), 0.0), 0.0)
    errors = np.where(covered, np.clip(np.nan_to_num(errors, posinf=0.0), 0.0, total), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, errors / np.where(total > 0, total, 1.0), 0.0)
    return _Steps(grid, covered, ratio, errors, total)


def _budget(sli: float | None, objective: Decimal, month: Month, steps: _Steps) -> ErrorBudget:
    ratio = float(Decimal(1) - objective)
    allowed = ratio * month.seconds
    consumed_ratio = 0.0 if sli is None else (1.0 - sli) / ratio
    events: dict[str, float | None] = {}
    if steps.total is not None:
        total = float(steps.total.sum())
        bad = float(steps.errors.sum()) if steps.errors is not None else 0.0
        events = {
            "allowed_events": ratio * total,
            "consumed_events": bad,
            "remaining_events": ratio * total - bad,
        }
    return ErrorBudget(
        ratio=ratio,
        allowed_seconds=allowed,
        consumed_seconds=consumed_ratio * allowed,
        remaining_seconds=(1.0 - consumed_ratio) * allowed,
        consumed_ratio=consumed_ratio,
        remaining_ratio=1.0 - consumed_ratio,
        **events,
    )


def _sli(steps: _Steps) -> float | None:
    if steps.total is not None and steps.errors is not None:
        total = float(steps.total.sum())
        return None if total <= 0 else _unit(1.0 - float(steps.errors.sum()) / total)
    if not steps.covered.any():
        return None
    return _unit(1.0 - float(steps.ratio[steps.covered].mean()))


def _unit(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _step_cost(steps: _Steps, budget_ratio: float, step: timedelta) -> np.ndarray:
    """Each step's share of the month's error budget (sums to consumed_ratio)."""
    if steps.total is not None and steps.errors is not None:
        total = float(steps.total.sum())
        if total <= 0:
            return np.zeros(len(steps.index))
        return steps.errors / (budget_ratio * total)
    covered_seconds = float(steps.covered.sum()) * step.total_seconds()
    if covered_seconds <= 0:
        return np.zeros(len(steps.index))
    return steps.ratio * step.total_seconds() / (budget_ratio * covered_seconds)


def find_incidents(
    steps_index: pd.DatetimeIndex,
    burning: np.ndarray,
    burn: np.ndarray,
    cost: np.ndarray,
    *,
    step: timedelta,
    merge_gap: timedelta,
) -> list[Incident]:
    """Group burning steps into incidents.

    Args:
        steps_index: Step-end times.
        burning: Whether each step burned at or above the threshold.
        burn: Each step's burn rate.
        cost: Each step's share of the month's budget.
        step: Step length.
        merge_gap: Burning steps separated by less than this join one incident.

    Returns:
        Incidents in time order; each starts at its first step's start and ends at its last
        step's end, and its budget counts every step in between.
    """
    positions = np.flatnonzero(burning)
    if positions.size == 0:
        return []
    ends = steps_index[positions]
    gaps = (ends[1:] - step) - ends[:-1]
    breaks = np.flatnonzero(np.asarray(gaps >= merge_gap)) + 1
    incidents = []
    for group in np.split(positions, breaks):
        first, last = int(group[0]), int(group[-1])
        start = steps_index[first] - step
        end = steps_index[last]
        incidents.append(
            Incident(
                start=start.to_pydatetime(),
                end=end.to_pydatetime(),
                duration_seconds=(end - start).total_seconds(),
                budget_consumed_ratio=float(cost[first : last + 1].sum()),
                peak_burn_rate=float(burn[first : last + 1].max()),
            )
        )
    return incidents


def _day_starts(month: Month) -> list[datetime]:
    """Local midnights from the month's first day to the day after its last (UTC, aware)."""
    first = datetime(month.year, month.month, 1, tzinfo=month.zone)
    days = []
    day = first.date()
    while True:
        moment = datetime(day.year, day.month, day.day, tzinfo=month.zone).astimezone(UTC)
        days.append(moment)
        if moment >= month.end:
            return days
        day += timedelta(days=1)


def _daily(steps: _Steps, month: Month, step: timedelta, cost: np.ndarray) -> list[DailySLI]:
    if len(steps.index) == 0:
        return []
    bounds = _day_starts(month)
    edges = np.array([moment.timestamp() for moment in bounds])
    starts = steps.index.as_unit("ns").asi8 / 1e9 - step.total_seconds()
    day_of_step = np.searchsorted(edges, starts, side="right") - 1
    count = int(day_of_step.max()) + 1

    def per_day(values: np.ndarray) -> np.ndarray:
        return np.bincount(day_of_step, weights=values, minlength=count)

    size = np.bincount(day_of_step, minlength=count)
    covered = per_day(steps.covered.astype(float))
    bad = per_day(steps.ratio * steps.covered)
    remaining = 1.0 - np.cumsum(per_day(cost))
    errors = per_day(steps.errors) if steps.errors is not None else None
    total = per_day(steps.total) if steps.total is not None else None
    result = []
    for i in range(count):
        if size[i] == 0:
            continue
        events: dict[str, float] = {}
        if total is not None and errors is not None:
            sli = None if total[i] <= 0 else _unit(1.0 - errors[i] / total[i])
            events = {"total_events": float(total[i]), "error_events": float(errors[i])}
        else:
            sli = None if covered[i] <= 0 else _unit(1.0 - bad[i] / covered[i])
        result.append(
            DailySLI(
                date=bounds[i].astimezone(month.zone).date(),
                sli=sli,
                coverage_ratio=float(covered[i] / size[i]),
                budget_remaining_ratio=float(remaining[i]),
                **events,
            )
        )
    return result


def _warnings(month: Month, coverage: float, sli: float | None, options: ReportOptions) -> list[str]:
    notes = []
    if coverage < COVERAGE_WARNING:
        notes.append(f"data coverage {coverage:.2%} is under {COVERAGE_WARNING:.0%}")
    if options.retention_start is not None and options.retention_start > month.start:
        notes.append(
            "Prometheus retention starts at "
            f"{options.retention_start.astimezone(UTC):%Y-%m-%d %H:%M} UTC, after the month's start"
        )
    if sli is None:
        notes.append("no traffic or no data in the month: the error budget is untouched")
    return notes


def _change(sli: float | None, consumed: float, previous: SLOReport | None) -> MonthChange | None:
    if previous is None:
        return None
    return MonthChange(
        previous_sli=previous.sli,
        sli_change=None if sli is None or previous.sli is None else sli - previous.sli,
        consumed_ratio_change=consumed - previous.error_budget.consumed_ratio,
    )


def compute_slo(
    series: SLOSeries,
    month: Month,
    now: datetime,
    options: ReportOptions | None = None,
    previous: SLOReport | None = None,
) -> SLOReport:
    """Compute one SLO's monthly report.

    Args:
        series: The SLO and its per-step data (rows outside the month are ignored).
            Event SLIs: a step is covered when ``total`` has a value; a missing error
            value on a covered step is 0 (Prometheus returns nothing when no bad event exists).
        month: The calendar month.
        now: Current time; a month still in progress is computed up to it.
        options: Step, incident threshold and merge gap, retention start.
        previous: The SLO's report of the previous month, for the month-over-month change.

    Returns:
        The SLO's report; no NaN or infinity anywhere.

    Raises:
        ValueError: The objective is not strictly between 0 and 1.
    """
    options = options or ReportOptions()
    if not Decimal(0) < series.objective < Decimal(1):
        raise ValueError(f"{series.id}: objective {series.objective} must lie in (0, 1)")
    step = options.step
    steps = _align(series, step_grid(month, step, now))
    budget_ratio = float(Decimal(1) - series.objective)
    sli = _sli(steps)
    budget = _budget(sli, series.objective, month, steps)
    cost = _step_cost(steps, budget_ratio, step)
    burn = steps.ratio / budget_ratio
    burning = steps.covered & (burn >= options.incident_burn_rate)
    if steps.total is not None:
        burning &= steps.total > 0
    daily = _daily(steps, month, step, cost)
    judged = [day for day in daily if day.sli is not None]
    coverage = float(steps.covered.mean()) if len(steps.index) else 0.0
    return SLOReport(
        id=series.id,
        service=series.service,
        name=series.name,
        description=series.description,
        kind=series.kind,
        labels=dict(series.labels),
        objective=float(series.objective),
        sli=sli,
        met=None if sli is None else sli >= float(series.objective) - MET_TOLERANCE,
        error_budget=budget,
        downtime_seconds=float(steps.ratio[steps.covered].sum()) * step.total_seconds(),
        coverage_ratio=coverage,
        total_events=None if steps.total is None else float(steps.total.sum()),
        error_events=None if steps.errors is None else float(steps.errors.sum()),
        incidents=find_incidents(
            steps.index, burning, burn, cost, step=step, merge_gap=options.incident_merge_gap
        ),
        worst_day=min(judged, key=lambda day: (day.sli, day.date)) if judged else None,
        daily=daily,
        change=_change(sli, budget.consumed_ratio, previous),
        warnings=_warnings(month, coverage, sli, options),
    )
