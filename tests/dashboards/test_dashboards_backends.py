"""Every dashboard query runs without error on Prometheus and on VictoriaMetrics (MetricsQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from promql_names import dashboard_queries, dashboards, substitute

from stack.history import start_prometheus
from stack.vmhistory import start_victoria

QUERIES = [
    (f"{name} {where}", expr)
    for name, board in dashboards().items()
    for where, expr in dashboard_queries(board)
]


def _prometheus(home: Path) -> Iterator[str]:
    (home / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    instance = start_prometheus(home / "prometheus.yml", home / "data", home / "log", timeout=60)
    try:
        yield instance.url
    finally:
        instance.stop()


def _victoria(home: Path) -> Iterator[str]:
    instance = start_victoria(home / "data", home / "log")
    try:
        yield instance.url
    finally:
        instance.stop()


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an empty Prometheus, then of an empty victoria-metrics."""
    home = tmp_path_factory.mktemp(request.param)
    yield from (_prometheus if request.param == "prometheus" else _victoria)(home)


def test_every_dashboard_query_runs(backend: str) -> None:
    errors = []
    with httpx.Client(base_url=backend, timeout=10) as client:
        for where, expr in QUERIES:
            resp = client.get("/api/v1/query", params={"query": substitute(expr)})
            body = resp.json()
            if resp.status_code != 200 or body.get("status") != "success":
                errors.append(f"{where}: {body.get('error')}: {expr}")
    assert len(QUERIES) > 100
    assert errors == []


def test_an_invalid_query_is_an_error(backend: str) -> None:
    resp = httpx.get(f"{backend}/api/v1/query", params={"query": "sum(rate(x[1m])"}, timeout=10)
    assert resp.status_code in (400, 422)
    assert resp.json()["status"] == "error"
