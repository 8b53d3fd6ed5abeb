"""Per-step series of one SLO on the step grid, and the window figures they give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sloapi.engine.figures import (
    Span,
    WindowFigures,
    averaged_figures,
    counted_figures,
    event_steps,
    ratio_steps,
)
from sloapi.engine.objective import Objective


@dataclass(frozen=True)
class StepSeries:
    """Per-step data of one SLO on the grid `index` (step end times, UTC).

    Attributes:
        kind: `events` (errors and total are counts per step) or `ratio` (error_ratio per step).
        step_seconds: the step.
        index: the expected step ends.
        errors: bad events per step (events), else None.
        total: all events per step (events), else None.
        error_ratio: error ratio per step (ratio), else None.
    """

    kind: Literal["events", "ratio"]
    step_seconds: int
    index: pd.DatetimeIndex
    errors: pd.Series | None = None
    total: pd.Series | None = None
    error_ratio: pd.Series | None = None

    def arrays(self) -> StepArrays:
        """The steps as cleaned arrays (see `event_steps` and `ratio_steps`)."""
        if self.kind == "ratio":
            assert self.error_ratio is not None
            ratio, covered = ratio_steps(self.error_ratio)
            return StepArrays(self.index, self.step_seconds, covered, ratio, None, None)
        assert self.errors is not None and self.total is not None
        errors, total, covered = event_steps(self.errors, self.total)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(total > 0, errors / np.where(total > 0, total, 1.0), 0.0)
        return StepArrays(self.index, self.step_seconds, covered, ratio, errors, total)


@dataclass(frozen=True)
class StepArrays:
    """Cleaned per-step arrays of one SLO on its grid.

    Attributes:
        index: step end times.
        step_seconds: the step.
        covered: whether each step has a sample.
        ratio: each step's error ratio in [0, 1] (0 without a sample or without traffic).
        errors: bad events per step (event SLIs; 0 where not covered), else None.
        total: all events per step (event SLIs; 0 where not covered), else None.
    """

    index: pd.DatetimeIndex
    step_seconds: int
    covered: np.ndarray
    ratio: np.ndarray
    errors: np.ndarray | None
    total: np.ndarray | None

    def figures(self, objective: Objective, span: Span) -> WindowFigures:
        """The window's figures from these steps (`event_figures` or `ratio_figures`)."""
        if self.errors is not None and self.total is not None:
            return counted_figures(self.errors, self.total, self.covered, objective, span)
        return averaged_figures(self.ratio, self.covered, objective, span)

    @property
    def judged(self) -> np.ndarray:
        """Steps that say something about the SLI: covered and, for events, with traffic."""
        return self.covered if self.total is None else self.covered & (self.total > 0)
