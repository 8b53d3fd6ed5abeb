"""Every dashboard query runs without error on VictoriaMetrics (MetricsQL).

On Prometheus: `test_dashboards.py::test_every_query_is_valid_promql`.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from promql_names import dashboard_queries, dashboards, substitute

from stack.vmhistory import start_victoria

QUERIES = [
    (f"{name} {where}", expr)
    for name, board in dashboards().items()
    for where, expr in dashboard_queries(board)
]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an empty victoria-metrics."""
    home = tmp_path_factory.mktemp("victoriametrics")
    instance = start_victoria(home / "data", home / "log")
    try:
        yield instance.url
    finally:
        instance.stop()


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
