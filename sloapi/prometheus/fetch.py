"""Per-step series of one SLO from Prometheus (every query pinned to the grid's times)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from sloapi.engine.durations import format_duration
from sloapi.engine.grid import grid_seconds, step_grid
from sloapi.engine.steps import StepSeries
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.client import PromClient
from sloapi.prometheus.decode import RangeSeries
from sloapi.specs.model import SLOSpec


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
    seconds = grid_seconds(start, end, step_seconds)
    index = step_grid(start, end, step_seconds)
    batch = prom.batch() if isinstance(prom, PromClient) else prom
    queries = spec.queries(format_duration(step_seconds))
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
