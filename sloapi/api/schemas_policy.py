"""Request and answer models of the error-budget policy, the gate and the alert backtest."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PolicyState = Literal["ok", "warn", "freeze"]
NAME = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"
KIND = r"^[a-z][a-z0-9_-]{0,63}$"


class PolicyThresholds(BaseModel):
    """An SLO's policy as configured (ratios of the budget)."""

    warn_below_ratio: float
    freeze_below_ratio: float
    risky: list[str] = Field(description="change kinds refused from `warn` on")
    fixes: list[str] = Field(description="change kinds still allowed at `freeze`")


class SLOPolicy(BaseModel):
    """`ok`, `warn` or `freeze` for one SLO, with the reason."""

    id: str
    service: str
    at: str
    window: str
    state: PolicyState
    reasons: list[str]
    remaining_ratio: float | None = Field(
        description="share of the budget left; null without traffic or data"
    )
    verdict: Literal["met", "missed", "no_data", "no_traffic"]
    policy: PolicyThresholds


class Override(BaseModel):
    """Let a refused change through anyway (needs the API token); recorded for the audit."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=255, pattern=r"\S", description="who decides")
    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="why")


class GateRequest(BaseModel):
    """A CI pipeline asks whether a change may go out."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(pattern=NAME, description="the service the change goes to")
    change: str = Field(pattern=KIND, description="change kind, e.g. deploy, risky, migration, fix, rollback")
    override: Override | None = None


class GateSLO(BaseModel):
    """One SLO of the service as the gate judged it."""

    id: str
    state: PolicyState
    reason: str
    remaining_ratio: float | None


class GateAnswer(BaseModel):
    """200: go ahead (or overridden); 409: refused, with the reasons."""

    service: str
    change: str
    allowed: bool = Field(description="the policy's answer, before any override")
    state: PolicyState
    reasons: list[str] = Field(description="why the change is refused (empty when allowed)")
    slos: list[GateSLO]
    overridden: bool = False
    override_id: int | None = Field(None, description="the audit row of the override")


class OverrideRow(BaseModel):
    """One audit row."""

    id: int
    at: str
    by: str
    reason: str
    service: str
    change: str
    state: str
    refusals: list[str]


class OverrideList(BaseModel):
    """Overrides, oldest first."""

    overrides: list[OverrideRow]


class BacktestRequest(BaseModel):
    """The range and SLOs of a backtest."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from", description="RFC 3339 or unix seconds")
    end: str = Field(alias="to", description="RFC 3339 or unix seconds")
    slos: list[str] | None = Field(None, max_length=1000, description="SLO ids (default: all)")


class Period(BaseModel):
    """A firing episode: first and last firing step."""

    start: str
    end: str


class Detection(BaseModel):
    """One incident as one tier saw it."""

    incident_start: str
    caught: bool
    delay_seconds: float | None


class TierBacktest(BaseModel):
    """One alert tier over the range."""

    name: str
    severity: str
    short_window_seconds: int
    long_window_seconds: int
    threshold: float
    min_events: int
    incidents_caught: int
    incidents_missed: int
    detections: list[Detection]
    max_delay_seconds: float | None
    alerts: int = Field(description="firing episodes")
    alerts_without_incident: int
    alerts_without_incident_periods: list[Period]
    firing_seconds: float
    firing_periods: list[Period]


class BacktestIncident(BaseModel):
    """An incident of the report's finder."""

    start: str
    end: str
    duration_seconds: float
    budget_consumed_ratio: float
    peak_burn_rate: float


class SLOBacktest(BaseModel):
    """One SLO's backtest."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    step_seconds: int
    incidents: list[BacktestIncident]
    tiers: list[TierBacktest]


class BacktestAnswer(BaseModel):
    """Every SLO asked for."""

    slos: list[SLOBacktest]
