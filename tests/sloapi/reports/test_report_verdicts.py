"""No data, no traffic and a partial month: the status API and every form of the report agree.

A real Prometheus holds 1-20 October 2026 (UTC) of four event SLOs: `ghost` has no sample at all,
`quiet` has samples of a counter that never moves (no traffic), `half` has traffic only from
10 October (half the month's elapsed part, every request good) and `busy` fails 1% of its
requests. The clock stands on 20 October, so October is a month in progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sloapi.config import Settings
from sloapi.main import create_app
from sloapi.reports.charts import render_charts
from sloapi.reports.html import to_html
from sloapi.reports.mail import build_message
from sloapi.reports.model import MonthReport
from sloapi.reports.render import to_text

START = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 10, 20, tzinfo=UTC)
HALF = datetime(2026, 10, 10, tzinfo=UTC)
SCRAPE = 30
EXPECTED = {"ghost": "no_data", "quiet": "no_traffic", "half": "met", "busy": "missed"}
WORDS = {"no_data": "no data", "no_traffic": "no traffic", "met": "met", "missed": "MISSED"}
HEADLINE = "1 met, 1 missed, 1 without data, 1 without traffic"


def _spec(service: str) -> str:
    return f"""\
version: prometheus/v1
service: {service}
labels:
  component: {service}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(requests_total{{service="{service}"}}[{{{{.window}}}}]))
    alerting:
      page_alert: {{disable: true}}
      ticket_alert: {{disable: true}}
"""


def _counter(service: str, code: str, per_second: float, times: np.ndarray) -> tuple:
    values = per_second * (times - times[0])
    return (
        "requests_total",
        "counter",
        {"service": service, "code": code},
        list(zip(times.tolist(), values.tolist(), strict=True)),
    )


def _series() -> list[tuple]:
    times = START.timestamp() + SCRAPE * np.arange(int((NOW - START).total_seconds()) // SCRAPE + 1)
    return [
        _counter("quiet", "200", 0.0, times),
        _counter("half", "200", 2.0, times[times >= HALF.timestamp()]),
        _counter("busy", "200", 1.98, times),
        _counter("busy", "500", 0.02, times),
    ]


@pytest.fixture(scope="module")
def client(prometheus_history, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app over the history, its clock on 20 October."""
    prom = prometheus_history("verdicts", _series())
    base = tmp_path_factory.mktemp("verdicts")
    slos = base / "slos"
    slos.mkdir()
    for service in EXPECTED:
        (slos / f"{service}.yml").write_text(_spec(service), encoding="utf-8")
    settings = Settings(
        slos_dir=slos,
        prometheus_url=prom.url,
        database_url=f"sqlite:///{base / 'sloapi.db'}",
        report_timezone="UTC",
        recording_rules="never",
    )
    with TestClient(create_app(settings, clock=lambda: NOW)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def report(client: TestClient) -> MonthReport:
    """October's report as the API serves it (JSON)."""
    answer = client.get("/api/v1/reports/2026-10")
    assert answer.status_code == 200
    return MonthReport.model_validate_json(answer.text)


def test_status_api_classifies_each_slo(client: TestClient) -> None:
    for service, verdict in EXPECTED.items():
        body = client.get(
            f"/api/v1/slos/{service}-availability/status", params={"window": "month@UTC"}
        ).json()
        assert body["verdict"] == verdict, service
        if verdict in ("no_data", "no_traffic"):
            assert body["sli"] is None
            assert body["error_budget"]["consumed_ratio"] == 0.0
    listing = client.get("/api/v1/slos", params={"window": "month@UTC"}).json()
    assert {s["id"].split("-")[0]: s["verdict"] for s in listing["slos"]} == EXPECTED


def test_report_json_agrees_with_the_api(client: TestClient, report: MonthReport) -> None:
    assert report.partial is True
    verdicts = {slo.id.split("-")[0]: slo.verdict for slo in report.slos}
    assert verdicts == EXPECTED
    by_id = {slo.id.split("-")[0]: slo for slo in report.slos}
    assert by_id["ghost"].met is None and by_id["quiet"].met is None
    assert by_id["half"].met is True and by_id["busy"].met is False
    assert by_id["half"].coverage_ratio == pytest.approx(10 / 19, abs=0.001)
    assert (report.summary.met, report.summary.missed) == (1, 1)
    assert (report.summary.no_data, report.summary.no_traffic) == (1, 1)
    for service in ("half", "busy"):
        status = client.get(
            f"/api/v1/slos/{service}-availability/status", params={"window": "month@UTC"}
        ).json()
        assert status["sli"] == pytest.approx(by_id[service].sli, rel=1e-9)
        assert status["error_budget"]["consumed_ratio"] == pytest.approx(
            by_id[service].error_budget.consumed_ratio, rel=1e-9
        )


def test_headline_subject_text_and_html_agree(report: MonthReport) -> None:
    assert report.subject() == f"Availability report October 2026: {HEADLINE} (partial month)"
    text = to_text(report)
    assert f"\n{HEADLINE}.\n" in text
    assert "  ghost: 0 met, 0 missed, 1 without data\n" in text
    assert "  quiet: 0 met, 0 missed, 1 without traffic\n" in text
    assert "n/a (" not in text
    html = to_html(report)
    for slo in report.slos:
        word = WORDS[EXPECTED[slo.id.split("-")[0]]]
        assert f"{slo.id}: {word}\n" in text
        assert f'{slo.id} <span style="color:#' in html and f">{word}</span></h2>" in html
    assert HEADLINE in html
    message = build_message(
        report, render_charts(report.slos), sender="nines@example.com", recipient="ops@example.com"
    )
    assert message_from_bytes(message.as_bytes(), policy=policy.default)["Subject"] == report.subject()


def test_budget_burn_down_leaves_a_gap_without_data(report: MonthReport) -> None:
    by_id = {slo.id.split("-")[0]: slo for slo in report.slos}
    assert all(day.budget_remaining_ratio is None for day in by_id["ghost"].daily)
    half = by_id["half"].daily
    assert [day.budget_remaining_ratio is None for day in half[:9]] == [True] * 9
    assert all(day.budget_remaining_ratio == 1.0 for day in half[9:])
    # a day without traffic still has samples: its budget line is drawn
    assert all(day.budget_remaining_ratio == 1.0 for day in by_id["quiet"].daily)


def test_day_count_of_a_month_in_progress(report: MonthReport) -> None:
    assert all(len(slo.daily) == 19 for slo in report.slos)
