"""The monthly report's "where the budget went" against the known history (report_history.py)."""

from __future__ import annotations

import json

import pytest

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
