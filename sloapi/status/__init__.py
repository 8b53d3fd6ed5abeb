"""An SLO's status, budget burn-down and incidents at a pinned time: Prometheus read through
`sloapi.prometheus`, every figure computed by `sloapi.engine`.

Public: `compute_status` (one SLO, raw data), `recorded_statuses` (many SLOs from the recording
rules), `compute_budget_series` (burn-down), `compute_incidents` (fast-burn periods),
`compute_explain` (where the budget went), `StatusOptions`, `pin`, `check_step`, `window_span`.
"""

from sloapi.status.explain import compute_explain
from sloapi.status.incidents import compute_incidents
from sloapi.status.raw import (
    StatusOptions,
    check_step,
    compute_budget_series,
    compute_status,
    pin,
    status_json,
    window_span,
)
from sloapi.status.recorded import recorded_statuses

__all__ = [
    "StatusOptions",
    "check_step",
    "compute_budget_series",
    "compute_explain",
    "compute_incidents",
    "compute_status",
    "pin",
    "recorded_statuses",
    "status_json",
    "window_span",
]
