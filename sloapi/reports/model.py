"""Typed results of a monthly report; they serialise to the report JSON and back (snapshots)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Verdict = Literal["met", "missed", "no_data", "no_traffic"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ErrorBudget(_Model):
    """An SLO's error budget for the month.

    ``consumed_ratio`` is the fraction of the month's budget used ((1 - SLI) / (1 - objective));
    above 1 the budget is overspent and ``remaining_ratio`` is negative. For a month in progress
    the figures are those of the elapsed part, i.e. what the month comes to at the same rate.
    """

    ratio: float = Field(description="1 - objective, e.g. 0.001 for 99.9%")
    allowed_seconds: float = Field(description="Seconds of full outage the month allows")
    consumed_seconds: float = Field(description="Budget used, in seconds of full-outage equivalent")
    remaining_seconds: float
    consumed_ratio: float
    remaining_ratio: float
    allowed_events: float | None = Field(None, description="Event SLIs: bad events allowed")
    consumed_events: float | None = Field(None, description="Event SLIs: bad events seen")
    remaining_events: float | None = None


class Incident(_Model):
    """A maximal period in which every burning step's burn rate reached the threshold."""

    start: datetime
    end: datetime
    duration_seconds: float
    budget_consumed_ratio: float = Field(description="Share of the month's budget used inside it")
    peak_burn_rate: float


class SpentPeriod(_Model):
    """Where the budget went over time: one incident, the time outside incidents, or missing
    data counted as bad."""

    kind: str = Field(description="incident, outside_incidents or missing_data")
    start: datetime | None = None
    end: datetime | None = None
    consumed_ratio: float = Field(description="Share of the month's budget")
    share: float = Field(description="Share of the consumed budget (the rows add up to 1)")


class SpentLabel(_Model):
    """Where the budget went by label values of the error query (event SLIs)."""

    labels: dict[str, str] = Field(default_factory=dict)
    other: bool = Field(False, description="What the breakdown does not account for")
    error_events: float
    consumed_ratio: float
    share: float


class BudgetSpent(_Model):
    """Where the month's budget went (docs/sloapi.md, "Budget attribution")."""

    periods: list[SpentPeriod] = Field(default_factory=list)
    breakdown_labels: list[str] = Field(default_factory=list)
    labels: list[SpentLabel] | None = Field(default=None, description="null for raw SLIs")


class ExcludedWindow(_Model):
    """A maintenance window excluded from the SLI and the budget (docs/sloapi.md)."""

    start: datetime
    end: datetime
    reason: str
    who: str
    slo_id: str | None = Field(None, description="null: every SLO")
    source: str = Field("", description="`file:line` or `api#id`")


class DailySLI(_Model):
    """One local calendar day of the month."""

    date: date
    sli: float | None = Field(description="null when the day had no traffic or no data")
    coverage_ratio: float
    budget_remaining_ratio: float | None = Field(
        description="Month's budget left at the end of the day; null on a day without any sample"
    )
    total_events: float | None = None
    error_events: float | None = None


class MonthChange(_Model):
    """Change against the previous month's report."""

    previous_sli: float | None
    sli_change: float | None
    consumed_ratio_change: float | None


class SLOReport(_Model):
    """One SLO's month."""

    id: str
    service: str = ""
    name: str = ""
    description: str = ""
    kind: str = Field(description="'events' (good/total) or 'ratio' (time-weighted error ratio)")
    labels: dict[str, str] = Field(default_factory=dict)
    objective: float = Field(description="Objective as a ratio, e.g. 0.999")
    sli: float | None = Field(description="Achieved SLI; null without traffic or data")
    met: bool | None = Field(description="null when there is nothing to judge (no data, no traffic)")
    verdict: Verdict = Field(
        "no_data",
        description="met, missed, no_data (no sample of the total or ratio series in the month) "
        "or no_traffic (samples, but zero events); the status API classifies alike",
    )
    error_budget: ErrorBudget
    downtime_seconds: float = Field(description="Sum over steps of step length x error ratio")
    coverage_ratio: float
    total_events: float | None = None
    error_events: float | None = None
    incidents: list[Incident] = Field(default_factory=list)
    budget_spent: BudgetSpent | None = Field(None, description="Where the budget went")
    excluded: list[ExcludedWindow] = Field(default_factory=list, description="Maintenance windows left out")
    excluded_seconds: float = Field(0.0, description="Seconds of the month left out by them")
    worst_day: DailySLI | None = None
    daily: list[DailySLI] = Field(default_factory=list)
    change: MonthChange | None = None
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _verdict_of_older_snapshots(cls, data: Any) -> Any:
        """Snapshots kept before `verdict` existed: derive it from `met`."""
        if isinstance(data, dict) and "verdict" not in data:
            met = data.get("met")
            data = {**data, "verdict": "no_data" if met is None else ("met" if met else "missed")}
        return data


class Offender(_Model):
    """An SLO among the month's worst."""

    id: str
    sli: float | None
    consumed_ratio: float
    met: bool | None


def verdict_counts(met: int, missed: int, no_data: int, no_traffic: int) -> str:
    """``3 met, 1 missed, 1 without data`` (met and missed always; the others when not 0)."""
    parts = [f"{met} met", f"{missed} missed"]
    if no_data:
        parts.append(f"{no_data} without data")
    if no_traffic:
        parts.append(f"{no_traffic} without traffic")
    return ", ".join(parts)


class ComponentSummary(_Model):
    """Availability of one component of the stack (SLOs labelled ``component``)."""

    component: str
    slos: list[str]
    met: int
    missed: int = 0
    no_data: int = 0
    no_traffic: int = 0
    sli: float | None = Field(description="The lowest SLI among the component's SLOs")
    downtime_seconds: float = Field(description="The largest downtime among its SLOs")

    def headline(self) -> str:
        """The component's SLOs by verdict, e.g. ``1 met, 1 missed``."""
        return verdict_counts(self.met, self.missed, self.no_data, self.no_traffic)


class Summary(_Model):
    """The month at a glance."""

    slos: int
    met: int
    missed: int
    no_data: int = Field(description="SLOs without any sample in the month")
    no_traffic: int = Field(0, description="SLOs with samples but zero events in the month")
    worst_offenders: list[Offender]
    components: list[ComponentSummary]

    def headline(self) -> str:
        """The month's SLOs by verdict, e.g. ``3 met, 1 missed, 1 without data``."""
        return verdict_counts(self.met, self.missed, self.no_data, self.no_traffic)


class PolicyOverride(_Model):
    """A change the error-budget gate refused and someone let through (audit row)."""

    id: int
    at: datetime
    by: str
    reason: str
    service: str
    change: str
    state: str = Field(description="the policy state when it was overridden: warn or freeze")
    refusals: list[str] = Field(default_factory=list, description="what the gate said")


class MonthReport(_Model):
    """The report of one calendar month."""

    month: str
    title: str
    timezone: str
    start: datetime
    end: datetime
    generated_at: datetime
    partial: bool
    step_seconds: float
    slos: list[SLOReport]
    summary: Summary
    warnings: list[str] = Field(default_factory=list)
    overrides: list[PolicyOverride] = Field(
        default_factory=list, description="error-budget gate overrides recorded in the month"
    )
    changes_since_sent: list[ExcludedWindow] = Field(
        default_factory=list,
        description="Exclusion windows declared after this report was sent (it stays as sent)",
    )

    def subject(self) -> str:
        """Mail subject, e.g. ``Availability report October 2026: 3 met, 1 missed, 1 without data``."""
        text = f"Availability report {self.title}: {self.summary.headline()}"
        return text + " (partial month)" if self.partial else text
