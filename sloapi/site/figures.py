"""The figures behind the pages, fetched through the very functions the JSON API calls.

- overview: ``ServiceContext.statuses`` (``GET /api/v1/slos``);
- one SLO: ``ServiceContext.status`` (``GET /api/v1/slos/{id}``), ``compute_budget_series``
  (``GET /api/v1/slos/{id}/budget``) and, on the same query batch (so Prometheus answers each
  range query once), the engine's cleaned steps (``fetch_steps(...).arrays()``) for the per-step
  SLI drawn on the chart;
- incidents: ``compute_incidents`` over the report month up to the report's last whole step, with
  the report's threshold and merge gap: the monthly report's incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sloapi.deadline import Deadline
from sloapi.engine.grid import align_end
from sloapi.engine.incidents import Incident
from sloapi.engine.steps import StepArrays
from sloapi.prometheus import fetch_steps
from sloapi.reports.month import Month, parse_month
from sloapi.service import ServiceContext
from sloapi.specs import SLOSpec, Window
from sloapi.status import compute_budget_series, compute_incidents, window_span

CHART_POINTS = 720  # 30 days at one point per hour


@dataclass(frozen=True)
class SLOFigures:
    """Everything the SLO page shows.

    Attributes:
        status: The status JSON (as ``GET /api/v1/slos/{id}/status``).
        budget: The burn-down JSON (as ``GET /api/v1/slos/{id}/budget``).
        sli: Per-step SLI (NaN where a step has no data or no traffic), indexed by step end.
        covered: Whether each burn-down point's step had data.
        month: The calendar month of the incidents.
        incidents: The month's incidents so far, as its report finds them.
    """

    status: dict[str, Any]
    budget: dict[str, Any]
    sli: pd.Series
    covered: np.ndarray
    month: Month
    incidents: list[Incident]


def chart_step(window_seconds: float, raw_step: int) -> int:
    """Step of the charts: about CHART_POINTS points, a whole number of minutes, at least ``raw_step``."""
    step = int(window_seconds // CHART_POINTS) // 60 * 60
    return max(step, raw_step, 60)


def step_sli(steps: StepArrays) -> pd.Series:
    """SLI of each step (1 - the engine's error ratio); NaN where a step is not judged (no data,
    or no traffic)."""
    return pd.Series(np.where(steps.judged, 1.0 - steps.ratio, np.nan), index=steps.index, dtype=float)


def current_month(ctx: ServiceContext, at: datetime) -> Month:
    """The report month (report time zone) containing ``at``."""
    zone = ctx.settings.report_timezone
    return parse_month(at.astimezone(ZoneInfo(zone)).strftime("%Y-%m"), zone, now=at)


def month_incidents(
    ctx: ServiceContext, spec: SLOSpec, month: Month, at: datetime, deadline: Deadline | None = None
) -> list[Incident]:
    """The incidents of ``month`` up to ``at`` on the report's grid (steps from the month's start)
    with the report's threshold and merge gap, by ``deadline``."""
    settings = ctx.settings
    step = settings.raw_step_seconds
    end = align_end(month.start, min(month.end, at), step)
    return compute_incidents(
        ctx.prom.batch(deadline),
        spec,
        Window("rolling", round((end - month.start).total_seconds())),  # the month's start to `end`
        end,
        step_seconds=step,
        threshold=settings.report_incident_burn_rate,
        merge_gap=timedelta(seconds=settings.report_incident_merge_gap_seconds),
        exclusions=ctx.exclusions(spec.id),
    )


def slo_figures(
    ctx: ServiceContext, slo_id: str, at: datetime, deadline: Deadline | None = None
) -> SLOFigures:
    """The SLO page's figures at ``at``, by ``deadline`` (raises what the API's calls raise)."""
    spec = ctx.spec(slo_id)
    status = ctx.status(slo_id, None, at, deadline)
    window = ctx.window_for(spec, None, at, deadline)
    start, window_seconds, _span = window_span(window, at)
    step = chart_step(window_seconds, ctx.settings.raw_step_seconds)
    batch = ctx.prom.batch(deadline)
    budget = compute_budget_series(batch, spec, window, at, step, ctx.exclusions(spec.id))
    steps = fetch_steps(batch, spec, start, at, step).arrays()
    month = current_month(ctx, at)
    return SLOFigures(
        status=status,
        budget=budget,
        sli=step_sli(steps),
        covered=steps.covered,
        month=month,
        incidents=month_incidents(ctx, spec, month, at, deadline),
    )
