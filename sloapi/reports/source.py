"""Fetching a month of per-step data for every SLO from Prometheus (I/O only, no maths)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pandas as pd

from sloapi.engine.durations import parse_duration
from sloapi.engine.fetch import StepSeries, fetch_steps
from sloapi.engine.prom import PromClient
from sloapi.errors import QueryError
from sloapi.reports.compute import SLOSeries
from sloapi.reports.month import Month
from sloapi.specs.model import SLOSpec

log = logging.getLogger(__name__)
DEFAULT_RETENTION = "15d"


@dataclass(frozen=True)
class MonthData:
    """Every SLO's series for one month, plus notes about what could not be fetched."""

    series: list[SLOSeries]
    warnings: list[str]


def grid_end(month: Month, now: datetime, step: timedelta) -> datetime:
    """Last step end of the month's elapsed part, aligned on ``month.start + k * step``."""
    end = min(month.end, now)
    steps = max(0, int((end - month.start) / step))
    return month.start + steps * step


def to_series(spec: SLOSpec, steps: StepSeries) -> SLOSeries:
    """A fetched ``StepSeries`` as the report maths' input."""
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
    )


def _fetch_one(
    prom: PromClient, spec: SLOSpec, month: Month, end: datetime, step: timedelta
) -> SLOSeries | str:
    """One SLO's month, or a warning when Prometheus rejects its query."""
    try:
        return to_series(spec, fetch_steps(prom, spec, month.start, end, int(step.total_seconds())))
    except QueryError as exc:
        log.warning("report %s: %s: %s", month.key, spec.id, exc)
        return f"{spec.id}: Prometheus rejected its query: {exc}"


def _collect(results: Iterable[SLOSeries | str]) -> MonthData:
    items = list(results)
    return MonthData(
        series=[item for item in items if isinstance(item, SLOSeries)],
        warnings=[item for item in items if isinstance(item, str)],
    )


def fetch_month(
    prom: PromClient, specs: Sequence[SLOSpec], month: Month, now: datetime, step: timedelta
) -> MonthData:
    """Fetch every SLO's month at ``step`` (SLOs in parallel threads, bounded by the client).

    A query Prometheus rejects leaves that SLO without data and adds a warning;
    ``PrometheusUnavailableError`` propagates.
    """
    end = grid_end(month, now, step)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return _collect(pool.map(lambda spec: _fetch_one(prom, spec, month, end, step), specs))


def retention_start(prometheus_url: str, now: datetime, timeout: float = 10.0) -> datetime | None:
    """Oldest instant Prometheus keeps by its time retention flag, or None when unknown."""
    try:
        answer = httpx.get(f"{prometheus_url}/api/v1/status/flags", timeout=timeout)
        answer.raise_for_status()
        value = answer.json()["data"].get("storage.tsdb.retention.time", "")
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.info("retention of %s unknown: %s", prometheus_url, type(exc).__name__)
        return None
    if not value:
        return None
    if value == "0s":  # flag unset: Prometheus keeps its default of 15 days
        value = DEFAULT_RETENTION
    try:
        return now - timedelta(seconds=parse_duration(value))
    except Exception:
        return None
