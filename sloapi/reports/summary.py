"""The month at a glance: met count, worst offenders, availability per stack component."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sloapi.reports.compute import ReportOptions, SLOSeries, compute_slo
from sloapi.reports.model import ComponentSummary, MonthReport, Offender, SLOReport, Summary
from sloapi.reports.month import Month

COMPONENT_LABEL = "component"
WORST_OFFENDERS = 5


def _counts(slos: Sequence[SLOReport]) -> dict[str, int]:
    """How many SLOs have each verdict."""
    verdicts = [slo.verdict for slo in slos]
    return {name: verdicts.count(name) for name in ("met", "missed", "no_data", "no_traffic")}


def summarise(slos: Sequence[SLOReport], worst: int = WORST_OFFENDERS) -> Summary:
    """Summarise SLO reports.

    Args:
        slos: The month's SLO reports.
        worst: How many offenders to list at most.

    Returns:
        Counts, the SLOs that used the most budget (only those that used any), and per
        component (label ``component``) the lowest SLI and largest downtime.
    """
    burning = [slo for slo in slos if slo.error_budget.consumed_ratio > 0]
    burning.sort(key=lambda slo: (-slo.error_budget.consumed_ratio, slo.id))
    groups: dict[str, list[SLOReport]] = defaultdict(list)
    for slo in slos:
        if slo.labels.get(COMPONENT_LABEL):
            groups[slo.labels[COMPONENT_LABEL]].append(slo)
    components = []
    for name in sorted(groups):
        members = groups[name]
        slis = [slo.sli for slo in members if slo.sli is not None]
        components.append(
            ComponentSummary(
                component=name,
                slos=[slo.id for slo in members],
                **_counts(members),
                sli=min(slis) if slis else None,
                downtime_seconds=max(slo.downtime_seconds for slo in members),
            )
        )
    return Summary(
        slos=len(slos),
        **_counts(slos),
        worst_offenders=[
            Offender(id=slo.id, sli=slo.sli, consumed_ratio=slo.error_budget.consumed_ratio, met=slo.met)
            for slo in burning[:worst]
        ],
        components=components,
    )


def build_report(
    month: Month,
    series: Sequence[SLOSeries],
    now: datetime,
    options: ReportOptions | None = None,
    *,
    previous: MonthReport | None = None,
    warnings: Sequence[str] = (),
) -> MonthReport:
    """Compute a whole month's report.

    Args:
        month: The calendar month.
        series: Every SLO with its month of data.
        now: Current time (``generated_at``; decides whether the month is partial).
        options: Report maths options.
        previous: The previous month's report, for month-over-month changes.
        warnings: Report-wide notes from fetching (e.g. queries that failed).

    Returns:
        The report, SLOs in id order.
    """
    options = options or ReportOptions()
    before = {slo.id: slo for slo in previous.slos} if previous else {}
    slos = [compute_slo(item, month, now, options, before.get(item.id)) for item in series]
    return assemble_report(month, slos, now, options, warnings=warnings)


def assemble_report(
    month: Month,
    slos: Sequence[SLOReport],
    now: datetime,
    options: ReportOptions,
    *,
    warnings: Sequence[str] = (),
) -> MonthReport:
    """The month's report from its SLOs' reports (put in id order) and report-wide notes."""
    ordered = sorted(slos, key=lambda slo: slo.id)
    notes = list(warnings)
    partial = month.is_partial(now)
    if partial:
        notes.insert(
            0, f"{month.title} is still in progress: figures cover it up to {now:%Y-%m-%d %H:%M} UTC"
        )
    return MonthReport(
        month=month.key,
        title=month.title,
        timezone=month.tz,
        start=month.start,
        end=month.end,
        generated_at=now,
        partial=partial,
        step_seconds=options.step.total_seconds(),
        slos=ordered,
        summary=summarise(ordered),
        warnings=notes,
    )
