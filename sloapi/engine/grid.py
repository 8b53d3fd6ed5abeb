"""The one step grid: every per-step series (status, burn-down, report) lives on it.

A grid is the list of step *end* times `end, end - step, ...` strictly after `start`, in time
order; step `k` covers `(t_k - step, t_k]`. A calendar period is put on the grid with
`align_end`, so its steps fall on `start + k * step`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd


def grid_seconds(start: datetime, end: datetime, step_seconds: int) -> np.ndarray:
    """Unix times of the step ends `end - k * step` strictly after `start`, in time order."""
    count = int((end - start).total_seconds() // step_seconds)
    return end.timestamp() - step_seconds * np.arange(count - 1, -1, -1, dtype=float)


def step_grid(start: datetime, end: datetime, step_seconds: int) -> pd.DatetimeIndex:
    """Step ends `end, end - step, ...` strictly after `start`, in time order (UTC)."""
    count = int((end - start).total_seconds() // step_seconds)
    end_ns = round(end.timestamp() * 1_000_000) * 1000  # datetimes hold whole microseconds
    ns = end_ns - step_seconds * 1_000_000_000 * np.arange(count - 1, -1, -1, dtype=np.int64)
    return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")


def align_end(start: datetime, end: datetime, step_seconds: int) -> datetime:
    """The last `start + k * step` not after `end` (`start` itself when `end` comes first)."""
    step = timedelta(seconds=step_seconds)
    return start + max(0, int((end - start) / step)) * step
