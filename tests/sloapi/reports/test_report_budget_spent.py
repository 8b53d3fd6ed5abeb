"""The monthly report's "where the budget went" and exclusion windows against the known history
(report_history.py)."""

from __future__ import annotations

import json

import pytest
import report_history as hist
from report_history import SMTPSink

from sloapi.engine.exclusions import Exclusion
from sloapi.reports.html import to_html
from sloapi.reports.month import Month
from sloapi.reports.render import to_json, to_text

AUG = Month(2026, 8, "Europe/Paris")


def test_budget_spent_adds_up_and_names_the_incidents(make_service) -> None:  # type: ignore[no-untyped-def]
    report, _ = make_service().report(AUG)
    web = next(slo for slo in report.slos if slo.id == "web-availability")
    spent = web.budget_spent
    assert spent is not None
    consumed = web.error_budget.consumed_ratio
    incidents = [row for row in spent.periods if row.kind == "incident"]
    assert [(row.start, row.end) for row in incidents] == [(inc.start, inc.end) for inc in web.incidents]
    for row, inc in zip(incidents, web.incidents, strict=True):
        assert row.consumed_ratio == pytest.approx(inc.budget_consumed_ratio, rel=1e-12)
    # the slow burn of 22 August (5x, under the incident threshold) is outside incidents
    outside = next(row for row in spent.periods if row.kind == "outside_incidents")
    assert outside.consumed_ratio > 0
    assert sum(row.consumed_ratio for row in spent.periods) == pytest.approx(consumed, rel=1e-3)
    assert sum(row.share for row in spent.periods) == pytest.approx(1.0, rel=1e-3)
    # every web error is a 5xx of proxy web: one label row holds the whole consumed budget
    assert spent.labels is not None and spent.breakdown_labels == []
    assert sum(row.consumed_ratio for row in spent.labels) == pytest.approx(consumed, rel=1e-3)
    assert spent.labels[0].error_events == pytest.approx(web.error_events, rel=1e-6)

    pg = next(slo for slo in report.slos if slo.id == "pg-primary")
    assert pg.budget_spent is not None and pg.budget_spent.labels is None
    assert sum(r.consumed_ratio for r in pg.budget_spent.periods) == pytest.approx(
        pg.error_budget.consumed_ratio, rel=1e-3
    )


def test_budget_spent_is_rendered(make_service) -> None:  # type: ignore[no-untyped-def]
    report, _ = make_service().report(AUG)
    text = to_text(report)
    assert "where the budget went:" in text
    assert "incident 2026-08-10 16:00 - 2026-08-10 16:45" in text  # Paris time
    assert "outside incidents:" in text
    html = to_html(report)
    assert "Where the budget went" in html and "outside incidents" in html
    body = json.loads(to_json(report))
    web = next(slo for slo in body["slos"] if slo["id"] == "web-availability")
    assert {row["kind"] for row in web["budget_spent"]["periods"]} == {"incident", "outside_incidents"}


def outage_exclusion() -> Exclusion:
    """The web outage of 10 August (14:00-14:45 UTC) as planned maintenance."""
    start, end = hist.at("2026-08-10 14:00"), hist.at("2026-08-10 14:45")
    return Exclusion(start, end, "switch replaced", "alice", "web-availability", "test:1")


def test_a_past_exclusion_recomputes_an_unsent_report(make_service, known_history) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    before, first_id = service.report(AUG)
    service.exclusions = lambda: [outage_exclusion()]
    after, second_id = service.report(AUG)
    assert second_id != first_id and after.changes_since_sent == []
    web_before = next(slo for slo in before.slos if slo.id == "web-availability")
    web = next(slo for slo in after.slos if slo.id == "web-availability")
    assert [(w.start, w.end, w.reason) for w in web.excluded] == [
        (hist.at("2026-08-10 14:00"), hist.at("2026-08-10 14:45"), "switch replaced")
    ]
    assert web.excluded_seconds == 45 * 60
    # exactly the outage's minutes leave the SLI: their errors and their traffic
    want = hist.expected(known_history, AUG.start, AUG.end)
    gone = [
        (e, t) for ts, (e, t) in want.web_steps.items() if 0 < ts - web.excluded[0].start.timestamp() <= 2700
    ]
    assert len(gone) == 45
    assert web.error_events == pytest.approx(web_before.error_events - sum(e for e, _ in gone), rel=1e-6)
    assert web.total_events == pytest.approx(web_before.total_events - sum(t for _, t in gone), rel=1e-9)
    assert hist.at("2026-08-10 14:00") not in [inc.start for inc in web.incidents]
    assert web.coverage_ratio == pytest.approx(web_before.coverage_ratio, rel=1e-3)
    assert "excluded (maintenance): 2026-08-10 16:00 - 2026-08-10 16:45 (switch replaced; alice)" in to_text(
        after
    )
    pg = next(slo for slo in after.slos if slo.id == "pg-primary")
    assert pg.excluded == []


def test_a_sent_report_stays_as_sent_and_lists_the_change(make_service) -> None:  # type: ignore[no-untyped-def]
    sink = SMTPSink().start()
    try:
        service = make_service(smtp_port=sink.port)
        sent_report, sent_id = service.report(AUG)
        assert all(o.status == "sent" for o in service.send(AUG))
        service.exclusions = lambda: [outage_exclusion()]
        later, later_id = service.report(AUG)
    finally:
        sink.stop()
    assert later_id == sent_id
    assert later.slos == sent_report.slos
    assert [(w.slo_id, w.reason) for w in later.changes_since_sent] == [
        ("web-availability", "switch replaced")
    ]
    assert "CHANGED SINCE SENT: exclusion 2026-08-10 16:00 - 2026-08-10 16:45" in to_text(later)
    assert "Changed since sent" in to_html(later)
