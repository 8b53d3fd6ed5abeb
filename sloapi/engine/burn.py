"""Burn rates, time to exhaustion, projections and burn-down series (pure functions)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sloapi.engine.figures import event_error_ratio, event_steps, ratio_steps
from sloapi.engine.objective import Objective

#: The burn-rate windows reported for every SLO, in seconds.
BURN_WINDOWS: dict[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}


def burn_rate(error_ratio: float | None, objective: Objective) -> float | None:
    """Burn rate = error ratio / budget ratio (1.0 spends the budget exactly over the window).

    Returns None when the error ratio is unknown (no traffic or no data) or not finite.
    """
    if error_ratio is None or not math.isfinite(error_ratio):
        return None
    return max(error_ratio, 0.0) / objective.budget


def trailing_burn_rates(
    errors: pd.Series | None,
    total: pd.Series | None,
    objective: Objective,
    step_seconds: float,
    *,
    error_ratio: pd.Series | None = None,
    windows: dict[str, int] | None = None,
) -> dict[str, float | None]:
    """Burn rates over the trailing windows ending at the last step of the series.

    Give per-step `errors` and `total` counts (event SLIs) or a per-step `error_ratio`
    (raw SLIs, time-weighted). A window shorter than one step reads the last step.
    """
    result: dict[str, float | None] = {}
    for name, seconds in (windows or BURN_WINDOWS).items():
        steps = max(1, round(seconds / step_seconds))
        if error_ratio is not None:
            tail = error_ratio.iloc[-steps:].dropna()
            ratio = float(tail.clip(0, 1).mean()) if len(tail) else None
        elif errors is not None and total is not None:
            tot = total.iloc[-steps:]
            err = errors.reindex(tot.index).iloc[-steps:]
            mask = tot.notna()
            ratio = event_error_ratio(
                float(err[mask].fillna(0).sum()), float(tot[mask].sum()) if mask.any() else 0.0
            )
        else:
            raise ValueError("give errors and total, or error_ratio")
        result[name] = burn_rate(ratio, objective)
    return result


def time_to_exhaustion(remaining_ratio: float, burn: float | None, window_seconds: float) -> float | None:
    """Seconds until the budget is gone at burn rate `burn` (None when not burning).

    At burn rate b the whole budget lasts `window_seconds / b`; what remains lasts
    `remaining_ratio * window_seconds / b`. An exhausted budget gives 0.
    """
    if burn is None or not math.isfinite(burn) or burn <= 0:
        return None
    if remaining_ratio <= 0:
        return 0.0
    return remaining_ratio * window_seconds / burn


def projected_sli(
    error_ratio_so_far: float | None,
    elapsed_seconds: float,
    window_seconds: float,
    current_error_ratio: float | None,
) -> float | None:
    """SLI expected at the end of a calendar window if the current error ratio goes on.

    Time-weighted blend: the elapsed part at its achieved error ratio, the rest at the current
    one (an unknown current ratio counts as 0, an unknown past as the current one).
    """
    if window_seconds <= 0:
        return None
    elapsed = min(max(elapsed_seconds, 0.0), window_seconds)
    current = current_error_ratio or 0.0
    past = current if error_ratio_so_far is None else error_ratio_so_far
    if error_ratio_so_far is None and current_error_ratio is None:
        return None
    bad = past * elapsed + current * (window_seconds - elapsed)
    return min(max(1.0 - bad / window_seconds, 0.0), 1.0)


def step_costs(
    objective: Objective,
    *,
    errors: np.ndarray | pd.Series | None = None,
    total: np.ndarray | pd.Series | None = None,
    error_ratio: np.ndarray | pd.Series | None = None,
    step_seconds: float,
    basis_seconds: float,
) -> np.ndarray:
    """Each step's share of the error budget (the steps' sum is the share consumed).

    Event SLIs: errors of the step / (budget x total events of all steps). Raw SLIs: the step's
    error ratio x step / (budget x `basis_seconds`), the basis being the window's length (a
    burn-down) or the seconds with data (a report, whose SLI is the mean over those). Steps
    without a sample cost nothing.
    """
    if error_ratio is not None:
        ratio, _covered = ratio_steps(error_ratio)
        return ratio_costs(ratio, objective, step_seconds, basis_seconds)
    if errors is None or total is None:
        raise ValueError("give errors and total, or error_ratio")
    err, tot, _covered = event_steps(errors, total)
    return event_costs(err, tot, objective)


def event_costs(errors: np.ndarray, total: np.ndarray, objective: Objective) -> np.ndarray:
    """`step_costs` of cleaned event steps: errors / (budget x all events)."""
    events = float(total.sum())
    return errors / (objective.budget * events) if events > 0 else np.zeros(len(errors))


def ratio_costs(
    ratio: np.ndarray, objective: Objective, step_seconds: float, basis_seconds: float
) -> np.ndarray:
    """`step_costs` of cleaned ratio steps: ratio x step / (budget x basis)."""
    if basis_seconds <= 0:
        return np.zeros(len(ratio))
    return ratio * step_seconds / (objective.budget * basis_seconds)


def burn_down(
    objective: Objective,
    *,
    errors: pd.Series | None = None,
    total: pd.Series | None = None,
    error_ratio: pd.Series | None = None,
    step_seconds: float,
    window_seconds: float,
) -> pd.DataFrame:
    """Remaining budget after each step, and the ideal straight line, for graphs.

    Event SLIs: remaining(t) = 1 - errors up to t / (budget x total events of the window).
    Raw SLIs: remaining(t) = 1 - sum of step error ratios up to t x step / (budget x window).
    The ideal line falls linearly from 1 at the window's start to 0 at its end.

    Returns:
        DataFrame indexed like the input with float columns `remaining_ratio`, `ideal_ratio`.
    """
    series = error_ratio if error_ratio is not None else total
    if series is None:
        raise ValueError("give errors and total, or error_ratio")
    index = series.index
    spent = np.cumsum(
        step_costs(
            objective,
            errors=errors,
            total=total,
            error_ratio=error_ratio,
            step_seconds=step_seconds,
            basis_seconds=window_seconds,
        )
    )
    if len(index):
        start = index[0] - pd.Timedelta(seconds=step_seconds)
        elapsed = (index - start).total_seconds().to_numpy(dtype=float)
    else:
        elapsed = np.array([], dtype=float)
    ideal = np.clip(1.0 - elapsed / window_seconds, 0.0, 1.0)
    return pd.DataFrame({"remaining_ratio": 1.0 - spent, "ideal_ratio": ideal}, index=index)
