"""Reports against a real Prometheus holding two known months; figures checked independently."""

from __future__ import annotations

from datetime import timedelta

import pytest
import report_history as hist
from report_history import Clock

from sloapi.reports.month import Month

AUG = Month(2026, 8, "Europe/Paris")
SEP = Month(2026, 9, "Europe/Paris")
STEP = timedelta(minutes=1)


def by_id(report, slo_id):  # type: ignore[no-untyped-def]
    return next(slo for slo in report.slos if slo.id == slo_id)


@pytest.mark.parametrize("month", [AUG, SEP], ids=["august", "september"])
def test_month_figures_equal_independent_computation(make_service, known_history, month) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    report, snapshot_id = service.report(month)
    assert snapshot_id is not None
    assert report.partial is False
    want = hist.expected(known_history, month.start, month.end)

    web = by_id(report, "web-availability")
    assert web.total_events == pytest.approx(want.web_total, rel=1e-9)
    assert web.error_events == pytest.approx(want.web_errors, rel=1e-6, abs=1e-6)
    assert web.sli == pytest.approx(want.web_sli, abs=1e-9)
    assert web.met is (want.web_sli >= 0.999)
    assert web.downtime_seconds == pytest.approx(want.web_downtime, rel=1e-6)
    assert web.coverage_ratio == pytest.approx(want.web_coverage, abs=1e-12)
    assert web.error_budget.allowed_seconds == pytest.approx(0.001 * month.seconds)
    assert web.error_budget.consumed_ratio == pytest.approx(
        want.web_errors / (0.001 * want.web_total), rel=1e-6
    )

    expected_incidents = [(hist.at(a), hist.at(b)) for a, b in hist.WEB_INCIDENTS[month.key]]
    got = [(inc.start, inc.end) for inc in web.incidents]
    assert len(got) == len(expected_incidents), got
    for (start, end), (want_start, want_end) in zip(got, expected_incidents, strict=True):
        assert abs(start - want_start) <= STEP
        assert abs(end - want_end) <= STEP
    for inc in web.incidents:  # budget of each incident from the raw minutes
        bad = sum(
            e for ts, (e, _) in want.web_steps.items()
            if inc.start.timestamp() < ts <= inc.end.timestamp()
        )  # fmt: skip
        assert inc.budget_consumed_ratio == pytest.approx(bad / (0.001 * want.web_total), rel=1e-6)

    pg = by_id(report, "pg-primary")
    assert pg.kind == "ratio"
    assert pg.sli == pytest.approx(want.pg_sli, abs=1e-9)
    assert pg.downtime_seconds == pytest.approx(want.pg_downtime, rel=1e-6)
    assert pg.coverage_ratio == pytest.approx(want.pg_coverage, abs=1e-12)

    assert len(web.daily) == 31 if month == AUG else 30
    assert report.summary.slos == 2


def test_august_details(make_service, known_history) -> None:  # type: ignore[no-untyped-def]
    report, _ = make_service().report(AUG)
    web = by_id(report, "web-availability")
    days = {day.date.isoformat(): day for day in web.daily}
    assert days["2026-08-05"].sli is None  # no traffic all day (Paris)
    assert days["2026-08-05"].coverage_ratio == 1.0
    assert days["2026-08-15"].coverage_ratio == pytest.approx(1 - 10 / 1440)  # scrape gap
    assert web.worst_day is not None and web.worst_day.date.isoformat() == "2026-08-10"
    assert web.coverage_ratio < 1.0
    assert web.warnings == []  # 99.98% coverage is above the warning line
    pg = by_id(report, "pg-primary")
    assert pg.incidents and abs(pg.incidents[0].start - hist.at("2026-08-12 08:00")) <= STEP
    components = {c.component for c in report.summary.components}
    assert components == {"haproxy", "postgresql-primary"}


def test_snapshot_is_kept_refresh_keeps_old_and_recomputes_identically(make_service) -> None:  # type: ignore[no-untyped-def]
    from sloapi.storage import report_snapshots as store

    service = make_service()
    first, first_id = service.report(AUG)
    again, again_id = service.report(AUG)
    assert again_id == first_id and again == first
    fresh, fresh_id = service.report(AUG, refresh=True)
    assert fresh_id != first_id
    with service.sessions() as session:
        assert store.snapshot_count(session, "2026-08", "Europe/Paris") == 2
    strip = {"generated_at"}
    assert fresh.model_dump(exclude=strip) == first.model_dump(exclude=strip)


def test_month_over_month_change(make_service, known_history) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    aug, _ = service.report(AUG)
    sep, _ = service.report(SEP)
    web_aug, web_sep = by_id(aug, "web-availability"), by_id(sep, "web-availability")
    assert web_sep.change is not None
    assert web_sep.change.previous_sli == web_aug.sli
    assert web_sep.change.sli_change == pytest.approx(web_sep.sli - web_aug.sli)


def test_partial_month_is_computed_live_and_not_kept(make_service) -> None:  # type: ignore[no-untyped-def]
    from report_history import Clock

    service = make_service(clock=Clock(hist.at("2026-09-10 12:00")))
    report, snapshot_id = service.report(SEP)
    assert report.partial is True and snapshot_id is None
    assert "still in progress" in report.warnings[0]
    web = by_id(report, "web-availability")
    assert web.daily[-1].date.isoformat() == "2026-09-10"


def test_retention_is_read_from_prometheus(report_prometheus) -> None:  # type: ignore[no-untyped-def]
    from sloapi.prometheus import PromClient

    now = hist.NOW
    reachable, unreachable = PromClient(report_prometheus.url), PromClient("http://127.0.0.1:9")
    try:
        assert reachable.retention_start(now) == now - timedelta(days=3650)
        assert unreachable.retention_start(now) is None  # unreachable: unknown, no warning
    finally:
        reachable.close()
        unreachable.close()


@pytest.mark.parametrize("moment", ["2026-08-25 03:50", "2026-09-01 00:00"], ids=["mid-month", "month-end"])
def test_site_incidents_are_the_reports(make_service, moment) -> None:  # type: ignore[no-untyped-def]
    from sloapi.service import ServiceContext
    from sloapi.site.figures import month_incidents

    at = hist.at(moment) + timedelta(seconds=31)  # off the step grid: the site aligns as the report does
    service = make_service(clock=Clock(at))
    report, _ = service.report(AUG)
    ctx = ServiceContext.build(service.settings, prom=service.prom, clock=service.clock)
    try:
        for slo in report.slos:
            site = month_incidents(ctx, ctx.spec(slo.id), AUG, at)
            assert [(i.start, i.end, i.duration_seconds) for i in site] == [
                (i.start, i.end, i.duration_seconds) for i in slo.incidents
            ], slo.id
            for mine, theirs in zip(site, slo.incidents, strict=True):
                assert mine.budget_consumed_ratio == pytest.approx(theirs.budget_consumed_ratio, rel=1e-9)
                assert mine.peak_burn_rate == pytest.approx(theirs.peak_burn_rate, rel=1e-9)
    finally:
        ctx.db_engine.dispose()
    assert any(slo.incidents for slo in report.slos)
