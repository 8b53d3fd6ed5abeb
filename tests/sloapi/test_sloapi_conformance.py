"""Conformance: the same recorded history in Prometheus and in VictoriaMetrics gives the same SLO statuses.

The history of `slo_history.py` (35 days, 30-second samples, outages, a 30-minute scrape gap) is
backfilled into a throwaway Prometheus (the session's `prom_url`) and imported into a throwaway
victoria-metrics (the session's `vm_url`); the API, pointed at each in turn, computes every SLO's
status for every window.
Tolerances (docs/scale.md, "Conformance"): Prometheus 2.x selects the closed range [t - w, t],
VictoriaMetrics the half-open (t - w, t]; sloapi gives raw SLIs the half-open window on both
(`[w - 1ms]`) and takes event SLIs' window figures from whole-window queries, so
- burn rates, time to exhaustion, SLI, consumed budget and event counts agree within 1e-9;
- coverage differs by at most two steps per scrape gap (a step at a gap's edge holds one sample:
  covered on VictoriaMetrics, not on Prometheus): relative 2 * gaps / steps.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from slo_history import DAY, History

from sloapi.config import Settings
from sloapi.engine.burn import BURN_WINDOWS
from sloapi.engine.durations import format_duration
from sloapi.main import create_app
from sloapi.prometheus import PromClient
from sloapi.specs import load_dir

REPO = Path(__file__).resolve().parents[2]
SLOS = ("web-availability", "api-availability", "pgbouncer-availability", "etcd-availability")
WINDOWS = {"1h": 3600, "1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "week": 7 * DAY, "month": 31 * DAY}
FIGURES = ("sli", "error_budget.consumed_ratio", "error_budget.consumed_seconds", "data.coverage_ratio")
EVENTS = ("error_budget.total_events", "error_budget.error_events")


def statuses(url: str, tmp: Path, history: History) -> dict[tuple[str, str], dict[str, Any]]:
    """Status of every compared SLO for every window, at the history's end, from `url`."""
    settings = Settings(
        slos_dir=REPO / "slos",
        prometheus_url=url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
    )  # type: ignore[call-arg]
    now = datetime.fromtimestamp(history.end, UTC)
    out = {}
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        for slo in SLOS:
            for window in WINDOWS:
                params = {"at": history.end, "window": window}
                response = client.get(f"/api/v1/slos/{slo}/status", params=params)
                assert response.status_code == 200, response.text
                out[slo, window] = response.json()
    return out


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory, prom_url: str, vm_url: str, history: History
) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Statuses from Prometheus and from VictoriaMetrics."""
    return {
        "prometheus": statuses(prom_url, tmp_path_factory.mktemp("conf-prom"), history),
        "victoriametrics": statuses(vm_url, tmp_path_factory.mktemp("conf-vm"), history),
    }


def field(body: dict[str, Any], path: str) -> Any:
    """`body["a"]["b"]` for `path` "a.b"."""
    for key in path.split("."):
        body = body[key]
    return body


def agree(a: float | None, b: float | None, rel: float) -> bool:
    """Both None, or equal within `rel` (relative to the larger) plus float noise."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def gaps_in(history: History, seconds: int) -> int:
    """Scrape gaps of the history inside the window ending at its end."""
    return int(history.gap[0] > history.end - seconds)


def test_every_status_has_data_on_both_backends(both: dict[str, Any]) -> None:
    for name, results in both.items():
        web = results["web-availability", "30d"]
        pgb = results["pgbouncer-availability", "30d"]
        assert web["sli"] is not None and pgb["sli"] is not None, name
        assert web["data"]["status"] == pgb["data"]["status"] == "partial", name
        assert results["api-availability", "30d"]["data"]["no_traffic"] is True, name
        assert results["etcd-availability", "30d"]["data"]["status"] == "no_data", name


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("slo", SLOS)
def test_window_figures_agree(both: dict[str, Any], history: History, slo: str, window: str) -> None:
    prom, vm = both["prometheus"][slo, window], both["victoriametrics"][slo, window]
    assert (prom["window_start"], prom["window_end"]) == (vm["window_start"], vm["window_end"])
    elapsed = history.end - datetime.fromisoformat(prom["window_start"]).timestamp()
    steps = min(WINDOWS[window], elapsed) / 60
    rel = 2 * gaps_in(history, WINDOWS[window]) / steps
    for path in FIGURES:
        tolerance = rel if path == "data.coverage_ratio" else 1e-9
        assert agree(field(prom, path), field(vm, path), tolerance), (
            path,
            field(prom, path),
            field(vm, path),
        )
    for path in EVENTS:
        assert agree(field(prom, path), field(vm, path), 1e-9), (path, field(prom, path), field(vm, path))
    assert prom["data"]["status"] == vm["data"]["status"]
    assert prom["data"]["no_traffic"] == vm["data"]["no_traffic"]
    missing = (prom["data"]["missing_steps"], vm["data"]["missing_steps"])
    assert missing[0] is None or abs(missing[0] - missing[1]) <= 2 * gaps_in(history, WINDOWS[window])


@pytest.mark.parametrize("slo", SLOS)
def test_burn_rates_agree(both: dict[str, Any], slo: str) -> None:
    prom, vm = both["prometheus"][slo, "30d"], both["victoriametrics"][slo, "30d"]
    for name in BURN_WINDOWS:
        a, b = prom["burn_rates"][name], vm["burn_rates"][name]
        assert agree(a, b, 1e-9), (name, a, b)
    tte = (prom["time_to_exhaustion_seconds"], vm["time_to_exhaustion_seconds"])
    assert agree(*tte, 1e-9), tte


def test_the_differences_are_the_documented_ones(both: dict[str, Any], history: History) -> None:
    """Raw SLIs select the half-open window on both backends: the 3-minute PgBouncer outage of
    the last 30 minutes is 6 of 60 samples (the truth) on each, where Prometheus 2.x's closed
    range `[30m]` would count 6 of 61."""
    for backend in both:
        burn = both[backend]["pgbouncer-availability", "30d"]["burn_rates"]["30m"]
        assert math.isclose(burn, 6 / 60 / 0.001, rel_tol=1e-9), (backend, burn)
    # the step at the scrape gap's end holds one sample: a step on VictoriaMetrics only
    web = [both[b]["web-availability", "30d"]["data"]["missing_steps"] for b in both]
    assert web == [30, 29]


def _values(url: str, query: str, at: int) -> list[float]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": at}, timeout=60).json()
    return sorted(float(r["value"][1]) for r in body["data"]["result"])


def test_half_open_windows_make_the_burn_queries_equal(prom_url: str, vm_url: str, history: History) -> None:
    """docs/scale.md, what sloapi must change (2): raw SLIs' `{{.window}}` as milliseconds minus one
    gives the same answer on both for every burn window, where `[30m]` differs by one sample. Event
    SLIs keep the plain window: one millisecond less makes Prometheus 2.x extrapolate `rate`."""
    specs = {s.id: s for s in load_dir(REPO / "slos")}
    compared = 0
    for slo in SLOS:
        for seconds in BURN_WINDOWS.values():
            queries = specs[slo].queries(f"{seconds * 1000 - 1}ms")
            if "ratio" not in queries:
                queries = specs[slo].queries(format_duration(seconds))
            for query in queries.values():
                prom, vm = _values(prom_url, query, history.end), _values(vm_url, query, history.end)
                assert prom == pytest.approx(vm, rel=1e-9, abs=1e-12), (query, prom, vm)
                compared += bool(prom)
    assert compared >= 3 * len(BURN_WINDOWS)
    ratio = specs["pgbouncer-availability"].queries("30m")["ratio"]
    assert _values(prom_url, ratio, history.end) != _values(vm_url, ratio, history.end)
    web = specs["web-availability"].queries("21599999ms")["error"]
    assert _values(prom_url, web, history.end) != pytest.approx(_values(vm_url, web, history.end), rel=1e-6)


def test_readiness_behind_a_path_prefix(vm_url: str) -> None:
    """victoria-metrics serves the query API under `/prometheus` as vmselect does under
    `/select/<tenant>/prometheus`: readiness there is a query, not `/-/ready`."""
    behind = PromClient(f"{vm_url}/prometheus")
    missing = PromClient(f"{vm_url}/no-such-prefix")
    try:
        assert httpx.get(f"{vm_url}/prometheus/-/ready", timeout=10).status_code != 200
        assert behind.ready() is True
        assert missing.ready() is False
    finally:
        behind.close()
        missing.close()
