"""SLO maths (pure, over pandas) and the computation that feeds it from Prometheus.

Public maths API (documented in docs/sloapi.md, "Engine API"):
`Objective`, `WindowFigures`, `event_figures`, `ratio_figures`, `good_to_errors`, `burn_rate`,
`event_error_ratio`, `trailing_burn_rates`, `time_to_exhaustion`, `projected_sli`, `burn_down`,
`BURN_WINDOWS`, `parse_duration`, `format_duration`, `safe_float`.
"""

from sloapi.engine.burn import (
    BURN_WINDOWS,
    burn_down,
    burn_rate,
    event_error_ratio,
    projected_sli,
    time_to_exhaustion,
    trailing_burn_rates,
)
from sloapi.engine.durations import format_duration, parse_duration
from sloapi.engine.figures import (
    WindowFigures,
    event_figures,
    good_to_errors,
    ratio_figures,
    safe_float,
)
from sloapi.engine.objective import Objective

__all__ = [
    "BURN_WINDOWS",
    "Objective",
    "WindowFigures",
    "burn_down",
    "burn_rate",
    "event_error_ratio",
    "event_figures",
    "format_duration",
    "good_to_errors",
    "parse_duration",
    "projected_sli",
    "ratio_figures",
    "safe_float",
    "time_to_exhaustion",
    "trailing_burn_rates",
]
