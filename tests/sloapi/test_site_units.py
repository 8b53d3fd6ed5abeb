"""The SLO site's pure parts: tier colours, badges, order, charts, runbooks, runbook links, alerts."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sloapi.config import Settings
from sloapi.rules.runbooks import anchors, check_base, with_base
from sloapi.site import views
from sloapi.site.alerts import firing_alerts, matcher
from sloapi.site.charts import budget_chart, sli_chart
from sloapi.site.figures import chart_step
from sloapi.site.runbooks import render, runbooks, source_text
from stack.runbook_links import template_with_base

REPO = Path(__file__).resolve().parents[2]


def status(slo_id: str, remaining: float | None, sli: float | None = 0.9995, **extra: Any) -> dict[str, Any]:
    rates = {"5m": 0.5, "30m": 0.5, "1h": 0.5, "2h": 0.5, "6h": 0.5, "1d": 0.5, "3d": 0.5}
    rates.update(extra.pop("rates", {}))
    return {
        "id": slo_id,
        "service": slo_id.split("-", maxsplit=1)[0],
        "sli": sli,
        "objective": 0.999,
        "window_start": "2026-10-30T00:00:00+00:00",
        "window_end": "2026-11-29T00:00:00+00:00",
        "error_budget": {"total_ratio": 0.001, "remaining_ratio": remaining},
        "burn_rates": rates,
        "data": extra.pop("data", {"status": "ok", "no_traffic": False, "coverage_ratio": 1.0}),
        "labels": extra.pop("labels", {}),
        "verdict": extra.pop("verdict", "met"),
    }


def test_tiers_follow_the_workbook_thresholds_on_both_windows() -> None:
    page = views.tier_views(status("a", 0.5, rates={"1h": 15.0, "5m": 20.0}), 30 * 86400)
    assert [(t.windows, t.factor, t.state) for t in page] == [
        ("1h / 5m", 14.4, "page"),
        ("6h / 30m", 6.0, "fine"),
        ("1d / 2h", 3.0, "fine"),
        ("3d / 6h", 1.0, "fine"),
    ]
    # the long window alone is not enough: the short one must burn too (it stops the alert)
    short_calm = views.tier_views(status("a", 0.5, rates={"1h": 15.0, "5m": 2.0}), 30 * 86400)
    assert short_calm[0].state == "fine"
    ticket = views.tier_views(status("a", 0.5, rates={"3d": 1.2, "6h": 1.5}), 30 * 86400)
    assert views.worst_state(ticket) == "ticket"
    unknown = views.tier_views(status("a", 0.5, rates={"1h": None}), 30 * 86400)
    assert unknown[0].state == "unknown" and views.worst_state(unknown) == "fine"


def test_badges_tell_no_data_from_no_traffic() -> None:
    no_data = {"status": "no_data", "no_traffic": False}
    assert views.data_badge(status("a", 1.0, verdict="no_data", data=no_data)) == "no data"
    no_traffic = {"status": "ok", "no_traffic": True}
    assert views.data_badge(status("a", 1.0, verdict="no_traffic", data=no_traffic)) == "no traffic"
    assert views.data_badge(status("a", 1.0, sli=None, verdict="no_data")) == "no data"
    # the verdict rules, not the data object
    assert views.data_badge(status("a", 1.0, sli=None, verdict="no_traffic")) == "no traffic"
    assert views.data_badge(status("a", 0.5, sli=0.998, verdict="missed")) is None
    assert (
        views.data_badge(status("a", 1.0, data={"status": "partial", "no_traffic": False})) == "partial data"
    )
    assert views.data_badge(status("a", 1.0)) is None


def test_rows_put_the_least_budget_first_and_figureless_slos_last() -> None:
    empty = status("a", None, sli=None, verdict="no_data")
    rows = views.rows([status("c", 0.9), empty, status("b", -0.2), status("d", 0.1)])
    assert [r.status["id"] for r in rows] == ["b", "d", "c", "a"]
    assert rows[-1].state == "unknown" and rows[-1].badge == "no data"


def test_filters_match_service_and_labels() -> None:
    row = views.rows([status("web-availability", 0.5, labels={"team": "edge"})])[0]
    assert views.matches(row, {"service": "web", "team": "edge"})
    assert views.matches(row, {"service": "", "team": ""})
    assert not views.matches(row, {"service": "api", "team": ""})
    assert not views.matches(row, {"service": "", "team": "db"})


def test_chart_step_gives_about_720_points() -> None:
    assert chart_step(30 * 86400, 60) == 3600
    assert chart_step(7 * 86400, 60) == 840
    assert chart_step(3600, 60) == 60


def test_charts_are_svg_with_a_labelled_objective_and_gaps() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    times = [start + timedelta(hours=h) for h in range(48)]
    sli = [0.9995] * 20 + [float("nan")] * 8 + [0.998] * 20
    svg = sli_chart(times, sli, 0.999, "sli-x")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "objective 99.9%" in svg
    ticks = re.findall(r">(\d+\.\d+)%<", svg)
    assert ticks and all(len(t.split(".")[1]) == len(ticks[0].split(".")[1]) for t in ticks)
    budget = budget_chart(times, [1.0 - h / 100 for h in range(48)], [1.0] * 48, "budget-x")
    assert "budget left" in budget and "even spend" in budget
    assert 'id="budget-x' not in svg  # salts keep ids of two charts apart


def test_budget_chart_leaves_gaps_where_no_data() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    times = [start + timedelta(hours=h) for h in range(6)]
    svg = budget_chart(times, [1.0, 0.9, None, None, 0.8, 0.7], [1, 0.8, 0.6, 0.4, 0.2, 0.0], "b")
    paths = re.findall(r'<path d="(M[^"]+)"[^>]*style="fill: none; stroke: #1565c0', svg)
    assert paths, "budget line not found"
    assert paths[0].count("M") == 2  # two separate runs around the gap


def test_runbooks_render_every_alert_anchor() -> None:
    book = runbooks()
    assert source_text() == (REPO / "docs" / "runbooks.md").read_text(encoding="utf-8")
    assert "haproxydown" in book.anchors and "slo-budget-burn" in book.anchors
    assert len(book.anchors) == len(set(book.anchors))
    wanted = set()
    for rules in (REPO / "rules").glob("*.yml"):
        wanted.update(anchors(rules.read_text(encoding="utf-8")))
    assert wanted and wanted <= set(book.anchors), sorted(wanted - set(book.anchors))


def test_runbooks_escape_raw_html() -> None:
    book = render("# T\n\n### Alert\n\n<script>alert(1)</script> and <b>x</b>\n")
    assert "<script>" not in book.html and "&lt;script&gt;" in book.html
    assert book.anchors == ("t", "alert")


def test_runbook_links_take_one_base_url() -> None:
    text = "annotations:\n  runbook_url: docs/runbooks.md#haproxydown\n  other: docs/runbooks.md#x\n"
    moved = with_base(text, "http://127.0.0.1:8000/runbooks/")
    assert "runbook_url: http://127.0.0.1:8000/runbooks#haproxydown" in moved
    assert "other: docs/runbooks.md#x" in moved  # only runbook_url annotations change
    assert with_base(text, "docs/runbooks.md") == text
    assert anchors(moved) == ["haproxydown"]
    for bad in ("", "http://x/a b", 'http://x/"', "http://x/#y"):
        with pytest.raises(ValueError):
            check_base(bad)
    with pytest.raises(ValueError, match="runbook_base_url"):
        Settings(runbook_base_url="http://x/ y")
    template = (REPO / "alertmanager" / "templates" / "email.tmpl").read_text(encoding="utf-8")
    assert '{{ define "nines.runbook.base" }}http://h/runbooks{{ end }}' in template_with_base(
        template, "http://h/runbooks"
    )


def test_alertmanager_absent_or_unreachable_degrades_to_a_note() -> None:
    assert matcher('a"b') == 'sloth_id="a\\"b"'
    none = asyncio.run(firing_alerts(None, "web-availability", 1.0))
    assert none.alerts == [] and "No Alertmanager configured" in (none.note or "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        down = asyncio.run(firing_alerts(f"http://127.0.0.1:{port}", "web-availability", 1.0))
    assert down.alerts == [] and "did not answer" in (down.note or "")


def test_alertmanager_that_hangs_is_cut_at_the_deadline() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts the connection, never answers
        port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        started = loop.time()
        hung = loop.run_until_complete(firing_alerts(f"http://127.0.0.1:{port}", "x", 0.5))
        elapsed = loop.time() - started
        loop.close()
    assert hung.note and elapsed < 2.0


def test_api_docs_assets_name_no_remote_address() -> None:
    from importlib import resources

    from sloapi.site.docs import redoc_bundle

    assert b"https://cdn." not in redoc_bundle()
    swagger = resources.files("fastapi_offline").joinpath("static/swagger-ui-bundle.js").read_bytes()
    assert b"https://cdn." not in swagger


def test_sloapi_rules_put_runbook_links_on_the_configured_base(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sloapi.cli import main

    monkeypatch.setenv("SLOAPI_RUNBOOK_BASE_URL", "https://slo.example.com/runbooks")
    assert main(["rules", str(REPO / "slos")]) == 0
    out = capsys.readouterr().out
    assert "runbook_url: https://slo.example.com/runbooks#slo-budget-burn" in out
    assert "docs/runbooks.md" not in out
    monkeypatch.setenv("SLOAPI_RUNBOOK_BASE_URL", "https://x/a b")
    assert main(["rules", str(REPO / "slos")]) == 2
    assert "SLOAPI_RUNBOOK_BASE_URL" in capsys.readouterr().err


def test_pages_answer_errors_as_html_pages(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from sloapi.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, not listening: Prometheus unreachable
        settings = Settings(
            slos_dir=REPO / "slos",
            prometheus_url=f"http://127.0.0.1:{closed}",
            prometheus_timeout_seconds=2,
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        )
        with TestClient(create_app(settings)) as client:
            down = client.get("/")
            assert down.status_code == 503 and down.headers["content-type"].startswith("text/html")
            assert "Prometheus is unreachable" in down.text
            missing = client.get("/slos/no-such-slo")
            assert missing.status_code == 404 and "no SLO with id" in missing.text
            assert client.get("/reports/2026-13").status_code == 422
            assert client.get("/reports").status_code == 200
            book = client.get("/runbooks")
            assert book.status_code == 200 and 'id="haproxydown"' in book.text
            assert "script-src 'self'" in book.headers["content-security-policy"]
            assert client.get("/assets/site/site.css").headers["content-type"].startswith("text/css")
            assert "swagger-ui-bundle.js" in client.get("/docs").text
            assert client.get("/openapi.json").json()["paths"].keys() >= {"/api/v1/slos"}
            assert "/" not in client.get("/openapi.json").json()["paths"]  # pages stay out of the API schema
