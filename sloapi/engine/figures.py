"""SLI and error budget over one window or period: the one computation status and reports use.

Inputs are per-step values on the step grid (`sloapi.engine.grid`), as pandas series indexed by
the step's end time or as plain arrays: event SLIs give the count of error and total events in
each step (the `increase` over the step), raw SLIs give the error ratio of each step. NaN (or an
absent step) means "no sample".

Definitions (docs/sloapi.md, "No data and no traffic"):
- no data: not one step of the window has a sample of the total series (event SLIs) or of the
  error ratio (raw SLIs); nothing can be judged.
- no traffic: steps have samples, but the total events over the window add up to 0 (event SLIs
  only); nothing happened, so nothing can be judged either and the budget is untouched.
- otherwise the SLI is judged: met when it reaches the objective, else missed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from sloapi.engine.objective import Objective

MissingPolicy = Literal["ignore", "bad"]
DataStatus = Literal["ok", "partial", "no_data"]
Verdict = Literal["met", "missed", "no_data", "no_traffic"]
ArrayLike: TypeAlias = pd.Series | np.ndarray
MET_TOLERANCE = 1e-12  # float noise must not turn an exactly met objective into a miss


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


@dataclass(frozen=True)
class Span:
    """What steps a window expects and how missing ones count.

    Attributes:
        step_seconds: the step length.
        window_seconds: the full window's length (budget seconds are relative to it).
        span_seconds: the span the steps should cover (None: the whole window; less for a
            calendar window still in progress); sets the expected number of steps.
        missing: `ignore` (coverage drops) or `bad` (missing steps count as bad).
    """

    step_seconds: float
    window_seconds: float
    span_seconds: float | None = None
    missing: MissingPolicy = "ignore"

    def expected_steps(self, present: int) -> int:
        """Steps the span should hold (never fewer than those present)."""
        span = self.window_seconds if self.span_seconds is None else self.span_seconds
        return max(present, round(span / self.step_seconds))


def _status(present: int, expected: int) -> DataStatus:
    if present == 0:
        return "no_data"
    return "ok" if present >= expected else "partial"


def _values(series: ArrayLike) -> np.ndarray:
    """Float values with every non-finite one as NaN (no sample)."""
    if isinstance(series, pd.Series):
        numbers = series if series.dtype.kind in "fiu" else pd.to_numeric(series, errors="coerce")
        values = numbers.to_numpy(dtype=float)
    else:
        values = np.asarray(series, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def event_steps(errors: ArrayLike, total: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-step (errors, total, covered) arrays of an event SLI, cleaned.

    A step is covered when its total has a sample; on a covered step a missing error count is
    0 (Prometheus returns nothing when no bad event exists), totals are at least 0 and errors lie
    in [0, total]. Uncovered steps hold 0 in both. Series are aligned on `total`'s index.
    """
    if isinstance(errors, pd.Series) and isinstance(total, pd.Series):
        errors = errors.reindex(total.index)
    tot = _values(total)
    covered = ~np.isnan(tot)
    tot = np.where(covered, np.maximum(tot, 0.0), 0.0)
    err = _values(errors)
    err = np.minimum(np.maximum(np.where(np.isnan(err), 0.0, err), 0.0), tot)
    return err, tot, covered


def ratio_steps(error_ratio: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (error ratio in [0, 1] with 0 where missing, covered) arrays of a raw SLI."""
    values = _values(error_ratio)
    covered = ~np.isnan(values)
    return np.where(covered, np.minimum(np.maximum(values, 0.0), 1.0), 0.0), covered


def window_figures(
    objective: Objective,
    error_ratio: float | None,
    window_seconds: float,
    coverage: tuple[int, int],
    events: tuple[float, float] | None = None,
) -> WindowFigures:
    """The figures of a window from its error ratio (None: nothing judged), its coverage
    (steps present, steps expected) and, for event SLIs, its (errors, total) counts."""
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
    errors: ArrayLike,
    total: ArrayLike,
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
        total: all events per step (NaN: no sample); see `event_steps` for what counts.
        objective: the SLO's objective.
        step_seconds: the step length.
        window_seconds: the full window's length (budget seconds are relative to it).
        span_seconds: the span the steps should cover (default `window_seconds`; less for a
            calendar window still in progress); sets the expected number of steps.
        missing: `ignore` (coverage drops, the SLI is computed over the present steps) or
            `bad` (each missing step counts as all-bad at the mean traffic of present steps).

    Returns:
        The window's figures; the SLI is None when there was no data or no traffic.
    """
    span = Span(step_seconds, window_seconds, span_seconds, missing)
    return counted_figures(*event_steps(errors, total), objective, span)


def counted_figures(
    err_steps: np.ndarray, tot_steps: np.ndarray, covered: np.ndarray, objective: Objective, span: Span
) -> WindowFigures:
    """`event_figures` of steps already cleaned by `event_steps`."""
    errors, total = float(err_steps.sum()), float(tot_steps.sum())
    return totalled_figures(errors, total, int(covered.sum()), objective, span)


def totalled_figures(
    errors: float, total: float, present: int, objective: Objective, span: Span
) -> WindowFigures:
    """Figures of an event SLI from its window totals and the number of covered steps.

    The totals may come from summed steps or from whole-window queries; `total` below 0 counts
    as 0 and `errors` is clipped to [0, total].
    """
    expected = span.expected_steps(present)
    tot = max(total, 0.0) if math.isfinite(total) else 0.0
    err = min(max(errors, 0.0), tot) if math.isfinite(errors) else 0.0
    if span.missing == "bad" and present and expected > present:
        extra = (expected - present) * tot / present
        err, tot = err + extra, tot + extra
    ratio = event_error_ratio(err, tot)
    return window_figures(objective, ratio, span.window_seconds, (present, expected), (err, tot))


def good_to_errors(good: pd.Series, total: pd.Series) -> pd.Series:
    """Bad events per step from good and total (`total - good`, never below 0)."""
    tot = pd.Series(_values(total), index=total.index)
    return (tot - pd.Series(_values(good.reindex(total.index)), index=total.index)).clip(lower=0)


def ratio_figures(
    error_ratio: ArrayLike,
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
    span = Span(step_seconds, window_seconds, span_seconds, missing)
    return averaged_figures(*ratio_steps(error_ratio), objective, span)


def averaged_figures(
    ratio: np.ndarray, covered: np.ndarray, objective: Objective, span: Span
) -> WindowFigures:
    """`ratio_figures` of steps already cleaned by `ratio_steps`."""
    present = int(covered.sum())
    expected = span.expected_steps(present)
    bad_steps = float(ratio.sum())
    steps = present
    if span.missing == "bad" and expected > present:
        bad_steps += expected - present
        steps = expected
    ratio_mean = mean_error_ratio(bad_steps, steps)
    return window_figures(objective, ratio_mean, span.window_seconds, (present, expected))


def event_error_ratio(errors: float, total: float) -> float | None:
    """Traffic-weighted error ratio of counts (None on zero traffic or non-finite input)."""
    if not (math.isfinite(errors) and math.isfinite(total)) or total <= 0:
        return None
    return min(max(errors / total, 0.0), 1.0)


def mean_error_ratio(bad_steps: float, steps: float) -> float | None:
    """Time-weighted error ratio: the sum of step error ratios over the steps (None: no step)."""
    if steps <= 0 or not math.isfinite(bad_steps):
        return None
    return min(max(bad_steps / steps, 0.0), 1.0)


def verdict(fig: WindowFigures) -> Verdict:
    """How a window is classified: `no_data`, `no_traffic`, else `met` or `missed`."""
    return classify(fig.sli, fig.objective, no_data=fig.status == "no_data")


def classify(sli: float | None, objective: float, *, no_data: bool) -> Verdict:
    """`no_data` (no sample), `no_traffic` (samples, no SLI), else `met` when the SLI reaches
    the objective (within float noise) or `missed`."""
    if no_data:
        return "no_data"
    if sli is None:
        return "no_traffic"
    return "met" if sli >= objective - MET_TOLERANCE else "missed"


def safe_float(value: float | None) -> float | None:
    """`value` unless it is None, NaN or infinite (then None): what may go into JSON."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
