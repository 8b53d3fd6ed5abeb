"""Per-step series of one SLO from Prometheus (every query pinned to the grid's times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from sloapi.engine.durations import format_duration
from sloapi.engine.grid import grid_seconds, step_grid
from sloapi.engine.steps import StepSeries
from sloapi.prometheus.batch import QueryBatch, Waiting
from sloapi.prometheus.client import PromClient
from sloapi.prometheus.coverage import PendingCoverage, finite_sum, step_subquery
from sloapi.prometheus.decode import RangeSeries, Sample
from sloapi.prometheus.tagged import joined_query, split_answer
from sloapi.specs.model import RawSLI, SLOSpec


def selector_window(spec: SLOSpec, seconds: int) -> str:
    """`{{.window}}` of `spec` for a window of `seconds`.

    Raw SLIs get the half-open window, in milliseconds minus one (`[59999ms]` for 1 m): Prometheus
    2.x selects the closed range `[t - w, t]` and counts the sample on the window's start, which
    Prometheus 3 and VictoriaMetrics leave out; one millisecond less gives every backend the same
    samples. Event SLIs keep the plain window: their samples on the edge are where `rate` needs
    them (one millisecond less makes Prometheus 2.x extrapolate over the dropped edge).
    """
    if isinstance(spec.sli, RawSLI):
        return f"{seconds * 1000 - 1}ms"
    return format_duration(seconds)


@lru_cache(maxsize=8)  # a month at one minute: 0.7 MB each
def grid(start: datetime, end: datetime, step_seconds: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """`step_grid` and `grid_seconds` of `(start, end]`, built once for every SLO of a request
    (both immutable: the index is, the seconds are made read-only)."""
    seconds = grid_seconds(start, end, step_seconds)
    seconds.setflags(write=False)
    return step_grid(start, end, step_seconds), seconds


def _to_series(
    result: list[RangeSeries], index: pd.DatetimeIndex, how: str, seconds: np.ndarray | None = None
) -> pd.Series:
    """Combine the series of a range result on `index` (sum or mean; NaN where none has data).

    `seconds` are the unix times of `index`: one series with exactly those times (the usual
    answer) is taken as it is, with the same figures the general alignment would give.
    """
    if not result:
        return pd.Series(np.nan, index=index, dtype=float)
    if len(result) == 1 and seconds is not None and np.array_equal(result[0].times, seconds):
        values = np.where(np.isinf(result[0].values), np.nan, result[0].values) + 0.0  # -0 -> 0
        return pd.Series(values, index=index, dtype=float)
    columns = []
    for series in result:
        if not len(series.times):
            continue
        idx = pd.to_datetime(series.times, unit="s", utc=True)
        col = pd.Series(series.values, index=idx)
        col = col[~col.index.duplicated(keep="last")]
        columns.append(col.reindex(index))
    if not columns:
        return pd.Series(np.nan, index=index, dtype=float)
    frame = pd.concat(columns, axis=1).replace([np.inf, -np.inf], np.nan)
    combined = frame.sum(axis=1, min_count=1) if how == "sum" else frame.mean(axis=1)
    return combined.astype(float)


def fetch_steps(
    prom: PromClient | QueryBatch,
    spec: SLOSpec,
    start: datetime,
    end: datetime,
    step_seconds: int,
) -> StepSeries:
    """Fetch the per-step series of `spec` on the grid `(start, end]` at `step_seconds`.

    Event SLIs: `rate` over one step, evaluated at each step end, times the step = events per
    step (so adjacent steps add up to the `increase` over the window). Raw SLIs: the error ratio
    over one step at each step end. Missing steps are NaN.
    """
    index, seconds = grid(start, end, step_seconds)
    batch = prom.batch() if isinstance(prom, PromClient) else prom
    queries = spec.queries(selector_window(spec, step_seconds))
    if len(index) == 0:
        empty = pd.Series(np.nan, index=index, dtype=float)
        if "ratio" in queries:
            return StepSeries("ratio", step_seconds, index, error_ratio=empty)
        return StepSeries("events", step_seconds, index, errors=empty, total=empty)
    first, last = index[0].to_pydatetime(), index[-1].to_pydatetime()
    if "ratio" in queries:
        pending = batch.range(queries["ratio"], first, last, step_seconds)
        ratio = _to_series(pending.result(), index, "mean", seconds)
        return StepSeries("ratio", step_seconds, index, error_ratio=ratio)
    pending_err = batch.range(queries["error"], first, last, step_seconds)
    pending_tot = batch.range(queries["total"], first, last, step_seconds)
    total = _to_series(pending_tot.result(), index, "sum", seconds) * step_seconds
    errors = _to_series(pending_err.result(), index, "sum", seconds) * step_seconds
    return StepSeries("events", step_seconds, index, errors=errors, total=total)


@dataclass(frozen=True)
class WindowTotals:
    """An event SLI's window from whole-window queries.

    Attributes:
        errors: bad events in the window (0 when the error query has no series).
        total: all events in the window (0 when the total query has no series).
        present_steps: steps of the grid whose total query has a sample (the coverage).
    """

    errors: float
    total: float
    present_steps: int


def _tiles(span_seconds: int, limit_seconds: int) -> list[tuple[int, int]]:
    """(offset of the tile's end before `at`, tile length) covering `span_seconds`, newest first."""
    tiles, offset = [], 0
    while offset < span_seconds:
        length = min(limit_seconds, span_seconds - offset)
        tiles.append((offset, length))
        offset += length
    return tiles


class PendingTotals:
    """The queries of one `WindowTotals`; `.result()` adds their answers up."""

    def __init__(
        self, batch: QueryBatch, spec: SLOSpec, step_seconds: int, coverage: PendingCoverage
    ) -> None:
        self._batch, self._spec, self._step = batch, spec, step_seconds
        self._coverage = coverage
        self._tiles: list[tuple[datetime, int, Waiting[list[Sample]]]] = []

    def add(self, end: datetime, seconds: int) -> None:
        """Submit the whole-window queries of the tile of `seconds` ending at `end`."""
        query = joined_query(self._spec.queries(format_duration(seconds)))
        self._tiles.append((end, seconds, self._batch.instant(query, end)))

    def result(self) -> WindowTotals:
        """Wait for every query and add the tiles up.

        A tile whose every step is covered takes its events from the whole-window queries: `rate`
        over the tile times its seconds, the `increase` no backend extrapolates step by step. A
        tile with missing steps (a scrape gap) takes them from the sum of its covered steps, so
        events across the gap are not counted as good, exactly as the per-step series count them.
        """
        errors = total = 0.0
        covered = self._coverage.result()
        summed = {
            index: {
                kind: self._batch.instant(self._steps_sum(kind, seconds), end) for kind in ("error", "total")
            }
            for index, (end, seconds, _answer) in enumerate(self._tiles)
            if covered[index] < seconds // self._step
        }
        for index, (_end, seconds, answer) in enumerate(self._tiles):
            if index in summed:
                errors += finite_sum(summed[index]["error"].result()) * self._step
                total += finite_sum(summed[index]["total"].result()) * self._step
            else:
                parts = split_answer(answer.result())
                errors += finite_sum(parts.get("error", [])) * seconds
                total += finite_sum(parts.get("total", [])) * seconds
        return WindowTotals(errors, total, sum(covered))

    def _steps_sum(self, kind: str, seconds: int) -> str:
        return step_subquery(self._spec, kind, "sum_over_time", seconds, self._step)


def submit_window_totals(
    batch: QueryBatch, spec: SLOSpec, at: datetime, span_seconds: int, step_seconds: int, limit_seconds: int
) -> PendingTotals:
    """Submit the window queries of an event SLI over the `span_seconds` ending at `at`.

    Errors and total over the whole window (the spec's queries with the window as `{{.window}}`)
    and the covered steps (`coverage.PendingCoverage`); see `PendingTotals.result`. A span
    longer than `limit_seconds` (what one range request may cover) is cut into tiles no longer
    than it, each a multiple of the step, whose answers are added up.
    """
    limit = max(step_seconds, limit_seconds // step_seconds * step_seconds)
    tiles = _tiles(span_seconds, limit)
    coverage = PendingCoverage(batch, spec, step_seconds, at, tiles, limit)
    pending = PendingTotals(batch, spec, step_seconds, coverage)
    for offset, seconds in tiles:
        pending.add(at - timedelta(seconds=offset), seconds)
    return pending
