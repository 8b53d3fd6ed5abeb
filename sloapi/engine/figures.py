"""SLI and error budget over one window: pure functions over pandas series.

Inputs are per-step series indexed by the step's end time (tz-aware UTC `DatetimeIndex`):
event SLIs give the count of error and total events in each step (the `increase` over the step),
raw SLIs give the error ratio of each step. NaN (or an absent step) means "no sample".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sloapi.engine.objective import Objective

MissingPolicy = Literal["ignore", "bad"]
DataStatus = Literal["ok", "partial", "no_data"]


@dataclass(frozen=True)
class WindowFigures:
    """What one window of one SLO achieved.

    Ratios of the budget: `consumed_ratio + remaining_ratio == 1`; `remaining_ratio` goes below
    0 when the budget is overspent. Seconds are "full outage equivalent": the error ratio
    achieved times the window's length (`allowed_seconds` = budget ratio x window length).

    Attributes:
        objective: the objective as a ratio (0.999).
        budget_ratio: the error budget as a ratio (0.001).
        sli: achieved SLI in [0, 1]; None when there was no traffic or no data.
        error_ratio: 1 - sli (None likewise).
        consumed_ratio: share of the budget consumed.
        remaining_ratio: 1 - consumed_ratio.
        allowed_seconds: the budget in seconds of full outage over the window.
        consumed_seconds: seconds of full outage equivalent consumed (downtime).
        remaining_seconds: allowed_seconds - consumed_seconds.
        total_events: events in the window (event SLIs), else None.
        error_events: bad events (event SLIs), else None.
        budget_events: bad events the budget allows (event SLIs), else None.
        remaining_events: budget_events - error_events (event SLIs), else None.
        coverage_ratio: share of the window's steps that had a sample.
        missing_steps: steps without a sample.
        status: `ok` (full coverage), `partial` (some steps missing), `no_data` (none present).
        no_traffic: data was present but no event happened (0/0): budget untouched.
    """

    objective: float
    budget_ratio: float
    sli: float | None
    error_ratio: float | None
    consumed_ratio: float
    remaining_ratio: float
    allowed_seconds: float
    consumed_seconds: float
    remaining_seconds: float
    total_events: float | None
    error_events: float | None
    budget_events: float | None
    remaining_events: float | None
    coverage_ratio: float
    missing_steps: int
    status: DataStatus
    no_traffic: bool


def _expected_steps(present: int, step_seconds: float, span_seconds: float | None) -> int:
    if span_seconds is None:
        return present
    return max(present, round(span_seconds / step_seconds))


def _status(present: int, expected: int) -> DataStatus:
    if present == 0:
        return "no_data"
    return "ok" if present >= expected else "partial"


def _clean(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").astype(float)
    return values.where(np.isfinite(values))


def _finish(
    objective: Objective,
    error_ratio: float | None,
    window_seconds: float,
    coverage: tuple[int, int],
    events: tuple[float, float] | None,
) -> WindowFigures:
    budget = objective.budget
    present, expected = coverage
    allowed = budget * window_seconds
    if error_ratio is None:
        consumed = 0.0
        sli = None
    else:
        error_ratio = min(max(error_ratio, 0.0), 1.0)
        consumed = error_ratio / budget
        sli = 1.0 - error_ratio
    total_events = error_events = budget_events = remaining_events = None
    if events is not None:
        error_events, total_events = events
        budget_events = budget * total_events
        remaining_events = budget_events - error_events
    status = _status(present, expected)
    return WindowFigures(
        objective=objective.ratio,
        budget_ratio=budget,
        sli=sli,
        error_ratio=error_ratio,
        consumed_ratio=consumed,
        remaining_ratio=1.0 - consumed,
        allowed_seconds=allowed,
        consumed_seconds=consumed * allowed,
        remaining_seconds=(1.0 - consumed) * allowed,
        total_events=total_events,
        error_events=error_events,
        budget_events=budget_events,
        remaining_events=remaining_events,
        coverage_ratio=present / expected if expected else 0.0,
        missing_steps=expected - present,
        status=status,
        no_traffic=status != "no_data" and error_ratio is None,
    )


def event_figures(
    errors: pd.Series,
    total: pd.Series,
    objective: Objective,
    *,
    step_seconds: float,
    window_seconds: float,
    span_seconds: float | None = None,
    missing: MissingPolicy = "ignore",
) -> WindowFigures:
    """Figures of an event SLI: traffic-weighted (sum of bad over sum of total).

    Args:
        errors: bad events per step (NaN: no sample).
        total: all events per step (NaN: no sample); a step counts as covered when its total
            has a sample (a missing error count with a present total means zero errors).
        objective: the SLO's objective.
        step_seconds: the step length.
        window_seconds: the full window's length (budget seconds are relative to it).
        span_seconds: the span the steps should cover (default `window_seconds`; less for a
            calendar window still in progress); sets the expected number of steps.
        missing: `ignore` (coverage drops, the SLI is computed over the present steps) or
            `bad` (each missing step counts as all-bad at the mean traffic of present steps).

    Returns:
        The window's figures; the SLI is None when there was no traffic.
    """
    total = _clean(total)
    errors = _clean(errors).reindex(total.index)
    present_mask = total.notna()
    present = int(present_mask.sum())
    expected = _expected_steps(present, step_seconds, span_seconds or window_seconds)
    tot = float(total[present_mask].clip(lower=0).sum())
    err = float(errors[present_mask].fillna(0.0).clip(lower=0).sum())
    err = min(err, tot)
    if missing == "bad" and present and expected > present:
        extra = (expected - present) * tot / present
        err, tot = err + extra, tot + extra
    ratio = err / tot if tot > 0 else None
    return _finish(objective, ratio, window_seconds, (present, expected), (err, tot))


def good_to_errors(good: pd.Series, total: pd.Series) -> pd.Series:
    """Bad events per step from good and total (`total - good`, never below 0)."""
    return (_clean(total) - _clean(good).reindex(total.index)).clip(lower=0)


def ratio_figures(
    error_ratio: pd.Series,
    objective: Objective,
    *,
    step_seconds: float,
    window_seconds: float,
    span_seconds: float | None = None,
    missing: MissingPolicy = "ignore",
) -> WindowFigures:
    """Figures of a raw SLI: time-weighted mean of the per-step error ratios.

    Args:
        error_ratio: error ratio per step in [0, 1] (NaN: no sample; values are clipped).
        objective: the SLO's objective.
        step_seconds: the step length (all steps weigh the same).
        window_seconds: the full window's length.
        span_seconds: the span the steps should cover (default `window_seconds`).
        missing: `ignore` or `bad` (missing steps count as error ratio 1).
    """
    values = _clean(error_ratio).clip(lower=0.0, upper=1.0)
    present_series = values.dropna()
    present = len(present_series)
    expected = _expected_steps(present, step_seconds, span_seconds or window_seconds)
    bad_steps = float(present_series.sum())
    steps = present
    if missing == "bad" and expected > present:
        bad_steps += expected - present
        steps = expected
    ratio = bad_steps / steps if steps else None
    return _finish(objective, ratio, window_seconds, (present, expected), None)


def safe_float(value: float | None) -> float | None:
    """`value` unless it is None, NaN or infinite (then None): what may go into JSON."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
