"""A month of per-step data for every SLO, read through the injected Prometheus client."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import pandas as pd

from sloapi.engine.grid import align_end
from sloapi.engine.steps import StepSeries
from sloapi.errors import QueryError
from sloapi.prometheus import PromClient, QueryBatch, fetch_steps
from sloapi.prometheus.breakdown import fetch_breakdown
from sloapi.reports.compute import ReportOptions, SLOSeries, compute_slo
from sloapi.reports.model import SLOReport
from sloapi.reports.month import Month
from sloapi.specs.model import EventsSLI, SLOSpec

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class MonthData:
    """Every SLO's series for one month, plus notes about what could not be fetched."""

    series: list[SLOSeries]
    warnings: list[str]


def to_series(
    spec: SLOSpec, steps: StepSeries, breakdown: list[tuple[dict[str, str], pd.Series]] | None = None
) -> SLOSeries:
    """A fetched ``StepSeries`` (and the error query's breakdown) as the report maths' input."""
    if steps.kind == "ratio":
        frame = pd.DataFrame({"error_ratio": steps.error_ratio}, index=steps.index)
    else:
        frame = pd.DataFrame({"errors": steps.errors, "total": steps.total}, index=steps.index)
    return SLOSeries(
        id=spec.id,
        objective=spec.objective.percent / 100,
        frame=frame,
        service=spec.service,
        name=spec.name,
        description=spec.description,
        labels=dict(spec.labels),
        breakdown=None if breakdown is None else tuple(breakdown),
    )


def _fetch_one(
    prom: PromClient | QueryBatch, spec: SLOSpec, month: Month, end: datetime, step_seconds: int
) -> SLOSeries | str:
    """One SLO's month, or a warning when Prometheus rejects its query."""
    batch = prom if isinstance(prom, QueryBatch) else prom.batch()
    try:
        steps = fetch_steps(batch, spec, month.start, end, step_seconds)
        breakdown = None
        if isinstance(spec.sli, EventsSLI):
            breakdown = fetch_breakdown(batch, spec, month.start, end, step_seconds)
        return to_series(spec, steps, breakdown)
    except QueryError as exc:
        log.warning("report %s: %s: %s", month.key, spec.id, exc)
        return f"{spec.id}: Prometheus rejected its query: {exc.reason}"


@dataclass(frozen=True)
class JudgedMonth:
    """Every SLO's report for one month, plus notes about what could not be fetched."""

    slos: list[SLOReport]
    warnings: list[str]


def _split(items: Iterable[object], kind: type[T]) -> tuple[list[T], list[str]]:
    """Each SLO's outcome of `kind`, and the warnings of those without one, in specs' order."""
    listed = list(items)
    return [i for i in listed if isinstance(i, kind)], [i for i in listed if isinstance(i, str)]


def _each_slo(
    prom: PromClient | QueryBatch,
    specs: Sequence[SLOSpec],
    month: Month,
    now: datetime,
    step: timedelta,
    then: Callable[[SLOSeries], SLOSeries | SLOReport],
) -> list[SLOSeries | SLOReport | str]:
    """Fetch each SLO's month and hand it to `then` in the same worker thread, specs' order."""
    seconds = int(step.total_seconds())
    end = align_end(month.start, min(month.end, now), seconds)

    def one(spec: SLOSpec) -> SLOSeries | SLOReport | str:
        fetched = _fetch_one(prom, spec, month, end, seconds)
        return fetched if isinstance(fetched, str) else then(fetched)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, specs))


def fetch_month(
    prom: PromClient | QueryBatch, specs: Sequence[SLOSpec], month: Month, now: datetime, step: timedelta
) -> MonthData:
    """Fetch every SLO's month at ``step`` on the report's grid (SLOs in parallel threads,
    bounded by the client; a batch shares its deadline among them).

    A query Prometheus rejects leaves that SLO without data and adds a warning;
    ``PrometheusUnavailableError`` propagates.
    """
    series, warnings = _split(_each_slo(prom, specs, month, now, step, lambda series: series), SLOSeries)
    return MonthData(series=series, warnings=warnings)


def judge_month(
    prom: PromClient | QueryBatch,
    specs: Sequence[SLOSpec],
    month: Month,
    now: datetime,
    options: ReportOptions,
    previous: dict[str, SLOReport],
) -> JudgedMonth:
    """`fetch_month`, each SLO's report computed (`compute_slo`) as soon as its month arrives,
    while the others are still being fetched; ``previous``: last month's reports by SLO id.

    The reports are those `build_report` computes from `fetch_month`'s series, in specs' order.
    """
    items = _each_slo(
        prom,
        specs,
        month,
        now,
        options.step,
        lambda series: compute_slo(series, month, now, options, previous.get(series.id)),
    )
    slos, warnings = _split(items, SLOReport)
    return JudgedMonth(slos=slos, warnings=warnings)
