"""Bounded work per request: windows beyond `SLOAPI_MAX_WINDOW` or Prometheus's retention are
refused with a 422 naming the limit, before any query or large allocation."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from slo_history import History
from test_sloapi_status import make_settings

from sloapi.config import Settings
from sloapi.errors import WindowError
from sloapi.main import create_app
from sloapi.specs import parse_window
from sloapi.status.limits import check_window_bounds

AT = datetime(2026, 11, 29, 12, tzinfo=UTC)
ROUTES = [
    "/api/v1/slos",
    "/api/v1/slos/web-availability",
    "/api/v1/slos/web-availability/status",
    "/api/v1/slos/web-availability/budget",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History) -> Iterator[TestClient]:
    """The API with the default bounds."""
    settings = make_settings(tmp_path_factory.mktemp("default-bounds"), prom_url)
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bounded(
    tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History
) -> Iterator[TestClient]:
    """The API with a long maximum window (coarse steps), so the retention (3650d) decides."""
    settings = make_settings(
        tmp_path_factory.mktemp("bounds"), prom_url, max_window="3700d", raw_step_seconds=600
    )
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        yield client


@pytest.mark.parametrize("window", ["10y", "30y", "99999999999999999999d"])
def test_huge_windows_are_refused_quickly_without_large_allocations(client: TestClient, window: str) -> None:
    for path in ROUTES:
        tracemalloc.start()
        began = time.monotonic()
        answer = client.get(path, params={"window": window})
        took = time.monotonic() - began
        _size, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert answer.status_code == 422, path
        detail = answer.json()["detail"]
        if window[0] == "9":  # too many digits to be a duration at all
            assert detail.startswith(f"invalid window {window!r}: expected a duration"), detail
        else:
            assert detail.endswith(" is longer than the maximum 400d (SLOAPI_MAX_WINDOW)"), detail
        assert peak < 8 * 2**20, (path, peak)  # the 10y status used to take 473 MB
        assert took < 2.0, (path, took)  # it used to take 4.5 s (10y) and 12.2 s (30y)


def test_windows_before_the_retention_are_refused_naming_it(bounded: TestClient) -> None:
    answer = bounded.get("/api/v1/slos/web-availability/status", params={"window": "3660d"})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("window 3660d starts before the oldest data Prometheus keeps (")
    assert detail.endswith("its retention of 3650d): ask for a shorter window")
    assert bounded.get("/api/v1/slos", params={"window": "3660d"}).status_code == 422
    assert bounded.get("/api/v1/slos/web-availability/status", params={"window": "40d"}).status_code == 200


def test_bounds_of_calendar_and_rolling_windows() -> None:
    check_window_bounds(parse_window("month"), AT, 31 * 86400, AT - timedelta(days=40))
    check_window_bounds(parse_window("400d"), AT, 400 * 86400)
    with pytest.raises(WindowError, match="longer than the maximum 400d"):
        check_window_bounds(parse_window("401d"), AT, 400 * 86400)
    with pytest.raises(WindowError, match="its retention of 15d"):
        check_window_bounds(parse_window("month"), AT, 400 * 86400, AT - timedelta(days=15))


def test_settings_refuse_a_window_of_too_many_steps(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="allows 34560000 steps"):
        Settings(max_window="400d", raw_step_seconds=1)
    assert Settings(max_window="400d", raw_step_seconds=60).max_window_seconds() == 400 * 86400
