"""A Pyrra latency SLO on a histogram, end to end against a real Prometheus holding known history.

The histogram is built from the known history (slo_history.py): every request of the web series
is counted in `_count` and `le="+Inf"`, the good ones (2xx) also in `le="0.25"`, so the slow share
of any window is the history's error share, computed here by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from slo_history import DAY, History

from sloapi.config import Settings
from sloapi.main import create_app
from stack.demo_app import Handler, request_histogram
from stack.history import Prometheus, Series, start_prometheus

REPO = Path(__file__).resolve().parents[2]

BUDGET = 0.01
WINDOW = 28 * DAY
NAME = "http_request_duration_seconds"
SPEC = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: request-latency
  namespace: app
spec:
  target: "99"
  window: 4w
  indicator:
    latency:
      success:
        metric: http_request_duration_seconds_bucket{job="app", route!="health", le="0.25"}
      total:
        metric: http_request_duration_seconds_count{job="app", route!="health"}
"""


def histogram_series(history: History) -> list[Series]:
    """`_bucket{le="0.25"}` = good requests, `_bucket{le="+Inf"}` and `_count` = all of them."""
    good, bad = (history.series()[i][3] for i in (0, 1))
    fast = list(good)
    everything = [
        (t, g + b) for (t, g), (_t, b) in zip(good, bad, strict=True) if g is not None and b is not None
    ]
    base = {"job": "app", "route": "api", "code": "200"}
    health = {**base, "route": "health"}  # excluded by the SLO: all slow, must not count
    return [
        (f"{NAME}_bucket", "gauge", {**base, "le": "0.25"}, fast),
        (f"{NAME}_bucket", "gauge", {**base, "le": "+Inf"}, everything),
        (f"{NAME}_count", "gauge", base, everything),
        (f"{NAME}_bucket", "gauge", {**health, "le": "0.25"}, [(t, 0.0) for t, _v in everything]),
        (f"{NAME}_count", "gauge", health, everything),
    ]


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def latency_client(
    tmp_path_factory: pytest.TempPathFactory, prometheus_history: Callable[..., Prometheus], history: History
) -> Iterator[TestClient]:
    """The API on the Pyrra latency spec, clock at the history's end."""
    prom = prometheus_history("pyrra-latency", histogram_series(history))
    tmp = tmp_path_factory.mktemp("latency")
    (tmp / "slos").mkdir()
    (tmp / "slos" / "latency.yaml").write_text(SPEC, encoding="utf-8")
    settings = Settings(
        slos_dir=tmp / "slos",
        prometheus_url=prom.url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
    )  # type: ignore[call-arg]
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        yield client


def test_latency_status_equals_the_histogram_by_hand(latency_client: TestClient, history: History) -> None:
    body = latency_client.get("/api/v1/slos/app-request-latency/status", params={"at": history.end}).json()
    slow, total, covered, expected = history.web_window(history.end, WINDOW)
    assert body["window"] == "28d" and body["objective"] == 0.99
    assert close(body["sli"], 1 - slow / total)
    budget = body["error_budget"]
    assert close(budget["total_events"], total)
    assert close(budget["error_events"], slow)
    assert close(budget["consumed_ratio"], slow / total / BUDGET)
    assert body["data"]["coverage_ratio"] == pytest.approx(covered / expected, rel=1e-12)
    rates = body["burn_rates"]
    for name, seconds in (("5m", 300), ("1h", 3600), ("6h", 21600), ("1d", DAY)):
        assert close(rates[name], history.web_ratio(history.end, seconds) / BUDGET), name


@contextmanager
def demo_app() -> Iterator[str]:
    """A demo app server with its own registry on a free port; yields its base URL."""
    registry = CollectorRegistry()
    handler = type("Handler", (Handler,), {"registry": registry, "durations": request_histogram(registry)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_demo_app_histogram_counts_requests_by_route() -> None:
    with demo_app() as base:
        for path in ("/api/orders", "/api/orders?x=1", "/health", "/"):
            assert httpx.get(base + path, timeout=10).status_code == 200
        text = httpx.get(f"{base}/metrics", timeout=10).text
    assert f'{NAME}_count{{code="200",route="api"}} 2.0' in text
    assert f'{NAME}_bucket{{code="200",le="0.25",route="api"}} 2.0' in text
    assert f'{NAME}_count{{code="200",route="health"}} 1.0' in text
    assert f'{NAME}_count{{code="200",route="root"}} 1.0' in text
    assert "metrics" not in {
        line.split('route="')[1].split('"')[0] for line in text.splitlines() if 'route="' in line
    }


def test_latency_month_so_far_in_the_report(latency_client: TestClient, history: History) -> None:
    end = datetime.fromtimestamp(history.end, UTC)
    month_start = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    answer = latency_client.get(f"/api/v1/reports/{end:%Y-%m}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["partial"] is True
    (slo,) = body["slos"]
    slow, total, _covered, _expected = history.web_window(
        history.end, history.end - int(month_start.timestamp())
    )
    assert slo["id"] == "app-request-latency" and slo["objective"] == 0.99
    assert close(slo["sli"], 1 - slow / total)


def test_shipped_latency_slo_reads_a_live_demo_app(tmp_path: Path) -> None:
    with demo_app() as base:
        config = tmp_path / "prometheus.yml"
        target = base.removeprefix("http://")
        config.write_text(
            "global: {scrape_interval: 1s}\n"
            f"scrape_configs:\n  - job_name: app\n    static_configs: [{{targets: ['{target}']}}]\n",
            encoding="utf-8",
        )
        (tmp_path / "data").mkdir()
        prom = start_prometheus(config, tmp_path / "data", tmp_path / "prometheus.log")
        try:
            settings = Settings(
                slos_dir=REPO / "slos", prometheus_url=prom.url, database_url=f"sqlite:///{tmp_path / 'db'}"
            )  # type: ignore[call-arg]
            with TestClient(create_app(settings)) as client:
                body = _poll_status(client, base)
        finally:
            prom.stop()
    assert body["sli"] == 1.0  # every request answered well within 250 ms
    assert body["error_budget"]["total_events"] > 0
    assert body["error_budget"]["error_events"] == 0.0


def _poll_status(client: TestClient, base: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        for path in ("/api/orders", "/", "/health"):
            httpx.get(base + path, timeout=10)
        body: dict[str, Any] = client.get(
            "/api/v1/slos/app-request-latency/status", params={"window": "1m"}
        ).json()
        if body.get("sli") is not None or time.monotonic() > deadline:
            return body
        time.sleep(1)
