"""The Prometheus client: chunking under the points limit, de-duplication, pinned times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slo_history import History

from sloapi.prometheus import PromClient
from sloapi.prometheus.batch import range_params
from sloapi.prometheus.chunks import chunk_bounds
from sloapi.specs import load_dir
from sloapi.status import StatusOptions, compute_status

REPO = Path(__file__).resolve().parents[2]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 50_000), st.integers(1, 3600), st.integers(1, 11_000))
def test_chunks_cover_the_grid_once(start: int, span: int, step: int, limit: int) -> None:
    chunks = chunk_bounds(start, start + span, step, limit)
    points = [p for lo, hi in chunks for p in range(int(lo), int(hi) + 1, step)]
    assert points == list(range(start, start + span + 1, step))
    assert all((hi - lo) / step + 1 <= limit for lo, hi in chunks)


def test_range_is_chunked_and_joined(prom_url: str, history: History) -> None:
    client = PromClient(prom_url, max_points=1000)
    try:
        end = datetime.fromtimestamp(history.end, UTC)
        result = client.range("vector(1)", end - timedelta(days=1), end, 60)
        assert client.requests == 2  # 1441 points in chunks of at most 1000
        (series,) = result
        times = [t for t, _v in series.points]
        assert times == [history.end - 86400 + 60 * i for i in range(1441)]
    finally:
        client.close()


def test_batch_runs_identical_queries_once(prom_url: str, history: History) -> None:
    client = PromClient(prom_url)
    try:
        at = datetime.fromtimestamp(history.end, UTC)
        batch = client.batch()
        first = batch.instant("sum(pgbouncer_up)", at)
        second = batch.instant("sum(pgbouncer_up)", at)
        assert first is second
        assert first.result()[0].value == 1.0
        assert client.requests == 1
    finally:
        client.close()


def test_one_status_uses_a_bounded_number_of_requests(prom_url: str, history: History) -> None:
    spec = {s.id: s for s in load_dir(REPO / "slos")}["web-availability"]
    client = PromClient(prom_url, max_points=10_000)
    try:
        at = datetime.fromtimestamp(history.end, UTC)
        status = compute_status(client.batch(), spec, spec.window, at, StatusOptions())
        # 30 days in 5 tiles of at most 10,000 steps, one instant query each (errors and total)
        # + the series with the most samples now, picked, and its samples counted by 20 minutes
        # (range queries no longer than a tile) + for the 30-minute scrape gap: every series'
        # counts there, its 20-minute units counted step by step and the tile's 2 step sums +
        # the burn rates
        assert client.requests == 5 + 1 + 5 + 1 + 1 + 2 + 1
        assert status["at"] == at.isoformat()
    finally:
        client.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9"])
def test_unreachable_is_reported(url: str) -> None:
    client = PromClient(url, timeout_seconds=2)
    try:
        assert client.ready() is False
    finally:
        client.close()


def test_range_requests_bypass_victoriametrics_response_cache() -> None:
    params = range_params("up", "100", "200", 60)
    assert params == {"query": "up", "start": "100", "end": "200", "step": "60", "nocache": "1"}
