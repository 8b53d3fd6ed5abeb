"""Exclusion windows: planned maintenance taken out of the SLI and the budget (pure).

An exclusion `[start, end)` removes every step whose interval `(t - step, t]` overlaps it: those
steps are neither counted nor expected, so the SLI, the budget, the incidents and the attribution
are those of the remaining steps, and the coverage is not lowered. On the step grid this is
exactly what deleting the samples of those steps from Prometheus gives for event SLIs (their
steps then have no rate and drop out), without the coverage loss (docs/sloapi.md, "Exclusion
windows").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd

from sloapi.engine.steps import StepArrays


@dataclass(frozen=True)
class Exclusion:
    """One declared maintenance window.

    Attributes:
        start: first excluded instant (UTC, aware).
        end: end of the window, excluded up to it (after `start`).
        reason: why (free text).
        who: who declared it.
        slo_id: the SLO it applies to; None for every SLO.
        source: where it was declared (`file:line` or `api#id`).
    """

    start: datetime
    end: datetime
    reason: str
    who: str
    slo_id: str | None = None
    source: str = ""

    def as_json(self) -> dict[str, str | None]:
        """The exclusion as JSON (times RFC 3339)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "reason": self.reason,
            "who": self.who,
            "slo_id": self.slo_id,
            "source": self.source,
        }

    def applies_to(self, slo_id: str) -> bool:
        """Whether the exclusion covers `slo_id` (global ones cover every SLO)."""
        return self.slo_id is None or self.slo_id == slo_id


def excluded_steps(index: pd.DatetimeIndex, step_seconds: int, exclusions: Iterable[Exclusion]) -> np.ndarray:
    """Which steps of the grid `index` (step ends) overlap an exclusion: `t > start` and
    `t - step < end`."""
    ends = index.as_unit("ns").asi8 / 1e9 if len(index) else np.zeros(0)
    mask = np.zeros(len(ends), dtype=bool)
    for item in exclusions:
        mask |= (ends > item.start.timestamp()) & (ends - step_seconds < item.end.timestamp())
    return mask


def without_steps(steps: StepArrays, mask: np.ndarray) -> StepArrays:
    """`steps` with the masked steps removed from the grid."""
    if not mask.any():
        return steps
    keep = ~mask
    return replace(
        steps,
        index=steps.index[keep],
        covered=steps.covered[keep],
        ratio=steps.ratio[keep],
        errors=None if steps.errors is None else steps.errors[keep],
        total=None if steps.total is None else steps.total[keep],
    )


def exclude(
    steps: StepArrays, exclusions: Iterable[Exclusion], span_seconds: float
) -> tuple[StepArrays, float, np.ndarray]:
    """Apply exclusions: (the remaining steps, the span they are expected to cover, the mask of
    removed steps on the original grid)."""
    mask = excluded_steps(steps.index, steps.step_seconds, exclusions)
    removed = float(mask.sum()) * steps.step_seconds
    return without_steps(steps, mask), max(0.0, span_seconds - removed), mask
