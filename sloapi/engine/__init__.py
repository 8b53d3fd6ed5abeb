"""SLO maths: pure functions over per-step arrays and frames, no I/O (Prometheus is read in
`sloapi.prometheus`). Status, burn-down, incidents and the monthly report all compute here.

Public maths API (documented in docs/sloapi.md, "Engine API"):
`Objective`, `WindowFigures`, `event_figures`, `ratio_figures`, `good_to_errors`, `burn_rate`,
`event_error_ratio`, `trailing_burn_rates`, `time_to_exhaustion`, `projected_sli`, `burn_down`,
`Span`, `step_costs`, `verdict`, `classify`, `StepSeries`, `step_grid`, `align_end`, `find_incidents`,
`burn_incidents`, `BURN_WINDOWS`, `parse_duration`, `format_duration`, `safe_float`.
"""

from sloapi.engine.burn import (
    BURN_WINDOWS,
    burn_down,
    burn_rate,
    projected_sli,
    step_costs,
    time_to_exhaustion,
    trailing_burn_rates,
)
from sloapi.engine.durations import format_duration, parse_duration
from sloapi.engine.figures import (
    Span,
    Verdict,
    WindowFigures,
    classify,
    event_error_ratio,
    event_figures,
    good_to_errors,
    ratio_figures,
    safe_float,
    verdict,
)
from sloapi.engine.grid import align_end, step_grid
from sloapi.engine.incidents import Incident, burn_incidents, find_incidents
from sloapi.engine.objective import Objective
from sloapi.engine.steps import StepArrays, StepSeries

__all__ = [
    "BURN_WINDOWS",
    "Incident",
    "Objective",
    "Span",
    "StepArrays",
    "StepSeries",
    "Verdict",
    "WindowFigures",
    "align_end",
    "burn_down",
    "burn_incidents",
    "burn_rate",
    "classify",
    "event_error_ratio",
    "event_figures",
    "find_incidents",
    "format_duration",
    "good_to_errors",
    "parse_duration",
    "projected_sli",
    "ratio_figures",
    "safe_float",
    "step_costs",
    "step_grid",
    "time_to_exhaustion",
    "trailing_burn_rates",
    "verdict",
]
