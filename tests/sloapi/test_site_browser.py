"""The SLO site in headless Chromium against the running stack's sloapi.

Each page loads with no failed request, no console error and no request leaving 127.0.0.1,
and the figures it shows are the JSON API's figures for the same pinned instant.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser
from site_browser import Visit, chromium, visit

from sloapi.reports.render import percent

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def base(stack) -> str:  # type: ignore[no-untyped-def]
    url = f"http://{stack.addr('sloapi')}"
    assert httpx.get(f"{url}/readyz", timeout=60).status_code == 200
    return url


@pytest.fixture(scope="module")
def at() -> int:
    """An instant two minutes ago: its data no longer changes, so page and API see the same."""
    return int(time.time()) - 120


def clean(seen: Visit) -> None:
    assert seen.problems() == [], f"{seen.problems()} (screenshot: {seen.screenshot})"
    assert seen.requests, "the page made no request at all"


def value(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)  # type: ignore[arg-type]


def test_overview_shows_the_apis_figures_in_budget_order(
    browser: Browser, base: str, at: int, tmp_path: Path
) -> None:
    seen = visit(browser, f"{base}/?at={at}", tmp_path, "overview")
    clean(seen)
    api: dict[str, Any] = httpx.get(f"{base}/api/v1/slos", params={"at": at}, timeout=120).json()
    by_id = {s["id"]: s for s in api["slos"]}
    rows = seen.page.query_selector_all("tr.slo")
    assert sorted(r.get_attribute("data-slo") for r in rows) == sorted(by_id)  # type: ignore[type-var]
    remaining = []
    for row in rows:
        status = by_id[row.get_attribute("data-slo")]  # type: ignore[index]
        sli = row.query_selector("td.sli")
        budget = row.query_selector("td.budget")
        assert sli is not None and budget is not None
        assert value(sli.get_attribute("data-value")) == status["sli"]
        assert sli.inner_text().strip() == percent(status["sli"])
        left = status["error_budget"]["remaining_ratio"]
        assert value(budget.get_attribute("data-value")) == left
        assert percent(left, 1) in budget.inner_text()
        if status["sli"] is not None:
            remaining.append(left)
        assert len(row.query_selector_all("td.tier")) == 4
    assert remaining == sorted(remaining)
    assert seen.page.locator("meta[http-equiv=refresh]").count() == 0  # pinned: nothing to refresh
    live = visit(browser, f"{base}/", tmp_path, "overview-live")
    clean(live)
    assert live.page.get_attribute("meta[http-equiv=refresh]", "content") == "60"


def test_overview_filters_by_service(browser: Browser, base: str, at: int, tmp_path: Path) -> None:
    seen = visit(browser, f"{base}/?at={at}&service=web", tmp_path, "overview-web")
    clean(seen)
    assert [r.get_attribute("data-slo") for r in seen.page.query_selector_all("tr.slo")] == [
        "web-availability"
    ]


def test_slo_page_shows_the_apis_figures_and_charts(
    browser: Browser, base: str, at: int, tmp_path: Path
) -> None:
    seen = visit(browser, f"{base}/slos/web-availability?at={at}", tmp_path, "slo")
    clean(seen)
    status = httpx.get(f"{base}/api/v1/slos/web-availability", params={"at": at}, timeout=120).json()[
        "status"
    ]
    page = seen.page
    assert value(page.get_attribute("#sli", "data-value")) == status["sli"]
    assert page.inner_text("#sli").strip() == percent(status["sli"])
    assert value(page.get_attribute("#budget", "data-value")) == status["error_budget"]["remaining_ratio"]
    charts = page.query_selector_all(".chart svg")
    assert len(charts) == 2
    assert "objective 99.9%" in (charts[1].text_content() or "")
    assert page.locator("table.burns tr.tier-row").count() == 4
    assert page.locator("a[href^='/reports/']").count() >= 1
    explain = httpx.get(
        f"{base}/api/v1/slos/web-availability/budget/explain", params={"at": at}, timeout=120
    ).json()
    assert page.inner_text("#explain h2").strip() == "Where the budget went"
    top = page.query_selector("#explain table.periods tr.share-row")
    assert top is not None, page.inner_text("#explain")
    assert value(top.get_attribute("data-share")) == explain["periods"][0]["share"]
    assert top.inner_text().count(percent(explain["periods"][0]["share"], 1)) >= 1


def test_report_page_links_its_csv_and_json(browser: Browser, base: str, tmp_path: Path) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    seen = visit(browser, f"{base}/reports/{month}", tmp_path, "report")
    clean(seen)
    page = seen.page
    assert "Availability report" in page.inner_text("h1")
    for suffix, kind in ((".csv", "text/csv"), ("", "application/json")):
        href = page.get_attribute(f"a[href='/api/v1/reports/{month}{suffix}']", "href")
        answer = httpx.get(f"{base}{href}", timeout=120)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    listing = visit(browser, f"{base}/reports", tmp_path, "reports")
    clean(listing)
    assert listing.page.locator(f"a[href='/reports/{month}']").count() == 1


def test_runbooks_page_has_every_alert_section(browser: Browser, base: str, tmp_path: Path) -> None:
    seen = visit(browser, f"{base}/runbooks#haproxydown", tmp_path, "runbooks")
    clean(seen)
    assert seen.page.inner_text("#haproxydown") == "HaproxyDown"
    assert seen.page.locator(".sidebar a[href='#slo-budget-burn']").count() == 1


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .opblock"), ("/redoc", "h1")])
def test_api_docs_render_from_local_assets(
    browser: Browser, base: str, tmp_path: Path, path: str, rendered: str
) -> None:
    seen = visit(browser, base + path, tmp_path, path.strip("/"), wait_for=rendered)
    clean(seen)
    assets = [u for u in seen.requests if u.endswith(".js")]
    assert assets and all(u.startswith(f"{base}/assets/") for u in assets)
    assert "nines SLO service" in seen.page.inner_text("body")
