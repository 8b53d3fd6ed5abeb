"""Report renderings: JSON, CSV and plain text (HTML lives in ``html.py``)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sloapi.reports.model import (
    ComponentSummary,
    ExcludedWindow,
    MonthReport,
    SLOReport,
    SpentLabel,
    SpentPeriod,
)

CSV_COLUMNS = (
    "month",
    "id",
    "objective",
    "sli",
    "met",
    "budget_allowed_seconds",
    "budget_consumed_seconds",
    "budget_consumed_ratio",
    "budget_remaining_ratio",
    "bad_events",
    "total_events",
    "downtime_seconds",
    "coverage_ratio",
    "incidents",
    "worst_day",
    "worst_day_sli",
    "sli_change",
)


def to_json(report: MonthReport) -> str:
    """The report as JSON (the API's body and the snapshot format)."""
    return json.dumps(report.model_dump(mode="json"), indent=2, allow_nan=False) + "\n"


def _num(value: float | None) -> str:
    return "" if value is None else repr(round(value, 10))


def _csv_row(report: MonthReport, slo: SLOReport) -> list[str]:
    budget = slo.error_budget
    worst = slo.worst_day
    change = slo.change.sli_change if slo.change else None
    return [
        report.month,
        slo.id,
        _num(slo.objective),
        _num(slo.sli),
        "" if slo.met is None else str(slo.met).lower(),
        _num(budget.allowed_seconds),
        _num(budget.consumed_seconds),
        _num(budget.consumed_ratio),
        _num(budget.remaining_ratio),
        _num(slo.error_events),
        _num(slo.total_events),
        _num(slo.downtime_seconds),
        _num(slo.coverage_ratio),
        str(len(slo.incidents)),
        worst.date.isoformat() if worst else "",
        _num(worst.sli) if worst else "",
        _num(change),
    ]


def to_csv(report: MonthReport) -> str:
    """One row per SLO, columns ``CSV_COLUMNS``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for slo in report.slos:
        writer.writerow(_csv_row(report, slo))
    return buffer.getvalue()


def percent(value: float | None, digits: int = 3) -> str:
    """``0.99912`` -> ``99.912%``; None -> ``n/a``."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def duration(seconds: float) -> str:
    """Seconds as ``1h 02m 03s`` (``45s`` when short)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def local_time(moment: datetime, report: MonthReport) -> str:
    """A moment in the report's time zone, ``2026-10-03 14:05``."""
    return moment.astimezone(ZoneInfo(report.timezone)).strftime("%Y-%m-%d %H:%M")


VERDICT_WORDS = {"met": "met", "missed": "MISSED", "no_data": "no data", "no_traffic": "no traffic"}


def verdict(slo: SLOReport) -> str:
    """``met``, ``MISSED``, ``no data`` or ``no traffic`` (neither met nor missed)."""
    return VERDICT_WORDS[slo.verdict]


def component_line(comp: ComponentSummary) -> str:
    """``haproxy: 1 met, 1 missed; lowest SLI 99.912%`` (no SLI when none was judged)."""
    line = f"{comp.component}: {comp.headline()}"
    return line if comp.sli is None else f"{line}; lowest SLI {percent(comp.sli)}"


PERIOD_WORDS = {"outside_incidents": "outside incidents", "missing_data": "missing data counted as bad"}


def period_name(row: SpentPeriod, report: MonthReport) -> str:
    """``incident 2026-10-03 14:05 - 2026-10-03 14:35``, ``outside incidents``, ..."""
    if row.start is None or row.end is None:
        return PERIOD_WORDS.get(row.kind, row.kind)
    return f"incident {local_time(row.start, report)} - {local_time(row.end, report)}"


def label_name(row: SpentLabel) -> str:
    """``server=s2, code=5xx``; ``other`` for the remainder; ``all`` without labels."""
    if row.other:
        return "other"
    return ", ".join(f"{name}={value}" for name, value in row.labels.items()) or "all"


def budget_spent_lines(slo: SLOReport, report: MonthReport) -> list[str]:
    """The text report's "where the budget went" lines of one SLO (none when nothing was spent)."""
    spent = slo.budget_spent
    if spent is None or slo.error_budget.consumed_ratio <= 0:
        return []
    lines = ["  where the budget went:"]
    if spent.labels:
        lines.append(f"  (periods, then by {', '.join(spent.breakdown_labels) or 'error query'})")
    rows: list[tuple[str, SpentPeriod | SpentLabel]] = [(period_name(r, report), r) for r in spent.periods]
    rows += [(label_name(row), row) for row in spent.labels or []]
    for name, row in rows:
        used = f"{percent(row.consumed_ratio, 1)} of the budget"
        lines.append(f"    {name}: {used} ({percent(row.share, 1)} of what was used)")
    return lines


def excluded_line(window: ExcludedWindow, report: MonthReport) -> str:
    """``2026-08-10 02:00 - 2026-08-10 03:00 (upgrade; alice)``."""
    return (
        f"{local_time(window.start, report)} - {local_time(window.end, report)} "
        f"({window.reason}; {window.who})"
    )


def to_text(report: MonthReport) -> str:
    """A plain-text report (also the mail's text part)."""
    out = [report.subject(), "=" * len(report.subject()), ""]
    out.append(f"Time zone: {report.timezone}; generated {local_time(report.generated_at, report)}")
    out.extend(f"WARNING: {note}" for note in report.warnings)
    out.extend(f"CHANGED SINCE SENT: exclusion {excluded_line(w, report)}" for w in report.changes_since_sent)
    summary = report.summary
    out += ["", f"{summary.headline()}."]
    if summary.worst_offenders:
        out.append(
            "Worst offenders: "
            + ", ".join(f"{o.id} ({percent(o.consumed_ratio, 1)} of budget)" for o in summary.worst_offenders)
        )
    for comp in summary.components:
        out.append(f"  {component_line(comp)}")
    if report.overrides:
        out += ["", "Error-budget policy overrides:"]
        out.extend(
            f"  {local_time(o.at, report)} {o.by}: {o.change} to {o.service} ({o.state}): {o.reason}"
            for o in report.overrides
        )
    for slo in report.slos:
        budget = slo.error_budget
        out += ["", f"{slo.id}: {verdict(slo)}", "-" * (len(slo.id) + 2 + len(verdict(slo)))]
        out.append(f"  objective {percent(slo.objective)}, achieved {percent(slo.sli)}")
        out.append(
            f"  error budget: {duration(budget.allowed_seconds)} allowed, "
            f"{percent(budget.consumed_ratio, 1)} used, {percent(budget.remaining_ratio, 1)} left"
        )
        out.append(
            f"  downtime {duration(slo.downtime_seconds)}; data coverage {percent(slo.coverage_ratio, 2)}"
        )
        if slo.worst_day is not None:
            out.append(f"  worst day {slo.worst_day.date}: {percent(slo.worst_day.sli)}")
        if slo.change is not None and slo.change.sli_change is not None:
            out.append(f"  change against last month: {100 * slo.change.sli_change:+.3f} points")
        for inc in slo.incidents:
            out.append(
                f"  incident {local_time(inc.start, report)} - {local_time(inc.end, report)} "
                f"({duration(inc.duration_seconds)}, {percent(inc.budget_consumed_ratio, 1)} of budget)"
            )
        out.extend(budget_spent_lines(slo, report))
        out.extend(f"  excluded (maintenance): {excluded_line(w, report)}" for w in slo.excluded)
        out.extend(f"  WARNING: {note}" for note in slo.warnings)
    return "\n".join(out) + "\n"
