"""One deadline per request: with Prometheus frozen (SIGSTOP), every route that reads it answers
503 naming the deadline within the deadline plus a small margin, and recovers after SIGCONT."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_sloapi_status import make_settings

from sloapi.deadline import Deadline
from sloapi.errors import DeadlineExceededError
from sloapi.main import create_app
from stack.history import Prometheus, start_prometheus

DEADLINE = 2.0
MARGIN = 1.5
ROUTES = [
    "/api/v1/slos/web-availability/status",
    "/api/v1/slos/web-availability",
    "/api/v1/slos",
    "/api/v1/slos/web-availability/budget",
]


@pytest.fixture()
def frozen_prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    """A throwaway Prometheus of its own (it gets frozen), always resumed and stopped."""
    (tmp_path / "data").mkdir()
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  evaluation_interval: 30s\n", encoding="utf-8")
    prom = start_prometheus(config, tmp_path / "data", tmp_path / "prometheus.log")
    try:
        yield prom
    finally:
        os.kill(prom.process.pid, signal.SIGCONT)
        prom.stop()


def test_frozen_prometheus_gives_503_within_the_deadline(
    tmp_path: Path, frozen_prometheus: Prometheus
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    month = f"/api/v1/reports/{now:%Y-%m}"
    settings = make_settings(
        tmp_path, frozen_prometheus.url, request_deadline_seconds=DEADLINE, prometheus_timeout_seconds=60
    )
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        for path in [*ROUTES, month]:
            assert client.get(path).status_code == 200, path
        assert "\nsloapi_prometheus_up 1.0\n" in client.get("/metrics").text
        os.kill(frozen_prometheus.process.pid, signal.SIGSTOP)
        try:
            for path in [*ROUTES, month]:
                began = time.monotonic()
                answer = client.get(path)
                took = time.monotonic() - began
                assert answer.status_code == 503, path
                assert "SLOAPI_REQUEST_DEADLINE_SECONDS" in answer.json()["detail"], path
                assert took < DEADLINE + MARGIN, (path, took)
            began = time.monotonic()
            metrics = client.get("/metrics").text  # figures cached, Prometheus asked afresh
            assert "\nsloapi_prometheus_up 0.0\n" in metrics
            assert time.monotonic() - began < DEADLINE + MARGIN
        finally:
            os.kill(frozen_prometheus.process.pid, signal.SIGCONT)
        for path in [*ROUTES, month]:
            assert client.get(path).status_code == 200, path
        assert "\nsloapi_prometheus_up 1.0\n" in client.get("/metrics").text


def test_deadline_counts_down_and_names_the_setting() -> None:
    clock = iter([100.0, 100.5, 103.0, 103.0]).__next__
    deadline = Deadline.after(2.0, clock)
    assert deadline.timeout(cap=30.0) == 1.5
    with pytest.raises(DeadlineExceededError, match="deadline of 2 s"):
        deadline.timeout(cap=30.0)
    assert Deadline.never().timeout(cap=7.0) == 7.0
