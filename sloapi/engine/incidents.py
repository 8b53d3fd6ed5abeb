"""Incidents: maximal runs of steps burning the budget fast (pure, over step arrays)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sloapi.engine.burn import event_costs, ratio_costs
from sloapi.engine.objective import Objective
from sloapi.engine.steps import StepArrays


@dataclass(frozen=True)
class Incident:
    """A period in which every burning step's burn rate reached the threshold.

    Attributes:
        start: start of its first step.
        end: end of its last step.
        duration_seconds: end - start.
        budget_consumed_ratio: share of the budget its steps (burning or not) used.
        peak_burn_rate: the highest step burn rate inside it.
    """

    start: datetime
    end: datetime
    duration_seconds: float
    budget_consumed_ratio: float
    peak_burn_rate: float


def find_incidents(
    steps_index: pd.DatetimeIndex,
    burning: np.ndarray,
    burn: np.ndarray,
    cost: np.ndarray,
    *,
    step: timedelta,
    merge_gap: timedelta,
) -> list[Incident]:
    """Group burning steps into incidents.

    Args:
        steps_index: Step-end times.
        burning: Whether each step burned at or above the threshold.
        burn: Each step's burn rate.
        cost: Each step's share of the month's budget.
        step: Step length.
        merge_gap: Burning steps separated by less than this join one incident.

    Returns:
        Incidents in time order; each starts at its first step's start and ends at its last
        step's end, and its budget counts every step in between.
    """
    positions = np.flatnonzero(burning)
    if positions.size == 0:
        return []
    ends = steps_index[positions]
    gaps = (ends[1:] - step) - ends[:-1]
    breaks = np.flatnonzero(np.asarray(gaps >= merge_gap)) + 1
    incidents = []
    for group in np.split(positions, breaks):
        first, last = int(group[0]), int(group[-1])
        start = steps_index[first] - step
        end = steps_index[last]
        incidents.append(
            Incident(
                start=start.to_pydatetime(),
                end=end.to_pydatetime(),
                duration_seconds=(end - start).total_seconds(),
                budget_consumed_ratio=float(cost[first : last + 1].sum()),
                peak_burn_rate=float(burn[first : last + 1].max()),
            )
        )
    return incidents


def cost_per_step(steps: StepArrays, objective: Objective) -> np.ndarray:
    """Each step's share of the period's budget, summing to the share consumed (the SLI of a
    raw SLO is the mean over the steps with data, so those seconds are its basis)."""
    if steps.errors is not None and steps.total is not None:
        return event_costs(steps.errors, steps.total, objective)
    basis = float(steps.covered.sum()) * steps.step_seconds
    return ratio_costs(steps.ratio, objective, steps.step_seconds, basis)


def burn_incidents(
    steps: StepArrays,
    objective: Objective,
    *,
    threshold: float = 10.0,
    merge_gap: timedelta = timedelta(minutes=5),
    cost: np.ndarray | None = None,
) -> list[Incident]:
    """The incidents of one SLO's steps: judged steps whose burn rate reaches `threshold`,
    merged when closer than `merge_gap`; each with the budget share its steps used (`cost`,
    when already known, is `cost_per_step(steps, objective)`)."""
    burn = steps.ratio / objective.budget
    return find_incidents(
        steps.index,
        steps.judged & (burn >= threshold),
        burn,
        cost_per_step(steps, objective) if cost is None else cost,
        step=timedelta(seconds=steps.step_seconds),
        merge_gap=merge_gap,
    )
