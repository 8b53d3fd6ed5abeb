"""The API's figures against a real Prometheus holding known history (see slo_history.py)."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from slo_history import DAY, History

from sloapi.config import Settings
from sloapi.main import create_app

REPO = Path(__file__).resolve().parents[2]
BUDGET = 0.001
WINDOW = 30 * DAY


def make_settings(tmp: Path, prom_url: str, **extra: object) -> Settings:
    """Settings for a test app on the shipped specs and a SQLite file."""
    values: dict[str, object] = {
        "slos_dir": REPO / "slos",
        "prometheus_url": prom_url,
        "database_url": f"sqlite:///{tmp / 'sloapi.db'}",
        "prometheus_timeout_seconds": 60,
    }
    return Settings(**{**values, **extra})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History) -> Iterator[TestClient]:
    """The API on the shipped specs, clock at the history's end, token `s3cret`."""
    settings = make_settings(tmp_path_factory.mktemp("api"), prom_url, api_token="s3cret")
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as test_client:
        yield test_client


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    """a == b up to floating point noise."""
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def test_web_status_matches_independent_figures(client: TestClient, history: History) -> None:
    body = client.get(
        "/api/v1/slos/web-availability/status", params={"at": history.end, "window": "30d"}
    ).json()
    errors, total, covered, expected = history.web_window(history.end, WINDOW)
    ratio = errors / total
    assert body["id"] == "web-availability"
    assert body["objective"] == 0.999
    assert body["window"] == "30d"
    assert body["at"] == datetime.fromtimestamp(history.end, UTC).isoformat()
    assert close(body["sli"], 1 - ratio)
    budget = body["error_budget"]
    assert budget["total_ratio"] == BUDGET
    assert close(budget["consumed_ratio"], ratio / BUDGET)
    assert close(budget["remaining_ratio"], 1 - ratio / BUDGET)
    assert close(budget["consumed_ratio"] + budget["remaining_ratio"], 1.0)
    assert close(budget["remaining_seconds"], (1 - ratio / BUDGET) * BUDGET * WINDOW)
    assert close(budget["total_events"], total)
    assert close(budget["error_events"], errors)
    # the old outage 33 days ago is outside the window and the scrape gap is not "good"
    assert budget["error_events"] < history.web_errors.sum()
    assert body["data"] == {
        "coverage_ratio": pytest.approx(covered / expected, rel=1e-12),
        "status": "partial",
        "missing_steps": 30,
        "no_traffic": False,
    }


def test_web_burn_rates_and_exhaustion(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/web-availability/status", params={"at": history.end}).json()
    rates = body["burn_rates"]
    assert set(rates) == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    for name, seconds in (("5m", 300), ("1h", 3600), ("6h", 21600), ("1d", DAY), ("3d", 3 * DAY)):
        assert close(rates[name], history.web_ratio(history.end, seconds) / BUDGET), name
    # the last two hours fail at one steady rate (8 of 1500 a minute by day, 3 of 600 at night)
    steady = history.web_errors[-1] / history.web_total[-1] / BUDGET
    assert close(rates["1h"], steady)
    assert close(rates["30m"], steady)
    assert close(rates["2h"], steady)
    remaining = body["error_budget"]["remaining_ratio"]
    assert close(body["time_to_exhaustion_seconds"], remaining * WINDOW / rates["1h"])


def test_status_at_a_past_moment_is_exact(client: TestClient, history: History) -> None:
    at = history.end - 7 * DAY
    body = client.get(
        "/api/v1/slos/web-availability/status",
        params={"at": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")},
    ).json()
    errors, total, _covered, _expected = history.web_window(at, WINDOW)
    assert close(body["sli"], 1 - errors / total)
    assert body["burn_rates"]["1h"] == 0.0  # no errors an hour before that moment
    assert body["time_to_exhaustion_seconds"] is None


def test_raw_sli_is_time_weighted(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/pgbouncer-availability/status", params={"at": history.end})
    body = body.json()
    bad, covered, expected = history.pgb_step_ratio(history.end, WINDOW)
    # avg_over_time needs one sample: over the half-open (t - 60, t] the gap's last minute still
    # has one, its first minute (sample on its start only) none
    assert covered == expected - 29
    assert close(body["sli"], 1 - bad / covered)
    assert close(body["error_budget"]["consumed_ratio"], bad / covered / BUDGET)
    assert body["error_budget"]["total_events"] is None
    assert body["data"]["status"] == "partial"
    # last hour: 6 of the 120 samples in (end - 1h, end] are 0
    assert close(body["burn_rates"]["1h"], 6 / 120 / BUDGET)


def test_zero_traffic_leaves_the_budget_untouched(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/api-availability/status", params={"at": history.end}).json()
    assert body["sli"] is None
    assert body["error_budget"]["consumed_ratio"] == 0.0
    assert body["error_budget"]["remaining_ratio"] == 1.0
    assert body["data"]["no_traffic"] is True
    assert body["burn_rates"]["1h"] is None
    assert body["time_to_exhaustion_seconds"] is None


def test_list_has_every_slo_and_absent_series_are_no_data(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos", params={"at": history.end}).json()
    by_id = {s["id"]: s for s in body["slos"]}
    assert sorted(by_id) == [
        "api-availability",
        "app-request-latency",
        "etcd-availability",
        "pgbouncer-availability",
        "postgresql-primary-availability",
        "web-availability",
    ]
    assert by_id["etcd-availability"]["data"]["status"] == "no_data"
    assert by_id["etcd-availability"]["data"]["coverage_ratio"] == 0.0
    assert by_id["etcd-availability"]["sli"] is None
    assert by_id["web-availability"]["source"] == "raw"
    errors, total, _c, _e = history.web_window(history.end, WINDOW)
    assert close(by_id["web-availability"]["sli"], 1 - errors / total)


def test_budget_series_ends_at_the_status(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/web-availability/budget", params={"at": history.end, "step": "1d"}).json()
    points = body["points"]
    assert len(points) == 30
    assert points[-1]["ideal_ratio"] == 0.0
    assert close(points[0]["ideal_ratio"], 29 / 30)
    status = client.get("/api/v1/slos/web-availability/status", params={"at": history.end}).json()
    # daily steps read rate over 1d: the gap is bridged, so compare with all minutes
    remaining = [p["remaining_ratio"] for p in points]
    assert remaining == sorted(remaining, reverse=True)
    assert math.isclose(remaining[-1], status["error_budget"]["remaining_ratio"], rel_tol=0.02, abs_tol=0.02)


def test_spec_endpoint(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/web-availability", params={"at": history.end}).json()
    assert body["spec"]["objective_percent"] == "99.9"
    assert body["spec"]["labels"]["component"] == "haproxy"
    assert "{{.window}}" in body["spec"]["sli"]["events"]["error_query"]
    assert body["status"]["id"] == "web-availability"


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/slos/nope/status", {}, 404),
        ("/api/v1/slos/nope", {}, 404),
        ("/api/v1/slos/web-availability/status", {"window": "30x"}, 422),
        ("/api/v1/slos/web-availability/status", {"window": "0d"}, 422),
        ("/api/v1/slos/web-availability/status", {"at": "yesterday"}, 422),
        ("/api/v1/slos/web-availability/status", {"at": "2026-01-01T00:00:00"}, 422),
        ("/api/v1/slos/web-availability/status", {"at": "4102444800"}, 422),
        ("/api/v1/slos/web-availability/budget", {"step": "1s"}, 422),
    ],
)
def test_errors_are_json(client: TestClient, path: str, params: dict, code: int) -> None:
    response = client.get(path, params=params)
    assert response.status_code == code
    assert isinstance(response.json()["detail"], str)


def test_prometheus_unreachable_is_503(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9", prometheus_timeout_seconds=2)
    with TestClient(create_app(settings)) as test_client:
        response = test_client.get("/api/v1/slos/web-availability/status")
        assert response.status_code == 503
        assert "unreachable" in response.json()["detail"]
        assert test_client.get("/readyz").status_code == 503
        assert test_client.get("/readyz").json()["checks"]["prometheus"] is False
        metrics = test_client.get("/metrics").text
        assert "sloapi_prometheus_up 0.0" in metrics


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"specs": True, "prometheus": True, "database": True}
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/slos/{slo_id}/status" in paths
    assert client.get("/docs").status_code == 200


def test_metrics_export_the_figures(client: TestClient, history: History) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    errors, total, _c, _e = history.web_window(history.end, WINDOW)
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("sloapi_slo_error_budget_remaining_ratio{") and 'slo_id="web-availability"' in ln
    )
    assert close(float(line.rsplit(" ", 1)[1]), 1 - errors / total / BUDGET, rel=1e-6)
    burn = (
        'sloapi_slo_burn_rate{burn_window="1h",service="web",slo="availability",'
        'slo_id="web-availability",window="30d"} '
    )
    line = next(ln for ln in text.splitlines() if ln.startswith(burn))
    steady = history.web_errors[-1] / history.web_total[-1] / BUDGET
    assert close(float(line.removeprefix(burn)), steady, rel=1e-6)
    assert 'sloapi_http_requests_total{code="200",method="GET",route="/healthz"}' in text
    assert "NaN" not in text
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    before = ctx.prom.requests
    # web and pgbouncer: api has no traffic, postgresql and etcd no series in this history
    assert client.get("/metrics").text.count("sloapi_slo_sli_ratio{") == 2
    assert ctx.prom.requests == before + 1  # figures reused; only the liveness query `1`


def test_mutations_need_the_token(client: TestClient, history: History) -> None:
    path = "/api/v1/slos/web-availability/snapshots"
    params = {"at": history.end}
    assert client.post(path, params=params).status_code == 401
    bad = client.post(path, params=params, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    headers = {"Authorization": "Bearer s3cret"}
    first = client.post(path, params=params, headers=headers)
    assert first.status_code == 201
    again = client.post(path, params=params, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    listed = client.get(path).json()["snapshots"]
    assert len(listed) == 1
    assert listed[0]["status"]["sli"] == first.json()["status"]["sli"]


def test_mutations_disabled_without_token(tmp_path: Path, prom_url: str) -> None:
    with TestClient(create_app(make_settings(tmp_path, prom_url))) as test_client:
        response = test_client.post("/api/v1/reload", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 403
        assert response.json() == {"detail": "mutating endpoints are disabled"}


def test_calendar_month_so_far_and_projection(client: TestClient, history: History) -> None:
    at_ts = history.end if datetime.fromtimestamp(history.end, UTC).day > 2 else history.end - 3 * DAY
    at = datetime.fromtimestamp(at_ts, UTC)
    body = client.get("/api/v1/slos/web-availability/status", params={"at": at_ts, "window": "month"}).json()
    month_start = at.replace(day=1, hour=0, minute=0, second=0)
    elapsed = int((at - month_start).total_seconds())
    errors, total, covered, expected = history.web_window(at_ts, elapsed)
    assert body["window"] == "month"
    assert body["window_start"] == month_start.isoformat()
    assert close(body["sli"], 1 - errors / total)
    assert body["data"]["coverage_ratio"] == pytest.approx(covered / expected, rel=1e-12)
    # the rest of the month at the current (1h) error ratio
    length = body["error_budget"]["allowed_seconds"] / BUDGET
    current = body["burn_rates"]["1h"] * BUDGET
    expected_projection = 1 - ((errors / total) * elapsed + current * (length - elapsed)) / length
    assert close(body["projected_sli"], expected_projection)


def test_prometheus_timing_out_is_503(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = make_settings(tmp_path, url, prometheus_timeout_seconds=1)
        with TestClient(create_app(settings)) as test_client:
            response = test_client.get("/api/v1/slos/web-availability/status")
    assert response.status_code == 503
    assert response.json() == {"detail": "Prometheus timed out"}
