"""The SLO site's pure parts: tier colours, badges, order, charts, runbooks, runbook links, alerts."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
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


SHOP_ID = "shop-availability"
SHOP_TOKEN = "site-token"


def shop_settings(tmp: Path, prometheus_url: str) -> Settings:
    """The shop's spec (attribution_history) with a policy that its recorded month crosses."""
    from attribution_history import SPEC

    slos = tmp / "slos"
    slos.mkdir()
    policy = 'service: "shop"\npolicy:\n  warn_below_percent: 99.5\n  freeze_below_percent: 10\n'
    (slos / "shop.yml").write_text(SPEC.replace('service: "shop"\n', policy), encoding="utf-8")
    return Settings(
        slos_dir=slos,
        prometheus_url=prometheus_url,
        prometheus_timeout_seconds=60,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        api_token=SHOP_TOKEN,
    )  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def shop_site(tmp_path_factory: pytest.TempPathFactory, shop_prom: Any, shop: Any) -> Iterator[Any]:
    """The site and API on the shop's recorded history, clock at its end."""
    from fastapi.testclient import TestClient

    from sloapi.main import create_app

    now = datetime.fromtimestamp(shop.end, UTC)
    settings = shop_settings(tmp_path_factory.mktemp("site-shop"), shop_prom.url)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        yield client


def share_rows(html: str, table: str) -> list[tuple[str, float, float]]:
    """(name, share, consumed ratio) of each row of the page's `table.shares.<table>`."""
    match = re.search(rf'<table class="shares {table}">(.*?)</table>', html, re.S)
    assert match, f"no {table} table on the page"
    rows = re.findall(
        r'<tr class="share-row" data-share="([^"]+)" data-consumed="([^"]+)">'
        r'<td class="share-name">([^<]*)</td>',
        match.group(1),
    )
    return [(unescape(name), float(share), float(consumed)) for share, consumed, name in rows]


def policy_badges(html: str) -> list[str]:
    """The policy states the page's badges show, in page order."""
    return re.findall(r'data-policy="(\w+)"', html)


def test_slo_page_shows_where_the_budget_went_as_the_api_does(shop_site: Any, shop: Any) -> None:
    at = datetime.fromtimestamp(shop.end, UTC).isoformat()
    page = shop_site.get(f"/slos/{SHOP_ID}", params={"at": at})
    assert page.status_code == 200, page.text
    api = shop_site.get(f"/api/v1/slos/{SHOP_ID}/budget/explain", params={"at": at}).json()
    periods = share_rows(page.text, "periods")
    assert [(share, used) for _, share, used in periods] == [
        (row["share"], row["consumed_ratio"]) for row in api["periods"]
    ]
    kinds = [row["kind"] for row in api["periods"]]
    assert kinds[:2] == ["incident", "incident"] and "outside_incidents" in kinds  # outage and burst
    assert periods[kinds.index("outside_incidents")][0] == "outside incidents"
    outage = datetime.fromtimestamp(shop.outage[0], UTC).strftime("%Y-%m-%d %H:%M")
    assert periods[0][0].startswith(outage)
    labels = share_rows(page.text, "labels")
    assert [(name, share, used) for name, share, used in labels if name.startswith("server=")] == [
        (f"server={row['labels']['server']}", row["share"], row["consumed_ratio"])
        for row in api["labels"]
        if not row["other"]
    ]
    assert [name for name, _, _ in labels][:3] == ["server=s2", "server=s1", "server=s3"]
    assert sum(share for _, share, _ in periods) == pytest.approx(1.0, rel=1e-3)
    assert f"{100 * api['consumed_ratio']:.1f}% of the budget used" in page.text


def test_policy_badges_say_what_the_policy_route_says(shop_site: Any, shop: Any) -> None:
    at = datetime.fromtimestamp(shop.end, UTC).isoformat()
    policy = shop_site.get(f"/api/v1/slos/{SHOP_ID}/policy", params={"at": at}).json()
    assert policy["state"] == "warn"  # the shop spent more than 0.5% of its budget
    page = shop_site.get(f"/slos/{SHOP_ID}", params={"at": at}).text
    assert policy_badges(page) == ["warn"]
    assert unescape(policy["reasons"][0]) in unescape(page)
    overview = shop_site.get("/", params={"at": at}).text
    row = re.search(rf'<tr class="slo [^"]*" data-slo="{SHOP_ID}">(.*?)</tr>', overview, re.S)
    assert row and policy_badges(row.group(1)) == [policy["state"]]


def test_explain_refused_by_prometheus_degrades_to_a_note(tmp_path: Path, shop_prom: Any, shop: Any) -> None:
    from fastapi.testclient import TestClient
    from query_proxy import query_proxy

    from sloapi.main import create_app

    now = datetime.fromtimestamp(shop.end, UTC)
    with (
        query_proxy(shop_prom.url, "", {}, refuse="sum by (") as (url, log),
        TestClient(create_app(shop_settings(tmp_path, url), clock=lambda: now)) as client,
    ):
        page = client.get(f"/slos/{SHOP_ID}")
        refused = client.get(f"/api/v1/slos/{SHOP_ID}/budget/explain")
        status = client.get(f"/api/v1/slos/{SHOP_ID}").json()["status"]
    assert refused.status_code == 502, refused.text  # the API passes Prometheus's refusal on
    assert page.status_code == 200 and log.refused >= 2  # the page and the API both asked
    assert "Where the budget went is not available" in page.text
    assert "query refused by the test proxy" in page.text
    assert f'data-value="{status["sli"]}"' in page.text  # the rest of the page still shows
    assert policy_badges(page.text) == ["warn"]


def test_an_exclusion_declared_through_the_api_shows_on_the_page(shop_site: Any, shop: Any) -> None:
    at = datetime.fromtimestamp(shop.end, UTC).isoformat()
    before = shop_site.get(f"/slos/{SHOP_ID}", params={"at": at}).text
    assert "None declared" in before
    body = {
        "start": datetime.fromtimestamp(shop.outage[0], UTC).isoformat(),
        "end": datetime.fromtimestamp(shop.outage[1], UTC).isoformat(),
        "reason": "s2 <replaced> & rebooted",
        "who": "bob",
        "slo_id": SHOP_ID,
    }
    headers = {"Authorization": f"Bearer {SHOP_TOKEN}"}
    assert shop_site.post("/api/v1/exclusions", json=body, headers=headers).status_code == 201
    page = shop_site.get(f"/slos/{SHOP_ID}", params={"at": at}).text
    row = re.search(r'<tr class="exclusion-row">(.*?)</tr>', page, re.S)
    assert row, "no exclusion row"
    cells = [unescape(c) for c in re.findall(r"<td>([^<]*)</td>", row.group(1))]
    start = datetime.fromtimestamp(shop.outage[0], UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert cells == [start, cells[1], "s2 <replaced> & rebooted", "bob", "this SLO"]
    assert "&lt;replaced&gt; &amp; rebooted" in page  # escaped, not markup
    # the attribution follows: the outage no longer spends budget, on the page as in the API
    api = shop_site.get(f"/api/v1/slos/{SHOP_ID}/budget/explain", params={"at": at}).json()
    assert [share for _, share, _ in share_rows(page, "periods")] == [row["share"] for row in api["periods"]]
    assert api["excluded"]["seconds"] == 1800
    assert "Excluded maintenance (30m 00s) used none." in page
