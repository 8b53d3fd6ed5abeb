"""Renderings of a synthetic report: JSON, CSV, text, HTML escaping, charts, the mail's shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from sloapi.reports.charts import render_charts
from sloapi.reports.compute import ReportOptions, SLOSeries
from sloapi.reports.html import data_uris, to_html
from sloapi.reports.mail import build_message, content_id
from sloapi.reports.month import Month
from sloapi.reports.render import CSV_COLUMNS, duration, to_csv, to_json, to_text
from sloapi.reports.summary import build_report

MONTH = Month(2026, 10, "America/New_York")
NOW = datetime(2026, 11, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    index = pd.date_range(MONTH.start + timedelta(minutes=1), MONTH.end, freq="1min", tz=UTC)
    outage = pd.DataFrame({"total": 50.0, "errors": 0.0}, index=index)
    outage.iloc[5000:5060, 1] = 50.0
    ratio = pd.DataFrame({"error_ratio": 0.0}, index=index)
    series = [
        SLOSeries("web-avail", Decimal("0.999"), outage, description="<b>Web</b> & co",
                  labels={"component": "haproxy"}),
        SLOSeries("pg-primary", Decimal("0.9995"), ratio, labels={"component": "postgresql-primary"}),
    ]  # fmt: skip
    return build_report(MONTH, series, NOW, ReportOptions())


def test_json_is_strict_and_complete(report) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(to_json(report))
    assert body["month"] == "2026-10" and body["timezone"] == "America/New_York"
    assert body["start"] == "2026-10-01T04:00:00Z" and body["end"] == "2026-11-01T04:00:00Z"
    web = body["slos"][1]
    assert web["id"] == "web-avail" and web["met"] is False
    assert web["incidents"][0]["duration_seconds"] == 3600
    assert len(web["daily"]) == 31


def test_csv_rows(report) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[1] for row in rows[1:]] == ["pg-primary", "web-avail"]
    web = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert web["met"] == "false" and web["incidents"] == "1" and web["bad_events"] == "3000.0"


def test_text_and_subject(report) -> None:  # type: ignore[no-untyped-def]
    text = to_text(report)
    assert text.startswith("Availability report October 2026: 1 met, 1 missed\n")
    assert "web-avail: MISSED" in text and "1h 00m 00s" in text
    assert duration(59) == "59s" and duration(61) == "1m 01s"


def test_html_escapes_and_references_charts(report) -> None:  # type: ignore[no-untyped-def]
    charts = render_charts(report.slos)
    assert set(charts) == {"web-avail", "pg-primary"}
    assert all(png.startswith(b"\x89PNG") for png in charts.values())
    page = to_html(report, data_uris(charts))
    assert "&lt;b&gt;Web&lt;/b&gt; &amp; co" in page and "<b>Web</b>" not in page
    assert page.count('src="data:image/png;base64,') == 2
    assert '<meta name="viewport"' in page


def test_mail_structure(report) -> None:  # type: ignore[no-untyped-def]
    charts = render_charts(report.slos)
    message = build_message(report, charts, sender="a@example.com", recipient="b@example.com")
    parts = [part.get_content_type() for part in message.walk()]
    assert parts == [
        "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related",
        "text/html", "image/png", "image/png", "text/csv",
    ]  # fmt: skip
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    for index in range(2):
        assert f"cid:{content_id(report, index)}" in html


@pytest.mark.parametrize(
    ("low", "high", "ticks", "decimals"),
    [
        (0.0, 100.0, [0.0, 50.0, 100.0], 0),
        (99.7, 100.0, [99.7, 99.8, 99.9, 100.0], 1),
        (99.84, 100.0, [99.8, 99.9, 100.0], 1),
        (99.95, 100.0, [99.94, 99.96, 99.98, 100.0], 2),
        (-62.7, 100.0, [-100.0, 0.0, 100.0], 0),
    ],
)
def test_chart_ticks_are_round(low: float, high: float, ticks: list[float], decimals: int) -> None:
    from sloapi.reports.charts import nice_ticks

    assert nice_ticks(low, high, 4) == (ticks, decimals)
    assert ticks[0] <= low and ticks[-1] >= high
