"""The alert backtest of SLOs over a past range: steps read through `sloapi.prometheus`, the
tiers from `sloapi.rules` (the windows and factors `sloapi rules` writes), the firing and the
matching from `sloapi.engine.backtest`, the incidents from the report's finder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sloapi.engine.backtest import TierResult, TierWindows, backtest_tier
from sloapi.engine.incidents import Incident, burn_incidents
from sloapi.engine.steps import StepArrays
from sloapi.errors import WindowError
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.fetch import fetch_steps
from sloapi.rules.alerts import spec_tiers
from sloapi.specs.model import SLOSpec

#: the longest range one backtest may cover
MAX_RANGE = timedelta(days=100)


@dataclass(frozen=True)
class BacktestOptions:
    """How to backtest: the step (a divisor of every window) and the incident finder's knobs."""

    step_seconds: int = 60
    incident_burn_rate: float = 10.0
    incident_merge_gap: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Any) -> BacktestOptions:
        """The report's step and incident finder (`SLOAPI_RAW_STEP_SECONDS`,
        `SLOAPI_REPORT_INCIDENT_BURN_RATE`, `SLOAPI_REPORT_INCIDENT_MERGE_GAP_SECONDS`)."""
        return cls(
            step_seconds=settings.raw_step_seconds,
            incident_burn_rate=settings.report_incident_burn_rate,
            incident_merge_gap=timedelta(seconds=settings.report_incident_merge_gap_seconds),
        )


def tier_windows(spec: SLOSpec) -> list[TierWindows]:
    """The tiers the generated rules alert on for `spec`, as the engine needs them."""
    min_events = spec.alerting.min_events if spec.alerting is not None else 0
    budget = spec.objective.budget_decimal
    return [
        TierWindows(
            name=tier.name,
            severity=tier.severity,
            short_seconds=tier.short_seconds,
            long_seconds=tier.long_seconds,
            threshold=tier.threshold(budget),
            min_events=min_events,
        )
        for tier in spec_tiers(spec)
    ]


def check_range(start: datetime, end: datetime, step_seconds: int) -> None:
    """Refuse an empty, reversed or too long range, or a step that does not divide the windows.

    Raises:
        WindowError: with the reason.
    """
    if end <= start:
        raise WindowError("the backtest's end must come after its start")
    if end - start > MAX_RANGE:
        raise WindowError(f"a backtest covers at most {MAX_RANGE.days} days")
    if step_seconds <= 0 or 300 % step_seconds:
        raise WindowError("the backtest step must divide 5 minutes (the shortest alert window)")


def backtest_steps(
    steps: StepArrays, spec: SLOSpec, start: datetime, options: BacktestOptions
) -> tuple[list[Incident], list[TierResult]]:
    """Incidents after `start` and each tier's result over `steps` (lead-in steps before
    `start` feed the windows only)."""
    incidents = [
        i
        for i in burn_incidents(
            steps,
            spec.objective,
            threshold=options.incident_burn_rate,
            merge_gap=options.incident_merge_gap,
        )
        if i.end > start
    ]
    return incidents, [backtest_tier(steps, t, incidents, start) for t in tier_windows(spec)]


def _period(first: datetime, last: datetime) -> dict[str, str]:
    return {"start": first.isoformat(), "end": last.isoformat()}


def _incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "start": incident.start.isoformat(),
        "end": incident.end.isoformat(),
        "duration_seconds": incident.duration_seconds,
        "budget_consumed_ratio": incident.budget_consumed_ratio,
        "peak_burn_rate": incident.peak_burn_rate,
    }


def tier_json(result: TierResult) -> dict[str, Any]:
    """One tier's result as JSON."""
    tier = result.tier
    delays = [d.delay_seconds for d in result.detections if d.delay_seconds is not None]
    return {
        "name": tier.name,
        "severity": tier.severity,
        "short_window_seconds": tier.short_seconds,
        "long_window_seconds": tier.long_seconds,
        "threshold": tier.threshold,
        "min_events": tier.min_events,
        "incidents_caught": result.caught,
        "incidents_missed": result.missed,
        "detections": [
            {
                "incident_start": d.incident.start.isoformat(),
                "caught": d.caught,
                "delay_seconds": d.delay_seconds,
            }
            for d in result.detections
        ],
        "max_delay_seconds": max(delays) if delays else None,
        "alerts": len(result.firing),
        "alerts_without_incident": len(result.alerts_without_incident),
        "alerts_without_incident_periods": [_period(*run) for run in result.alerts_without_incident],
        "firing_seconds": result.firing_seconds,
        "firing_periods": [_period(*run) for run in result.firing],
    }


def compute_backtest(
    batch: QueryBatch, spec: SLOSpec, start: datetime, end: datetime, options: BacktestOptions
) -> dict[str, Any]:
    """Backtest the burn-rate alerts of `spec` over (`start`, `end`].

    The steps are read from the longest alert window before `start` on, so the windows are
    full from the first step that counts.

    Raises:
        WindowError: a bad range or step (`check_range`).
        PrometheusUnavailableError, QueryError: from the queries.
    """
    check_range(start, end, options.step_seconds)
    tiers = tier_windows(spec)
    lead = timedelta(seconds=max((t.long_seconds for t in tiers), default=0))
    steps = fetch_steps(batch, spec, start - lead, end, options.step_seconds).arrays()
    incidents, results = backtest_steps(steps, spec, start, options)
    return {
        "id": spec.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "step_seconds": options.step_seconds,
        "incidents": [_incident_json(i) for i in incidents],
        "tiers": [tier_json(r) for r in results],
    }
