"""The answers of the HTTP API as pydantic models: what `/openapi.json` promises, field by field.

Times are RFC 3339 strings, as the service writes them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["met", "missed", "no_data", "no_traffic"]


class WindowBudget(BaseModel):
    """The error budget of one window; ratios of the budget, seconds of full-outage equivalent."""

    total_ratio: float = Field(description="1 - objective, e.g. 0.001 for 99.9%")
    consumed_ratio: float | None = Field(description="share of the budget used (above 1: overspent)")
    remaining_ratio: float | None = Field(description="1 - consumed_ratio (negative when overspent)")
    allowed_seconds: float | None = Field(description="budget x window length")
    consumed_seconds: float | None
    remaining_seconds: float | None
    total_events: float | None = Field(None, description="event SLIs: events in the window")
    error_events: float | None = Field(None, description="event SLIs: bad events in the window")
    allowed_events: float | None = Field(None, description="event SLIs: bad events the budget allows")
    remaining_events: float | None = None


class DataQuality(BaseModel):
    """How much of the window had data (docs/sloapi.md, "No data and no traffic")."""

    coverage_ratio: float = Field(description="steps with a sample / steps of the window")
    status: Literal["ok", "partial", "no_data"]
    missing_steps: int | None = Field(description="steps without a sample (null from recorded rules)")
    no_traffic: bool = Field(description="samples, but zero events: neither met nor missed")


class ExcludedWindowOut(BaseModel):
    """An exclusion window overlapping the window of an answer."""

    start: str
    end: str
    reason: str
    who: str
    slo_id: str | None = Field(description="null: every SLO")
    source: str = Field(description="`file:line` or `api#id`")


class Excluded(BaseModel):
    """Maintenance left out of the SLI and the budget (docs/sloapi.md, "Exclusion windows")."""

    seconds: float = Field(description="seconds of the window's steps left out")
    windows: list[ExcludedWindowOut]


class SLOStatus(BaseModel):
    """One SLO's status over one window at one pinned time."""

    id: str
    service: str
    name: str
    objective: float = Field(description="objective as a ratio, e.g. 0.999")
    objective_percent: str = Field(description="objective in percent, exact, e.g. '99.9'")
    window: str = Field(description="`30d`, `month@Europe/Paris`, ...")
    window_start: str = Field(description="RFC 3339")
    window_end: str = Field(description="RFC 3339")
    at: str = Field(description="the evaluation time every query is pinned to, RFC 3339")
    sli: float | None = Field(description="achieved SLI; null without data or without traffic")
    error_budget: WindowBudget
    burn_rates: dict[str, float | None] = Field(description="burn rate per window (5m .. 3d)")
    time_to_exhaustion_seconds: float | None = Field(description="null when not burning")
    projected_sli: float | None = Field(description="calendar windows: SLI at the window's end")
    labels: dict[str, str]
    data: DataQuality
    source: Literal["raw", "rules"] = Field(description="raw data or the recording rules")
    excluded: Excluded | None = Field(None, description="raw statuses: exclusion windows left out")
    verdict: Verdict | None = Field(
        None, description="met, missed, no_data or no_traffic (absent in snapshots kept before it)"
    )


class SLOList(BaseModel):
    """Every SLO's status."""

    at: str
    count: int
    slos: list[SLOStatus]


class SLOSpecOut(BaseModel):
    """An SLO's spec as loaded."""

    id: str
    service: str
    name: str
    description: str
    objective: float
    objective_percent: str
    window: str
    labels: dict[str, str]
    sli: dict[str, dict[str, Any]] = Field(description="`{events: {...}}` or `{raw: {...}}` queries")
    recipient_count: int = Field(
        description="report recipients the spec names (their addresses are shown only with the token)"
    )
    source: str = Field(description="the spec file")


class SLODetail(BaseModel):
    """The spec and status of one SLO."""

    spec: SLOSpecOut
    status: SLOStatus


class BudgetPoint(BaseModel):
    """The budget left after one step, and the ideal straight line."""

    time: str
    remaining_ratio: float | None
    ideal_ratio: float | None


class BudgetSeries(BaseModel):
    """An SLO's budget burn-down over a window."""

    id: str
    window: str
    at: str
    step_seconds: int
    points: list[BudgetPoint]


class StoredStatus(BaseModel):
    """A status kept by `POST /snapshots`."""

    id: int
    slo_id: str
    at: str
    status: SLOStatus


class SnapshotItem(BaseModel):
    """One kept status."""

    id: int
    window: str
    at: str
    status: SLOStatus


class SnapshotList(BaseModel):
    """The kept statuses of one SLO, newest first."""

    slo_id: str
    snapshots: list[SnapshotItem]


class Reloaded(BaseModel):
    """The spec directory was read again."""

    slos: int = Field(description="SLOs now loaded")


class Alive(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Whether Prometheus, the specs and the database answer."""

    status: Literal["ready", "not ready"]
    checks: dict[str, bool]


class SendOutcome(BaseModel):
    """What happened to one recipient's copy."""

    recipient: str
    status: str = Field(description="sent, failed, unconfirmed, delayed or already_sent")
    detail: str | None
    next_attempt_at: str | None = Field(description="RFC 3339 with offset: when a later run tries again")


class SendAnswer(BaseModel):
    """The outcome of mailing a month's report."""

    month: str
    outcomes: list[SendOutcome]


class Delivery(BaseModel):
    """One recipient's copy of a month's report."""

    recipient: str
    status: str = Field(description="sending, sent, failed or unconfirmed")
    attempts: int
    sends: int
    unconfirmed: int = Field(description="copies whose body went out without a final reply")
    last_error: str | None
    next_attempt_at: str | None = Field(description="RFC 3339 with offset")
    sent_at: str | None
    message_id: str | None


class Deliveries(BaseModel):
    """The delivery records of a month's report."""

    month: str
    deliveries: list[Delivery]


class PeriodShareOut(BaseModel):
    """One row of where the budget went over time: an incident, the rest, or missing data."""

    kind: Literal["incident", "outside_incidents", "missing_data"]
    start: str | None = Field(description="incident start, RFC 3339 (null for other rows)")
    end: str | None = Field(description="incident end, RFC 3339 (null for other rows)")
    peak_burn_rate: float | None = Field(description="the incident's highest step burn rate")
    consumed_ratio: float = Field(description="share of the window's budget this row consumed")
    share: float = Field(description="share of the consumed budget (rows add up to 1)")


class LabelShareOut(BaseModel):
    """One row of where the budget went by label values of the error query."""

    labels: dict[str, str] = Field(description="label values (empty for the `other` row)")
    other: bool = Field(description="the remainder the breakdown query does not account for")
    error_events: float | None
    consumed_ratio: float
    share: float


class BudgetExplain(BaseModel):
    """Where one SLO's budget went over a window (docs/sloapi.md, "Budget attribution")."""

    id: str
    window: str
    window_start: str
    at: str
    verdict: Verdict
    consumed_ratio: float = Field(description="share of the budget consumed (the rows add up to it)")
    incident_burn_rate_threshold: float = Field(description="burn rate an incident's steps reach")
    periods: list[PeriodShareOut]
    breakdown_labels: list[str] = Field(description="labels the error events are split by")
    labels: list[LabelShareOut] | None = Field(description="event SLIs only; null for raw SLIs")
    excluded: Excluded


class ExclusionIn(BaseModel):
    """A maintenance window to exclude from the SLI and the budget."""

    start: str = Field(description="RFC 3339 with an offset, or unix seconds")
    end: str = Field(description="RFC 3339 with an offset, or unix seconds; after start")
    reason: str = Field(min_length=1, max_length=2000)
    who: str = Field(min_length=1, max_length=255)
    slo_id: str | None = Field(None, description="the SLO; null or absent: every SLO")


class ExclusionOut(ExcludedWindowOut):
    """A declared exclusion window (from the spec directory or the API)."""


class ExclusionList(BaseModel):
    """Every exclusion window, by start."""

    exclusions: list[ExclusionOut]
