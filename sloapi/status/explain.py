"""Where one SLO's budget went over a window: incidents and label values, with their shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sloapi.engine.attribution import (
    LabelShare,
    PeriodShare,
    label_shares,
    merge_constant_labels,
    period_shares,
)
from sloapi.engine.figures import Span, safe_float, verdict
from sloapi.engine.incidents import burn_incidents
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.breakdown import fetch_breakdown
from sloapi.specs.model import EventsSLI, SLOSpec, Window
from sloapi.status.raw import StatusOptions, window_span


def period_json(row: PeriodShare) -> dict[str, Any]:
    """One row of the periods' split as JSON."""
    incident = row.incident
    return {
        "kind": row.kind,
        "start": incident.start.isoformat() if incident else None,
        "end": incident.end.isoformat() if incident else None,
        "peak_burn_rate": safe_float(incident.peak_burn_rate) if incident else None,
        "consumed_ratio": row.consumed_ratio,
        "share": row.share,
    }


def label_json(row: LabelShare) -> dict[str, Any]:
    """One row of the labels' split as JSON."""
    return {
        "labels": dict(row.labels),
        "other": row.other,
        "error_events": safe_float(row.error_events),
        "consumed_ratio": row.consumed_ratio,
        "share": row.share,
    }


def compute_explain(
    batch: QueryBatch,
    spec: SLOSpec,
    window: Window,
    at: datetime,
    options: StatusOptions,
    *,
    threshold: float = 10.0,
    merge_gap: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """The budget of `spec` over `window` at `at` split over incidents (as the report finds them)
    and, for event SLIs, over the label values of the error query.

    Raises:
        PrometheusUnavailableError, QueryError: from the queries.
    """
    start, window_seconds, span = window_span(window, at)
    steps, span, excluded = options.steps(batch, spec, start, at, span)
    fig = steps.figures(spec.objective, Span(options.step_seconds, window_seconds, span, options.missing))
    incidents = burn_incidents(steps, spec.objective, threshold=threshold, merge_gap=merge_gap)
    periods = period_shares(steps, spec.objective, incidents, fig.consumed_ratio)
    result: dict[str, Any] = {
        "id": spec.id,
        "window": window.name,
        "window_start": start.isoformat(),
        "at": at.isoformat(),
        "verdict": verdict(fig),
        "consumed_ratio": fig.consumed_ratio,
        "incident_burn_rate_threshold": threshold,
        "periods": [period_json(row) for row in periods],
        "breakdown_labels": [],
        "labels": None,
        "excluded": excluded,
    }
    if isinstance(spec.sli, EventsSLI):
        fetched = fetch_breakdown(batch, spec, start, at, options.step_seconds)
        groups = merge_constant_labels(
            [(labels, values.reindex(steps.index).to_numpy(dtype=float)) for labels, values in fetched]
        )
        result["breakdown_labels"] = sorted({k for g, _ in groups for k in g})
        rows = label_shares(steps, spec.objective, groups, fig.consumed_ratio)
        result["labels"] = [label_json(row) for row in rows]
    return result
