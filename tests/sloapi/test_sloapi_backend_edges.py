"""Where PromQL (Prometheus 2.42) and MetricsQL (VictoriaMetrics 1.79) differ on our query shapes.

Each case loads the same samples into a throwaway Prometheus and a throwaway victoria-metrics and
asserts what each answers; docs/scale.md ("PromQL and MetricsQL") quotes these figures and what
sloapi does about them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest

from stack.history import Series, backfill, start_prometheus
from stack.vmhistory import start_victoria

T = int(time.time()) // 3600 * 3600 - 3 * 86400  # an hour boundary, three days ago
LIVE = T + 86400  # start of the bursty day
SECONDS = 86400


def bursty_day(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative events and errors per second over one day: 5/s, twelve 1-3 minute bursts at 20x
    with 20 % errors (0.1 % otherwise)."""
    rng = np.random.default_rng(seed)
    rate = np.full(SECONDS, 5.0)
    for start in rng.integers(0, SECONDS - 200, 12):
        rate[start : start + rng.integers(60, 180)] *= 20
    events = rng.poisson(rate)
    errors = rng.binomial(events, np.where(rate > 5, 0.2, 0.001))
    return np.cumsum(events), np.cumsum(errors)


def samples() -> list[Series]:
    """The cases' series (see each test)."""
    scrapes = np.arange(7, SECONDS, 10)  # every 10 s, 7 s past the minute grid, as in real scraping
    events, errors = bursty_day()
    return [
        ("gauge", "gauge", {}, [(T + i * 30, 1.0) for i in range(121)]),
        ("aligned_total", "counter", {}, [(T + i * 30, 30.0 * i) for i in range(121)]),
        ("burst_total", "counter", {}, [(T + 5 + i * 10, 0.0 if i < 60 else 100.0) for i in range(100)]),
        ("fresh_total", "counter", {}, [(T + 35 + i * 10, 100.0 + 10 * i) for i in range(100)]),
        ("live_total", "counter", {"code": "all"}, [(LIVE + int(s), float(events[s])) for s in scrapes]),
        ("live_total", "counter", {"code": "5xx"}, [(LIVE + int(s), float(errors[s])) for s in scrapes]),
    ]


@dataclass
class Backends:
    """Base URLs of the two backends holding `samples()`."""

    prometheus: str
    victoriametrics: str

    def instant(self, query: str, at: int) -> tuple[list[float], list[float]]:
        """Values of `query` at `at` on (Prometheus, VictoriaMetrics)."""
        return (_instant(self.prometheus, query, at), _instant(self.victoriametrics, query, at))

    def step_sum(self, query: str, start: int, end: int) -> tuple[float, float]:
        """Sum over 1-minute steps of `query` on (Prometheus, VictoriaMetrics)."""
        prom = _step_sum(self.prometheus, query, start, end)
        return (prom, _step_sum(self.victoriametrics, query, start, end))


def _instant(url: str, query: str, at: int) -> list[float]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": at}, timeout=30).json()
    return [float(r["value"][1]) for r in body["data"]["result"]]


def _step_sum(url: str, query: str, start: int, end: int) -> float:
    params = {"query": query, "start": start, "end": end, "step": 60}
    body = httpx.get(f"{url}/api/v1/query_range", params=params, timeout=60).json()
    return sum(float(v) for r in body["data"]["result"] for _t, v in r["values"])


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    """A Prometheus and a victoria-metrics holding the same samples."""
    base = tmp_path_factory.mktemp("edges")
    series = samples()
    backfill(series, base / "prometheus")
    (base / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
    prom = start_prometheus(base / "prometheus.yml", base / "prometheus", base / "prometheus.log")
    try:
        vm = start_victoria(base / "victoria-metrics", base / "victoria-metrics.log")
        try:
            vm.import_series(series)
            backends = Backends(prom.url, vm.url)
            for _ in range(50):  # the import is searchable within a second or two
                if backends.instant("count_over_time(gauge[1h])", T + 3600)[1] == [121.0]:
                    break
                time.sleep(0.2)
            yield backends
        finally:
            vm.stop()
    finally:
        prom.stop()


def test_range_selection_edges(backends: Backends) -> None:
    """Prometheus 2.x selects [t - w, t], VictoriaMetrics (t - w, t]: one sample more on an edge."""
    assert backends.instant("count_over_time(gauge[60s])", T + 600) == ([3.0], [2.0])
    assert backends.instant("avg_over_time(aligned_total[60s])", T + 300) == ([270.0], [285.0])
    # one millisecond less makes Prometheus 2.x half-open too, and changes nothing on VictoriaMetrics
    assert backends.instant("count_over_time(gauge[59999ms])", T + 600) == ([2.0], [2.0])
    assert backends.instant("avg_over_time(aligned_total[59999ms])", T + 300) == ([285.0], [285.0])
    prom, vm = backends.instant("rate(aligned_total[59999ms]) * 60", T + 300)
    assert prom == pytest.approx([60.0], rel=1e-12) and vm == [60.0]


def test_increase_extrapolation_at_a_burst(backends: Backends) -> None:
    """100 events between the scrapes at T+595 and T+605. Prometheus extrapolates the samples inside
    the window (50 s of 60 s) and ignores the pair straddling its start; VictoriaMetrics takes the
    difference to the last sample before the window: exact, and steps add up to the truth."""
    assert backends.instant("increase(burst_total[60s])", T + 650) == ([pytest.approx(110.0)], [100.0])
    assert backends.instant("increase(burst_total[60s])", T + 660) == ([0.0], [100.0])
    assert backends.instant("increase(burst_total[60s])", T + 600) == ([0.0], [0.0])


def test_a_new_series_first_value(backends: Backends) -> None:
    """A counter first seen at 100: VictoriaMetrics counts its first value as an increase from 0,
    Prometheus only what follows (extrapolated towards, but not below, zero)."""
    assert backends.instant("increase(fresh_total[60s])", T + 60) == ([30.0], [120.0])


def test_windows_shorter_than_the_scrape_interval(backends: Backends) -> None:
    """Prometheus needs two samples in the window; VictoriaMetrics widens it (100 events between
    samples 10 s apart come out as 5/s)."""
    assert backends.instant("rate(burst_total[5s])", T + 607) == ([], [5.0])


def test_lookback_of_a_bare_selector_is_five_minutes_on_both(backends: Backends) -> None:
    last = T + 3600
    assert backends.instant("gauge", last + 290) == ([1.0], [1.0])
    assert backends.instant("gauge", last + 310) == ([], [])


def test_per_step_rates_on_bursty_traffic(backends: Backends) -> None:
    """sloapi's step series: `rate` over each minute times 60, summed over a day scraped every 10 s
    off the minute grid. VictoriaMetrics adds up to the true counts; Prometheus's extrapolation
    miscounts bursts by up to a scrape interval per step (0.8 % on this day's error ratio); whole-window
    `increase` agrees between the two."""
    events, errors = bursty_day()
    start, end = LIVE + 120, LIVE + SECONDS - 60  # the first step has a sample before it (LIVE+57)
    first, last = 57, SECONDS - 63  # the last samples before the first step and in the last one
    true_total, true_errors = events[last] - events[first], errors[last] - errors[first]
    p_tot, v_tot = backends.step_sum('sum(rate(live_total{code="all"}[1m])) * 60', start, end)
    p_err, v_err = backends.step_sum('sum(rate(live_total{code="5xx"}[1m])) * 60', start, end)
    assert v_tot == pytest.approx(true_total, abs=1e-6) and v_err == pytest.approx(true_errors, abs=1e-6)
    assert p_err / p_tot == pytest.approx(true_errors / true_total, rel=0.02)
    assert abs(p_err / p_tot / (true_errors / true_total) - 1) > 0.005
    ratio = 'sum(increase(live_total{code="5xx"}[1d])) / sum(increase(live_total{code="all"}[1d]))'
    prom, vm = backends.instant(ratio, LIVE + SECONDS - 30)
    assert prom[0] == pytest.approx(vm[0], rel=1e-6)


def test_the_response_cache_moves_the_grid_unless_nocache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """victoria-metrics with its cache (the default) snaps the start of a range query of 50 points or
    more to a multiple of the step; `nocache=1` keeps the grid sloapi asks for (docs/scale.md, what
    sloapi must change (1))."""
    base = tmp_path_factory.mktemp("vm-cache")
    vm = start_victoria(base / "data", base / "log", cache=True)
    try:
        vm.import_series(samples()[:1])
        params = {"query": "gauge", "start": T + 17, "end": T + 17 + 3540, "step": 60}  # 60 points

        def first_time(extra: dict[str, object]) -> float | None:
            body = httpx.get(f"{vm.url}/api/v1/query_range", params={**params, **extra}, timeout=30).json()
            result = body["data"]["result"]
            return float(result[0]["values"][0][0]) if result else None

        for _ in range(50):
            if first_time({"nocache": 1}) is not None:
                break
            time.sleep(0.2)
        assert first_time({"nocache": 1}) == T + 17
        assert first_time({}) == T
    finally:
        vm.stop()
