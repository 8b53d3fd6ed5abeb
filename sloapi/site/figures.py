"""The figures behind the pages, fetched through the very functions the JSON API calls.

- overview: ``ServiceContext.statuses`` (``GET /api/v1/slos``);
- one SLO: ``ServiceContext.status`` (``GET /api/v1/slos/{id}``), ``compute_budget_series``
  (``GET /api/v1/slos/{id}/budget``) and, on the same query batch (so Prometheus answers each
  range query once), ``fetch_steps`` for the per-step SLI drawn on the chart;
- incidents: the monthly report of this SLO (``ReportService.compute``, the report's incident
  finder).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sloapi.engine.fetch import StepSeries, fetch_steps
from sloapi.engine.status import compute_budget_series, window_span
from sloapi.reports.app import report_service
from sloapi.reports.model import SLOReport
from sloapi.reports.month import Month, parse_month
from sloapi.service import ServiceContext

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
        month_report: This SLO's report of that month (None when it could not be computed).
    """

    status: dict[str, Any]
    budget: dict[str, Any]
    sli: pd.Series
    covered: np.ndarray
    month: Month
    month_report: SLOReport | None


def chart_step(window_seconds: float, raw_step: int) -> int:
    """Step of the charts: about CHART_POINTS points, a whole number of minutes, at least ``raw_step``."""
    step = int(window_seconds // CHART_POINTS) // 60 * 60
    return max(step, raw_step, 60)


def step_sli(steps: StepSeries) -> pd.Series:
    """SLI of each step (1 - error ratio); NaN where a step has no data or no traffic."""
    if steps.kind == "ratio":
        assert steps.error_ratio is not None
        return (1.0 - steps.error_ratio.clip(0.0, 1.0)).astype(float)
    assert steps.errors is not None and steps.total is not None
    total = steps.total.where(steps.total > 0)
    return (1.0 - (steps.errors.fillna(0.0) / total).clip(0.0, 1.0)).astype(float)


def current_month(ctx: ServiceContext, at: datetime) -> Month:
    """The report month (report time zone) containing ``at``."""
    zone = ctx.settings.report_timezone
    return parse_month(at.astimezone(ZoneInfo(zone)).strftime("%Y-%m"), zone, now=at)


def month_report(ctx: ServiceContext, slo_id: str, month: Month, at: datetime) -> SLOReport | None:
    """This SLO's report of ``month`` as of ``at`` (the report service, limited to this SLO)."""
    service = dataclasses.replace(report_service(ctx), specs=[ctx.spec(slo_id)], clock=lambda: at)
    report = service.compute(month)
    return report.slos[0] if report.slos else None


def slo_figures(ctx: ServiceContext, slo_id: str, at: datetime) -> SLOFigures:
    """The SLO page's figures at ``at`` (raises what the API's calls raise)."""
    spec = ctx.spec(slo_id)
    status = ctx.status(slo_id, None, at)
    window = ctx.window_for(spec, None)
    start, window_seconds, _span = window_span(window, at)
    step = chart_step(window_seconds, ctx.settings.raw_step_seconds)
    batch = ctx.prom.batch()
    budget = compute_budget_series(batch, spec, window, at, step)
    steps = fetch_steps(batch, spec, start, at, step)
    sli = step_sli(steps)
    has_data = (steps.total if steps.kind == "events" else steps.error_ratio).notna()  # type: ignore[union-attr]
    month = current_month(ctx, at)
    return SLOFigures(
        status=status,
        budget=budget,
        sli=sli,
        covered=np.asarray(has_data, dtype=bool),
        month=month,
        month_report=month_report(ctx, slo_id, month, at),
    )
