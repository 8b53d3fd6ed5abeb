"""One SLO's status over one window at one pinned time, and its budget burn-down: the queries
go through `sloapi.prometheus`, every figure comes from `sloapi.engine`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from sloapi.engine.burn import burn_down, projected_sli, time_to_exhaustion
from sloapi.engine.exclusions import Exclusion, exclude, excluded_steps
from sloapi.engine.figures import (
    MissingPolicy,
    Span,
    WindowFigures,
    classify,
    safe_float,
    totalled_figures,
    verdict,
)
from sloapi.engine.grid import step_grid
from sloapi.engine.steps import StepArrays, StepSeries
from sloapi.errors import WindowError
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.fetch import fetch_steps, submit_window_totals
from sloapi.specs.model import RawSLI, SLOSpec, Window
from sloapi.status.burn_rates import PendingBurnRates


@dataclass(frozen=True)
class StatusOptions:
    """How to compute: raw step, missing-data policy and the SLO's exclusion windows."""

    step_seconds: int = 60
    missing: MissingPolicy = "ignore"
    exclusions: tuple[Exclusion, ...] = ()

    def excludes(self, start: datetime, at: datetime) -> bool:
        """Whether an exclusion window overlaps a step of the grid of `(start, at]`."""
        if not self.exclusions:
            return False
        grid = step_grid(start, at, self.step_seconds)
        return bool(excluded_steps(grid, self.step_seconds, self.exclusions).any())

    def steps(
        self, batch: QueryBatch, spec: SLOSpec, start: datetime, at: datetime, span_seconds: float
    ) -> tuple[StepArrays, float, dict[str, Any]]:
        """The SLO's cleaned steps over `(start, at]` without the excluded ones, the span they
        are expected to cover, and the `excluded` object of the answers."""
        raw = fetch_steps(batch, spec, start, at, self.step_seconds).arrays()
        steps, span, mask = exclude(raw, self.exclusions, span_seconds)
        return steps, span, excluded_json(self.exclusions, start, at, int(mask.sum()) * self.step_seconds)


def excluded_json(
    exclusions: tuple[Exclusion, ...], start: datetime, at: datetime, seconds: float
) -> dict[str, Any]:
    """The exclusion windows overlapping `(start, at]` and the seconds they removed."""
    windows = [item.as_json() for item in exclusions if item.end > start and item.start < at]
    return {"seconds": seconds, "windows": windows}


def window_span(window: Window, at: datetime) -> tuple[datetime, float, float]:
    """(start, window_seconds, span_seconds) of `window` at `at` (span: elapsed part)."""
    start, end = window.bounds(at)
    length = (end - start).total_seconds()
    if window.kind == "rolling":
        return start, length, length
    return start, length, max(0.0, (at - start).total_seconds())


def figures_json(fig: WindowFigures) -> dict[str, Any]:
    """The error budget object of the status JSON."""
    return {
        "total_ratio": fig.budget_ratio,
        "consumed_ratio": safe_float(fig.consumed_ratio),
        "remaining_ratio": safe_float(fig.remaining_ratio),
        "allowed_seconds": safe_float(fig.allowed_seconds),
        "consumed_seconds": safe_float(fig.consumed_seconds),
        "remaining_seconds": safe_float(fig.remaining_seconds),
        "total_events": safe_float(fig.total_events),
        "error_events": safe_float(fig.error_events),
        "allowed_events": safe_float(fig.budget_events),
        "remaining_events": safe_float(fig.remaining_events),
    }


def data_json(fig: WindowFigures | None, coverage: float | None = None) -> dict[str, Any]:
    """The data-quality object of the status JSON."""
    if fig is None:
        cov = safe_float(coverage)
        status = "no_data" if not cov else ("ok" if cov >= 1 else "partial")
        return {"coverage_ratio": cov or 0.0, "status": status, "missing_steps": None, "no_traffic": False}
    return {
        "coverage_ratio": safe_float(fig.coverage_ratio) or 0.0,
        "status": fig.status,
        "missing_steps": fig.missing_steps,
        "no_traffic": fig.no_traffic,
    }


def window_figures_of(
    batch: QueryBatch,
    spec: SLOSpec,
    bounds: tuple[datetime, datetime, float],
    window_seconds: float,
    options: StatusOptions,
) -> tuple[WindowFigures, dict[str, Any]]:
    """The figures of the window `(start, at]` of `spec` and the `excluded` object of the answer;
    `bounds` is `(start, at, span_seconds)`.

    Event SLIs without an exclusion on the window's steps: whole-window totals (one instant
    query per tile) and the covered steps from sample counts (`prometheus.coverage`; no per-step
    series). Raw SLIs, and event SLIs
    with excluded steps (removed exactly, step by step): the cleaned step series.
    """
    start, at, span_seconds = bounds
    step = options.step_seconds
    if isinstance(spec.sli, RawSLI) or options.excludes(start, at):
        steps, kept, excluded = options.steps(batch, spec, start, at, span_seconds)
        return steps.figures(spec.objective, Span(step, window_seconds, kept, options.missing)), excluded
    span = Span(step, window_seconds, span_seconds, options.missing)
    excluded = excluded_json(options.exclusions, start, at, 0)
    seconds = int((at - start).total_seconds()) // step * step
    if seconds <= 0:
        return totalled_figures(0.0, 0.0, 0, spec.objective, span), excluded
    totals = submit_window_totals(batch, spec, at, seconds, step, batch.max_range_seconds(step)).result()
    return totalled_figures(totals.errors, totals.total, totals.present_steps, spec.objective, span), excluded


def compute_status(
    batch: QueryBatch,
    spec: SLOSpec,
    window: Window,
    at: datetime,
    options: StatusOptions,
) -> dict[str, Any]:
    """Status of `spec` over `window` at `at` from raw data (no recording rules needed).

    Raises:
        WindowError: window shorter than one step.
        PrometheusUnavailableError, QueryError: from the queries.
    """
    start, window_seconds, span = window_span(window, at)
    if window.kind == "rolling" and window_seconds < options.step_seconds:
        raise WindowError(f"window {window.name} is shorter than the step")
    pending_burn = PendingBurnRates(batch, spec, at)
    fig, excluded = window_figures_of(batch, spec, (start, at, span), window_seconds, options)
    burn_rates = pending_burn.result()
    result = status_json(
        spec,
        window,
        at,
        sli=fig.sli,
        consumed_ratio=fig.consumed_ratio,
        burn_rates=burn_rates,
        window_seconds=window_seconds,
    )
    result["error_budget"] = figures_json(fig)
    result["data"] = data_json(fig)
    result["verdict"] = verdict(fig)
    if window.kind != "rolling":
        current = burn_rates.get("1h")
        current_ratio = None if current is None else current * spec.objective.budget
        result["projected_sli"] = safe_float(
            projected_sli(fig.error_ratio, span, window_seconds, current_ratio)
        )
    result["source"] = "raw"
    result["excluded"] = excluded
    return result


@lru_cache(maxsize=256)
def _window_text(window: Window, at: datetime) -> tuple[str, str, str, str]:
    """The window's name, start, end and `at` as a status shows them, once per (window, at):
    a listing repeats the same few for every SLO."""
    start, end = window.bounds(at)
    return window.name, start.isoformat(), end.isoformat(), at.isoformat()


def status_json(
    spec: SLOSpec,
    window: Window,
    at: datetime,
    *,
    sli: float | None,
    consumed_ratio: float,
    burn_rates: dict[str, float | None],
    window_seconds: float,
) -> dict[str, Any]:
    """The common part of a status: ids, SLI, burn rates and time to exhaustion."""
    budget = spec.objective.budget
    allowed = budget * window_seconds
    remaining = 1.0 - consumed_ratio
    name, start, end, moment = _window_text(window, at)
    return {
        "id": spec.id,
        "service": spec.service,
        "name": spec.name,
        "objective": spec.objective.ratio,
        "objective_percent": str(spec.objective.percent),
        "window": name,
        "window_start": start,
        "window_end": end,
        "at": moment,
        "sli": safe_float(sli),
        "error_budget": {
            "total_ratio": budget,
            "consumed_ratio": safe_float(consumed_ratio),
            "remaining_ratio": safe_float(remaining),
            "allowed_seconds": allowed,
            "consumed_seconds": safe_float(consumed_ratio * allowed),
            "remaining_seconds": safe_float(remaining * allowed),
        },
        "burn_rates": burn_rates,
        "time_to_exhaustion_seconds": safe_float(
            time_to_exhaustion(remaining, burn_rates.get("1h"), window_seconds)
        ),
        "projected_sli": None,
        "verdict": classify(sli, spec.objective.ratio, no_data=False),
        "labels": dict(spec.labels),
    }


def compute_budget_series(
    batch: QueryBatch,
    spec: SLOSpec,
    window: Window,
    at: datetime,
    step_seconds: int,
    exclusions: tuple[Exclusion, ...] = (),
) -> dict[str, Any]:
    """The burn-down of `spec` over `window` ending at `at`: remaining budget and ideal line
    (steps of `exclusions` consume nothing)."""
    start, window_seconds, _span = window_span(window, at)
    steps = fetch_steps(batch, spec, start, at, step_seconds)
    steps = without_excluded(steps, excluded_steps(steps.index, step_seconds, exclusions))
    frame = burn_down(
        spec.objective,
        errors=steps.errors,
        total=steps.total,
        error_ratio=steps.error_ratio,
        step_seconds=step_seconds,
        window_seconds=window_seconds,
    )
    points = [
        {
            "time": ts.isoformat(),
            "remaining_ratio": safe_float(float(row.remaining_ratio)),
            "ideal_ratio": safe_float(float(row.ideal_ratio)),
        }
        for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]
    return {
        "id": spec.id,
        "window": window.name,
        "at": at.isoformat(),
        "step_seconds": step_seconds,
        "points": points,
    }


def without_excluded(steps: StepSeries, mask: np.ndarray) -> StepSeries:
    """`steps` with the masked steps' values made absent (they consume nothing)."""
    if not mask.any():
        return steps

    def blank(values: pd.Series | None) -> pd.Series | None:
        return None if values is None else values.mask(mask)

    return replace(
        steps, errors=blank(steps.errors), total=blank(steps.total), error_ratio=blank(steps.error_ratio)
    )


def pin(at: datetime | None, now: datetime) -> datetime:
    """The pinned evaluation time: `at` (or now) truncated to whole seconds, in UTC."""
    value = (at or now).astimezone(UTC)
    return value.replace(microsecond=0) if value.microsecond else value


def check_step(window_seconds: float, step_seconds: int, max_points: int = 100_000) -> None:
    """Refuse a step that is not positive or would give more than `max_points` points."""
    if step_seconds <= 0:
        raise WindowError("step must be positive")
    if window_seconds / step_seconds > max_points:
        raise WindowError(f"step {step_seconds}s gives more than {max_points} points over the window")


__all__ = [
    "StatusOptions",
    "check_step",
    "compute_budget_series",
    "compute_status",
    "pin",
    "status_json",
]
