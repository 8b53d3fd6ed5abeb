"""Where the budget went: the consumed budget split over periods and over label values (pure).

Every step of a window has a cost, its share of the window's budget (`cost_per_step`); the costs
add up to the consumed share. Periods: each incident owns the cost of its steps, the steps outside
every incident make one `outside incidents` row, and budget consumed by the missing-data policy
(missing steps counted as bad) makes its own row, so the rows add up to the consumed budget
exactly. Labels: the error events of each label set, over the same judged steps, cost
`errors / (budget x all events)`; what the breakdown query does not account for (series it
misses, or more error events than the SLI counts) goes into an `other` row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sloapi.engine.incidents import Incident, cost_per_step
from sloapi.engine.objective import Objective
from sloapi.engine.steps import StepArrays

SHARE_TOLERANCE = 1e-9
Group = tuple[dict[str, str], np.ndarray]
"""Label values and error events per step (NaN: no sample) of one label set."""


@dataclass(frozen=True)
class PeriodShare:
    """One row of the periods' split.

    Attributes:
        kind: `incident`, `outside_incidents` or `missing_data`.
        incident: the incident (kind `incident`), else None.
        consumed_ratio: share of the window's budget this row consumed.
        share: share of the consumed budget (0 when nothing was consumed).
    """

    kind: str
    incident: Incident | None
    consumed_ratio: float
    share: float


@dataclass(frozen=True)
class LabelShare:
    """One row of the labels' split.

    Attributes:
        labels: the label values (empty for the `other` row).
        other: True for the remainder row.
        error_events: error events of this label set over the judged steps.
        consumed_ratio: share of the window's budget.
        share: share of the consumed budget.
    """

    labels: Mapping[str, str]
    other: bool
    error_events: float
    consumed_ratio: float
    share: float


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def period_shares(
    steps: StepArrays, objective: Objective, incidents: Sequence[Incident], consumed_ratio: float
) -> list[PeriodShare]:
    """The consumed budget split over `incidents` (found on `steps`), the rest of the steps and
    the missing-data policy; the rows' `consumed_ratio` add up to `consumed_ratio`."""
    cost = cost_per_step(steps, objective)
    step_starts = steps.index - np.timedelta64(steps.step_seconds, "s")
    inside = np.zeros(len(cost), dtype=bool)
    rows = []
    for incident in incidents:
        mask = np.asarray((step_starts >= incident.start) & (steps.index <= incident.end))
        inside |= mask
        part = float(cost[mask].sum())
        rows.append(PeriodShare("incident", incident, part, _share(part, consumed_ratio)))
    outside = float(cost[~inside].sum())
    rows.append(PeriodShare("outside_incidents", None, outside, _share(outside, consumed_ratio)))
    policy = consumed_ratio - float(cost.sum())
    if policy > SHARE_TOLERANCE:
        rows.append(PeriodShare("missing_data", None, policy, _share(policy, consumed_ratio)))
    return rows


def label_shares(
    steps: StepArrays,
    objective: Objective,
    groups: Sequence[tuple[Mapping[str, str], np.ndarray]],
    consumed_ratio: float,
) -> list[LabelShare]:
    """The consumed budget of an event SLI split over label sets, largest first, plus `other`.

    Args:
        steps: the SLI's cleaned steps (event SLIs: `errors` and `total` set).
        objective: the objective.
        groups: (labels, error events per step on `steps`' grid, NaN: no sample) per label set.
        consumed_ratio: the window's consumed share (the rows add up to it).

    Raises:
        ValueError: `steps` are not an event SLI's.
    """
    if steps.errors is None or steps.total is None:
        raise ValueError("label shares need an event SLI")
    events = float(steps.total.sum())
    scale = 1.0 / (objective.budget * events) if events > 0 else 0.0
    judged = steps.judged
    rows = []
    for labels, errors in groups:
        counted = np.where(judged & np.isfinite(errors), np.maximum(errors, 0.0), 0.0)
        count = float(counted.sum())
        if count > 0:
            rows.append(
                LabelShare(dict(labels), False, count, count * scale, _share(count * scale, consumed_ratio))
            )
    rows.sort(key=lambda row: (-row.consumed_ratio, sorted(row.labels.items())))
    rest = consumed_ratio - sum(row.consumed_ratio for row in rows)
    if abs(rest) > SHARE_TOLERANCE or not rows:
        rest_events = float(steps.errors.sum()) - sum(row.error_events for row in rows)
        rows.append(LabelShare({}, True, rest_events, rest, _share(rest, consumed_ratio)))
    return rows


def distinguishing_labels(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """The labels that take more than one value over `label_sets` (the others say nothing)."""
    names = sorted({name for labels in label_sets for name in labels})
    return [name for name in names if len({labels.get(name, "") for labels in label_sets}) > 1]


def merge_constant_labels(groups: Sequence[tuple[Mapping[str, str], np.ndarray]]) -> list[Group]:
    """Keep only the labels that tell the groups apart, adding up groups that become equal."""
    keep = distinguishing_labels([labels for labels, _ in groups])
    merged: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
    for labels, values in groups:
        key = tuple((name, labels.get(name, "")) for name in keep)
        merged[key] = (
            np.nansum([merged[key], values], axis=0) if key in merged else np.asarray(values, dtype=float)
        )
    return [(dict(key), values) for key, values in merged.items()]
