"""The incidents of one SLO over a window: the report's incident finder on live data."""

from __future__ import annotations

from datetime import datetime, timedelta

from sloapi.engine.exclusions import Exclusion, excluded_steps, without_steps
from sloapi.engine.incidents import Incident, burn_incidents
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.fetch import fetch_steps
from sloapi.specs.model import SLOSpec, Window
from sloapi.status.raw import window_span


def compute_incidents(
    batch: QueryBatch,
    spec: SLOSpec,
    window: Window,
    at: datetime,
    *,
    step_seconds: int = 60,
    threshold: float = 10.0,
    merge_gap: timedelta = timedelta(minutes=5),
    exclusions: tuple[Exclusion, ...] = (),
) -> list[Incident]:
    """Periods of `window` (ending at `at`) in which `spec` burned its budget at `threshold` or
    faster, merged when closer than `merge_gap`; found exactly as the monthly report finds them.

    Raises:
        PrometheusUnavailableError, QueryError: from the queries.
    """
    start, _window_seconds, _span = window_span(window, at)
    arrays = fetch_steps(batch, spec, start, at, step_seconds).arrays()
    steps = without_steps(arrays, excluded_steps(arrays.index, step_seconds, exclusions))
    return burn_incidents(steps, spec.objective, threshold=threshold, merge_gap=merge_gap)
