"""One SLO's month for the report: its steps on the one grid, judged by the engine's maths.

Series convention: a DataFrame indexed by *step end* times (UTC, aware), one row per step, with
either ``errors`` and ``total`` (or ``good`` and ``total``) events per step, or ``error_ratio``
(raw ratio SLIs, time-weighted). A missing row or NaN is a step without data (it lowers coverage
and counts neither good nor bad); ``total == 0`` is a step without traffic (neutral). The SLI,
the budget, "no data" and "no traffic" come from `sloapi.engine` exactly as for the status API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

from sloapi.engine.attribution import label_shares, merge_constant_labels, period_shares
from sloapi.engine.exclusions import Exclusion, exclude
from sloapi.engine.figures import (
    Span,
    WindowFigures,
    event_error_ratio,
    good_to_errors,
    mean_error_ratio,
    verdict,
)
from sloapi.engine.grid import align_end, step_grid
from sloapi.engine.incidents import Incident as BurnIncident
from sloapi.engine.incidents import burn_incidents, cost_per_step
from sloapi.engine.objective import Objective
from sloapi.engine.steps import StepArrays, StepSeries
from sloapi.reports.model import (
    BudgetSpent,
    DailySLI,
    ErrorBudget,
    ExcludedWindow,
    Incident,
    MonthChange,
    SLOReport,
    SpentLabel,
    SpentPeriod,
)
from sloapi.reports.month import Month

COVERAGE_WARNING = 0.99


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
        breakdown: Event SLIs: (label values, error events per step indexed by step end) of
            each label set of the error query, for "where the budget went"; None: not fetched.
    """

    id: str
    objective: Decimal
    frame: pd.DataFrame
    service: str = ""
    name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    breakdown: tuple[tuple[dict[str, str], pd.Series], ...] | None = None

    @property
    def kind(self) -> str:
        """``events`` or ``ratio``."""
        return "ratio" if "error_ratio" in self.frame.columns else "events"

    def steps(self, grid: pd.DatetimeIndex, step_seconds: int) -> StepSeries:
        """The series on ``grid`` (rows off the grid are ignored, absent steps are NaN)."""
        frame = self.frame
        if frame.index.tz is None:
            frame = frame.tz_localize(UTC)
        if not frame.index.equals(grid):  # fetched series already lie on the grid
            frame = frame[~frame.index.duplicated(keep="last")].reindex(grid)
        if self.kind == "ratio":
            return StepSeries("ratio", step_seconds, grid, error_ratio=frame["error_ratio"])
        total = frame["total"]
        errors = frame["errors"] if "errors" in frame.columns else good_to_errors(frame["good"], total)
        return StepSeries("events", step_seconds, grid, errors=errors, total=total)


@dataclass(frozen=True)
class ReportOptions:
    """Knobs of the report maths.

    Attributes:
        step: Step of the series.
        incident_burn_rate: A step burns fast when its burn rate reaches this.
        incident_merge_gap: Burning steps closer than this belong to one incident.
        retention_start: Oldest instant Prometheus still holds, when known.
        exclusions: Maintenance windows left out of the SLI and the budget (those of each SLO
            apply to it).
    """

    step: timedelta = timedelta(minutes=1)
    incident_burn_rate: float = 10.0
    incident_merge_gap: timedelta = timedelta(minutes=5)
    retention_start: datetime | None = None
    exclusions: tuple[Exclusion, ...] = ()


def month_grid(month: Month, step: timedelta, now: datetime) -> pd.DatetimeIndex:
    """Step ends of the month's elapsed part, ``start + step`` .. ``min(end, now)``, on the
    engine's grid (aligned on ``month.start``)."""
    seconds = int(step.total_seconds())
    return _grid(month, seconds, align_end(month.start, min(month.end, now.astimezone(UTC)), seconds))


@lru_cache(maxsize=16)
def _grid(month: Month, seconds: int, end: datetime) -> pd.DatetimeIndex:
    """The grid of `month_grid`, built once for all the SLOs of a report (an index is immutable)."""
    return step_grid(month.start, end, seconds)


@lru_cache(maxsize=16)
def _day_starts(month: Month) -> tuple[datetime, ...]:
    """Local midnights from the month's first day to the day after its last (UTC, aware)."""
    first = datetime(month.year, month.month, 1, tzinfo=month.zone)
    days = []
    day = first.date()
    while True:
        moment = datetime(day.year, day.month, day.day, tzinfo=month.zone).astimezone(UTC)
        days.append(moment)
        if moment >= month.end:
            return tuple(days)
        day += timedelta(days=1)


def _daily(steps: StepArrays, month: Month, cost: np.ndarray) -> list[DailySLI]:
    """Per local day: SLI (engine formulas), coverage and the budget left at its end (None on
    a day without any sample: the burn-down shows a gap there)."""
    if len(steps.index) == 0:
        return []
    bounds = _day_starts(month)
    edges = np.array([moment.timestamp() for moment in bounds])
    starts = steps.index.as_unit("ns").asi8 / 1e9 - steps.step_seconds  # in time order
    first = np.searchsorted(starts, edges)  # steps starting before each local midnight
    day_of_step = np.repeat(np.arange(-1, len(edges)), np.diff(first, prepend=0, append=len(starts)))
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
            ratio = event_error_ratio(float(errors[i]), float(total[i]))
            events = {"total_events": float(total[i]), "error_events": float(errors[i])}
        else:
            ratio = mean_error_ratio(float(bad[i]), float(covered[i]))
        result.append(
            DailySLI(
                date=bounds[i].astimezone(month.zone).date(),
                sli=None if ratio is None else 1.0 - ratio,
                coverage_ratio=float(covered[i] / size[i]),
                budget_remaining_ratio=float(remaining[i]) if covered[i] > 0 else None,
                **events,
            )
        )
    return result


def _budget(fig: WindowFigures) -> ErrorBudget:
    return ErrorBudget(
        ratio=fig.budget_ratio,
        allowed_seconds=fig.allowed_seconds,
        consumed_seconds=fig.consumed_seconds,
        remaining_seconds=fig.remaining_seconds,
        consumed_ratio=fig.consumed_ratio,
        remaining_ratio=fig.remaining_ratio,
        allowed_events=fig.budget_events,
        consumed_events=fig.error_events,
        remaining_events=fig.remaining_events,
    )


def _warnings(month: Month, fig: WindowFigures, options: ReportOptions) -> list[str]:
    notes = []
    if fig.coverage_ratio < COVERAGE_WARNING:
        notes.append(f"data coverage {fig.coverage_ratio:.2%} is under {COVERAGE_WARNING:.0%}")
    if options.retention_start is not None and options.retention_start > month.start:
        notes.append(
            "Prometheus retention starts at "
            f"{options.retention_start.astimezone(UTC):%Y-%m-%d %H:%M} UTC, after the month's start"
        )
    judged = verdict(fig)
    if judged == "no_data":
        notes.append("no data in the month: neither met nor missed, the error budget is untouched")
    elif judged == "no_traffic":
        notes.append("no traffic in the month: neither met nor missed, the error budget is untouched")
    return notes


def _budget_spent(
    series: SLOSeries,
    arrays: StepArrays,
    objective: Objective,
    incidents: list[BurnIncident],
    consumed_ratio: float,
) -> BudgetSpent:
    """Where the month's budget went: incidents and label values (`sloapi.engine.attribution`)."""
    periods = [
        SpentPeriod(
            kind=row.kind,
            start=row.incident.start if row.incident else None,
            end=row.incident.end if row.incident else None,
            consumed_ratio=row.consumed_ratio,
            share=row.share,
        )
        for row in period_shares(arrays, objective, incidents, consumed_ratio)
    ]
    if series.breakdown is None or arrays.errors is None:
        return BudgetSpent(periods=periods)
    groups = merge_constant_labels(
        [(labels, values.reindex(arrays.index).to_numpy(dtype=float)) for labels, values in series.breakdown]
    )
    labels = [SpentLabel(**vars(row)) for row in label_shares(arrays, objective, groups, consumed_ratio)]
    return BudgetSpent(
        periods=periods, breakdown_labels=sorted({k for g, _ in groups for k in g}), labels=labels
    )


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
    objective = Objective.from_ratio(series.objective)
    step_seconds = int(options.step.total_seconds())
    grid = month_grid(month, options.step, now)
    own = [item for item in options.exclusions if item.applies_to(series.id)]
    arrays, span, removed = exclude(series.steps(grid, step_seconds).arrays(), own, len(grid) * step_seconds)
    fig = arrays.figures(objective, Span(step_seconds, month.seconds, span))
    cost = cost_per_step(arrays, objective)
    incidents = burn_incidents(
        arrays,
        objective,
        threshold=options.incident_burn_rate,
        merge_gap=options.incident_merge_gap,
        cost=cost,
    )
    daily = _daily(arrays, month, cost)
    judged = [day for day in daily if day.sli is not None]
    result = verdict(fig)
    return SLOReport(
        id=series.id,
        service=series.service,
        name=series.name,
        description=series.description,
        kind=series.kind,
        labels=dict(series.labels),
        objective=float(series.objective),
        sli=fig.sli,
        met=None if result in ("no_data", "no_traffic") else result == "met",
        verdict=result,
        error_budget=_budget(fig),
        downtime_seconds=float(arrays.ratio[arrays.covered].sum()) * step_seconds,
        coverage_ratio=fig.coverage_ratio,
        total_events=fig.total_events,
        error_events=fig.error_events,
        incidents=[Incident(**vars(incident)) for incident in incidents],
        budget_spent=_budget_spent(series, arrays, objective, incidents, fig.consumed_ratio),
        excluded=[
            ExcludedWindow(**vars(item)) for item in own if item.end > month.start and item.start < month.end
        ],
        excluded_seconds=float(removed.sum()) * step_seconds,
        worst_day=min(judged, key=lambda day: (day.sli, day.date)) if judged else None,
        daily=daily,
        change=_change(fig.sli, fig.consumed_ratio, previous),
        warnings=_warnings(month, fig, options),
    )
