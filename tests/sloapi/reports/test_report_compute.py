"""Report maths: hand-checked cases and hypothesis properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloapi.reports.compute import ReportOptions, SLOSeries, compute_slo
from sloapi.reports.month import Month
from sloapi.reports.summary import build_report

FEB = Month(2026, 2, "UTC")  # 28 days: 40,320 one-minute steps
AFTER = datetime(2026, 4, 1, tzinfo=UTC)
STEP = timedelta(minutes=1)
OPTS = ReportOptions(step=STEP)


def grid(month: Month = FEB, step: timedelta = STEP) -> pd.DatetimeIndex:
    return pd.date_range(month.start + step, month.end, freq=step, tz=UTC)


def events(total: float = 100.0, month: Month = FEB) -> pd.DataFrame:
    return pd.DataFrame({"total": total, "errors": 0.0}, index=grid(month))


def test_perfect_month_meets_objective_with_full_budget() -> None:
    report = compute_slo(SLOSeries("s-a", Decimal("0.999"), events()), FEB, AFTER, OPTS)
    assert report.sli == 1.0
    assert report.met is True
    assert report.error_budget.allowed_seconds == pytest.approx(0.001 * 28 * 86400)
    assert report.error_budget.remaining_ratio == 1.0
    assert report.coverage_ratio == 1.0
    assert report.incidents == []
    assert len(report.daily) == 28
    assert report.warnings == []


def test_outage_gives_incident_downtime_and_budget() -> None:
    frame = events()
    frame.iloc[600:630, frame.columns.get_loc("errors")] = 100.0  # 30 min full outage
    frame.iloc[632:634, frame.columns.get_loc("errors")] = 50.0  # gap of 2 min: same incident
    frame.iloc[700:701, frame.columns.get_loc("errors")] = 100.0  # far away: its own incident
    report = compute_slo(SLOSeries("s-a", Decimal("0.999"), frame), FEB, AFTER, OPTS)
    bad = 3000 + 100 + 100
    total = 100.0 * 28 * 1440
    assert report.error_events == bad
    assert report.sli == pytest.approx(1 - bad / total)
    assert report.error_budget.consumed_ratio == pytest.approx(bad / (0.001 * total))
    assert report.met is (1 - bad / total >= 0.999)
    assert report.downtime_seconds == pytest.approx(60 * (30 + 1 + 1))
    first, second = report.incidents
    assert first.start == FEB.start + timedelta(minutes=600)
    assert first.end == FEB.start + timedelta(minutes=634)
    assert first.duration_seconds == 34 * 60
    assert first.budget_consumed_ratio == pytest.approx(3100 / (0.001 * total))
    assert first.peak_burn_rate == pytest.approx(1000.0)
    assert second.start == FEB.start + timedelta(minutes=700)
    assert report.worst_day is not None and report.worst_day.date.isoformat() == "2026-02-01"


def test_gap_at_threshold_splits_incidents() -> None:
    frame = events()
    errors = frame.columns.get_loc("errors")
    frame.iloc[100, errors] = 100.0
    frame.iloc[106, errors] = 100.0  # 5 min between them: not shorter than the gap, two incidents
    report = compute_slo(SLOSeries("s-a", Decimal("0.999"), frame), FEB, AFTER, OPTS)
    assert len(report.incidents) == 2


def test_zero_traffic_day_is_neutral_and_missing_data_lowers_coverage() -> None:
    frame = events()
    frame.iloc[0:1440, frame.columns.get_loc("total")] = 0.0  # 1 Feb: no traffic
    frame = frame.drop(frame.index[2000:2100])  # a scrape gap of 100 steps
    report = compute_slo(SLOSeries("s-a", Decimal("0.999"), frame), FEB, AFTER, OPTS)
    assert report.sli == 1.0
    assert report.daily[0].sli is None
    assert report.daily[0].coverage_ratio == 1.0
    assert report.coverage_ratio == pytest.approx(1 - 100 / 40320)
    assert report.warnings == []


def test_low_coverage_and_retention_warn() -> None:
    frame = events().iloc[: 40320 // 2]
    opts = ReportOptions(step=STEP, retention_start=FEB.start + timedelta(days=3))
    report = compute_slo(SLOSeries("s-a", Decimal("0.99"), frame), FEB, AFTER, opts)
    assert report.coverage_ratio == pytest.approx(0.5)
    assert any("coverage 50.00%" in note for note in report.warnings)
    assert any("retention" in note for note in report.warnings)


def test_raw_ratio_is_time_weighted() -> None:
    ratio = pd.DataFrame({"error_ratio": 0.0}, index=grid())
    ratio.iloc[: 40320 // 4, 0] = 0.004  # first week at 0.4% errors
    report = compute_slo(SLOSeries("s-r", Decimal("0.999"), ratio), FEB, AFTER, OPTS)
    assert report.kind == "ratio"
    assert report.sli == pytest.approx(0.999)
    assert report.met is True  # exactly at the objective
    assert report.error_budget.consumed_ratio == pytest.approx(1.0)
    assert report.error_budget.allowed_events is None
    assert report.incidents == []  # burn 4x < 10x


def test_no_data_at_all() -> None:
    empty = pd.DataFrame({"total": [], "errors": []}, index=pd.DatetimeIndex([], tz=UTC))
    report = compute_slo(SLOSeries("s-a", Decimal("0.999"), empty), FEB, AFTER, OPTS)
    assert report.sli is None and report.met is None
    assert report.coverage_ratio == 0.0
    assert report.error_budget.consumed_ratio == 0.0


def test_partial_month_and_timezone_days() -> None:
    month = Month(2026, 3, "Europe/Paris")  # DST starts 29 March
    assert month.seconds == (31 * 24 - 1) * 3600
    now = month.start + timedelta(days=10, hours=5)
    frame = events(month=month)
    report = build_report(month, [SLOSeries("s-a", Decimal("0.999"), frame)], now, OPTS)
    assert report.partial is True
    assert "still in progress" in report.warnings[0]
    slo = report.slos[0]
    assert len(slo.daily) == 11
    assert slo.daily[0].date.isoformat() == "2026-03-01"
    assert slo.total_events == 100.0 * (10 * 1440 + 5 * 60)
    assert report.subject().endswith(": 1 met, 0 missed (partial month)")


def test_summary_and_month_over_month() -> None:
    good = events()
    bad = events()
    bad.iloc[:100, bad.columns.get_loc("errors")] = 100.0
    series = [
        SLOSeries("web-availability", Decimal("0.999"), good, labels={"component": "haproxy"}),
        SLOSeries("pg-primary", Decimal("0.9999"), bad, labels={"component": "postgresql"}),
        SLOSeries("pg-bouncer", Decimal("0.999"), good, labels={"component": "postgresql"}),
    ]
    first = build_report(FEB, series, AFTER, OPTS)
    assert first.subject() == "Availability report February 2026: 2 met, 1 missed"
    assert [o.id for o in first.summary.worst_offenders] == ["pg-primary"]
    comps = {c.component: c for c in first.summary.components}
    assert comps["postgresql"].met == 1
    assert comps["postgresql"].sli == pytest.approx(1 - 10000 / (100 * 40320))
    march = Month(2026, 3)
    second = build_report(
        march,
        [SLOSeries("pg-primary", Decimal("0.9999"), events(month=march))],
        datetime(2026, 5, 1, tzinfo=UTC),
        OPTS,
        previous=first,
    )
    change = second.slos[0].change
    assert change is not None and change.sli_change == pytest.approx(10000 / (100 * 40320))


def test_objective_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="objective"):
        compute_slo(SLOSeries("s-a", Decimal("1"), events()), FEB, AFTER, OPTS)


SMALL = Month(2026, 2, "UTC")
HOURS = timedelta(hours=1)


@st.composite
def hourly_events(draw: st.DrawFn) -> pd.DataFrame:
    n = 28 * 24
    base = draw(st.integers(0, 1000))
    frame = pd.DataFrame({"total": float(base), "errors": 0.0}, index=grid(SMALL, HOURS))
    changes = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 1000), st.floats(0, 1)), max_size=60)
    )
    for pos, total, share in changes:
        frame.iloc[pos] = [float(total), float(np.floor(total * share))]
    holes = draw(st.lists(st.integers(0, n - 1), max_size=50))
    return frame.drop(frame.index[sorted(set(holes))])


@settings(max_examples=40, deadline=None)
@given(frame=hourly_events(), objective=st.sampled_from(["0.9", "0.99", "0.999", "0.9995"]))
def test_properties(frame: pd.DataFrame, objective: str) -> None:
    opts = ReportOptions(step=HOURS, incident_merge_gap=timedelta(hours=2))
    report = compute_slo(SLOSeries("p", Decimal(objective), frame), SMALL, AFTER, opts)
    budget = report.error_budget
    assert budget.consumed_ratio + budget.remaining_ratio == pytest.approx(1.0)
    assert report.sli is None or 0.0 <= report.sli <= 1.0
    assert 0.0 <= report.coverage_ratio <= 1.0
    assert report.coverage_ratio == pytest.approx(len(frame) / (28 * 24))
    # incidents never overlap, and never use more than the whole consumption
    for before, after in zip(report.incidents, report.incidents[1:], strict=False):
        assert after.start - before.end >= timedelta(hours=2)
    used = sum(i.budget_consumed_ratio for i in report.incidents)
    assert used <= budget.consumed_ratio + 1e-9
    # the month's budget burns down day by day to what remains at the end
    if report.daily:
        assert report.daily[-1].budget_remaining_ratio == pytest.approx(budget.remaining_ratio)
    # JSON never carries NaN or infinity
    assert "NaN" not in report.model_dump_json() and "Infinity" not in report.model_dump_json()


@settings(max_examples=25, deadline=None)
@given(frame=hourly_events(), extra=st.integers(1, 500), where=st.integers(0, 28 * 24 - 1))
def test_more_errors_never_improve_the_sli(frame: pd.DataFrame, extra: int, where: int) -> None:
    opts = ReportOptions(step=HOURS)
    base = compute_slo(SLOSeries("p", Decimal("0.999"), frame), SMALL, AFTER, opts)
    worse = frame.copy()
    if len(worse) == 0:
        return
    row = worse.index[where % len(worse)]
    worse.loc[row, "total"] += extra
    worse.loc[row, "errors"] += extra
    after = compute_slo(SLOSeries("p", Decimal("0.999"), worse), SMALL, AFTER, opts)
    assert after.sli is not None
    assert base.sli is None or after.sli <= base.sli + 1e-12
    assert after.error_budget.consumed_ratio >= base.error_budget.consumed_ratio - 1e-12


@settings(max_examples=25, deadline=None)
@given(frame=hourly_events(), where=st.integers(0, 28 * 24 - 1))
def test_zero_traffic_steps_are_neutral(frame: pd.DataFrame, where: int) -> None:
    opts = ReportOptions(step=HOURS)
    base = compute_slo(SLOSeries("p", Decimal("0.99"), frame), SMALL, AFTER, opts)
    more = frame.copy()
    idle = grid(SMALL, HOURS)[where]
    more.loc[idle] = [0.0, 0.0] if idle not in frame.index else more.loc[idle]
    more = more.sort_index()
    if idle in frame.index and frame.loc[idle, "total"] > 0:
        return
    after = compute_slo(SLOSeries("p", Decimal("0.99"), more), SMALL, AFTER, opts)
    assert after.sli == base.sli
    assert after.error_budget.consumed_ratio == base.error_budget.consumed_ratio
