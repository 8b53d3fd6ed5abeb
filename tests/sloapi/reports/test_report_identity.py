"""The month report computed the fast way equals, byte for byte, the report computed the way it
was before: every range answer parsed by `float` one number at a time (`points._general`),
every SLO fetched first and the maths run after (`fetch_month` then `build_report`).

Real Prometheus, two months of one-minute samples: counters with a reset, a scrape outage,
dozens of error bursts (many incidents), a service without any error series, two probe series
averaged step by step, a ratio that turns NaN and infinite, long and short decimals, and a
month still in progress (its end in the future).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import requests

from sloapi.config import Settings
from sloapi.prometheus import PromClient
from sloapi.prometheus import points as points_module
from sloapi.prometheus.fetch import selector_window
from sloapi.reports.model import MonthReport
from sloapi.reports.month import Month
from sloapi.reports.service import ReportService
from sloapi.reports.source import fetch_month
from sloapi.reports.summary import build_report
from sloapi.specs import load_dir
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade

T0 = datetime(2026, 7, 31, tzinfo=UTC)
T1 = datetime(2026, 10, 1, 1, tzinfo=UTC)
GAP = (datetime(2026, 8, 14, 3, 0, tzinfo=UTC), datetime(2026, 8, 14, 3, 45, tzinfo=UTC))
RESET = datetime(2026, 8, 21, 17, 30, 30, tzinfo=UTC)
AUG, SEP = Month(2026, 8, "Europe/Paris"), Month(2026, 9, "Europe/Paris")
IN_SEPTEMBER = datetime(2026, 9, 17, 12, 34, 56, tzinfo=UTC)
AFTER = datetime(2026, 10, 5, 8, tzinfo=UTC)

SPECS = """\
version: prometheus/v1
service: shop
labels: {component: haproxy}
slos:
  - name: checkout
    objective: 99.9
    sli:
      events:
        error_query: sum by (code) (rate(idn_requests_total{service="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(idn_requests_total{service="shop"}[{{.window}}]))
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
  - name: search
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(idn_requests_total{service="search",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(idn_requests_total{service="search"}[{{.window}}]))
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
  - name: nodes
    objective: 99.95
    sli:
      raw:
        error_ratio_query: 1 - avg_over_time(idn_up[{{.window}}])
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
  - name: lag
    objective: 99
    sli:
      raw:
        error_ratio_query: avg_over_time(idn_slow[{{.window}}]) / avg_over_time(idn_probes[{{.window}}])
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
  - name: share
    objective: 99
    sli:
      raw:
        error_ratio_query: avg_over_time(idn_share[{{.window}}])
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
"""


def _history() -> list[tuple[str, str, dict[str, str], list[tuple[float, float]]]]:
    """One sample every 30 s from T0 to T1 (none in GAP), see the module docstring."""
    rng = np.random.default_rng(18)
    times = np.arange(T0.timestamp(), T1.timestamp(), 30.0) + 15.0
    keep = (times < GAP[0].timestamp()) | (times >= GAP[1].timestamp())
    n = len(times)
    traffic = rng.uniform(20, 400, n) * (1 + np.sin(np.arange(n) / 240.0) / 2)
    bad_share = np.zeros(n)
    for start in rng.integers(0, n - 30, 70):  # error bursts: many incidents, some merged
        bad_share[start : start + rng.integers(1, 25)] = rng.uniform(0.01, 1.0)
    ok, bad = np.cumsum(traffic * (1 - bad_share)), np.cumsum(traffic * bad_share)
    reset = times >= RESET.timestamp()  # the exporter restarts: counters start again from 0
    ok[reset] -= ok[reset][0] - rng.uniform(0, 5)
    bad[reset] -= bad[reset][0]
    up = np.ones((2, n))
    for node in (0, 1):
        for start in rng.integers(0, n - 60, 12):
            up[node, start : start + rng.integers(1, 50)] = 0.0
    probes = rng.integers(0, 4, n).astype(float)  # 0 probes: 0/0 and x/0 give NaN and +Inf
    slow = np.minimum(probes, rng.integers(0, 2, n) * rng.integers(0, 3, n))
    share = rng.choice([0.0, 0.0, 0.0, 0.25, 0.0125, 0.333, 1 / 3, 2.5e-7], n)

    def series(name: str, kind: str, labels: dict[str, str], values: np.ndarray) -> tuple:  # type: ignore[type-arg]
        return (name, kind, labels, list(zip(times[keep].tolist(), values[keep].tolist(), strict=True)))

    return [
        series("idn_requests_total", "counter", {"service": "shop", "code": "200"}, ok),
        series("idn_requests_total", "counter", {"service": "shop", "code": "503"}, bad * 0.7),
        series("idn_requests_total", "counter", {"service": "shop", "code": "500"}, bad * 0.3),
        series("idn_requests_total", "counter", {"service": "search", "code": "200"}, ok / 3),
        series("idn_up", "gauge", {"node": "1"}, up[0]),
        series("idn_up", "gauge", {"node": "2"}, up[1]),
        series("idn_probes", "gauge", {}, probes),
        series("idn_slow", "gauge", {}, slow),
        series("idn_share", "gauge", {}, share),
    ]


@pytest.fixture(scope="module")
def identity_prometheus(prometheus_history):  # type: ignore[no-untyped-def]
    """A real Prometheus serving the history."""
    return prometheus_history("report-identity", _history())


@pytest.fixture
def make_service(tmp_path: Path, identity_prometheus) -> Iterator[Callable[[datetime], ReportService]]:  # type: ignore[no-untyped-def]
    """Factory of ReportService at a given time, on a fresh SQLite database."""
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "identity.yml").write_text(SPECS, encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'sloapi.db'}")
    upgrade(engine)
    clients: list[PromClient] = []

    def make(now: datetime) -> ReportService:
        settings = Settings(
            prometheus_url=identity_prometheus.url,
            database_url=f"sqlite:///{tmp_path / 'sloapi.db'}",
            slos_dir=tmp_path / "slos",
            report_timezone="Europe/Paris",
        )
        prom = PromClient.from_settings(settings)
        clients.append(prom)
        specs = load_dir(settings.slos_dir)
        return ReportService(settings, specs, prom, make_session_factory(engine), clock=lambda: now)

    yield make
    for client in clients:
        client.close()
    engine.dispose()


def _as_before(service: ReportService, month: Month) -> MonthReport:
    """The report as computed before: fetch every SLO, then the maths (`build_report`)."""
    assert service.prom is not None
    now = service.clock()
    options = service.options(now)
    data = fetch_month(service.prom.batch(), service.specs, month, now, options.step)
    return build_report(month, data.series, now, options, warnings=data.warnings)


def _general(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    return points_module._general(text)


@pytest.mark.parametrize(
    ("month", "now"), [(AUG, AFTER), (SEP, AFTER), (SEP, IN_SEPTEMBER)], ids=["aug", "sep", "sep-partial"]
)
def test_report_figures_are_identical_to_the_previous_computation(
    make_service, monkeypatch: pytest.MonkeyPatch, month: Month, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    new = make_service(now).compute(month)
    with monkeypatch.context() as patch:
        patch.setattr(points_module, "parse_points", _general)
        patch.setattr("sloapi.prometheus.decode.parse_points", _general)
        old = _as_before(make_service(now), month)
    assert new.model_dump_json() == old.model_dump_json()
    slos = {slo.id: slo for slo in new.slos}
    assert set(slos) == {f"shop-{name}" for name in ("checkout", "search", "nodes", "lag", "share")}
    checkout = slos["shop-checkout"]
    assert len(checkout.incidents) >= (3 if now == IN_SEPTEMBER else 8)
    assert checkout.budget_spent.labels, "the breakdown by code was fetched and compared"
    assert slos["shop-search"].error_events == 0.0
    assert 0 < slos["shop-lag"].coverage_ratio < 1  # NaN and +Inf steps are uncovered
    assert new.partial is (now == IN_SEPTEMBER)
    if month == AUG:
        assert slos["shop-nodes"].coverage_ratio < 1  # the scrape outage


def test_prometheus_answers_take_the_fast_parse_and_read_as_float_reads_them(
    identity_prometheus, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "identity.yml").write_text(SPECS, encoding="utf-8")
    specs = load_dir(tmp_path)
    session = requests.Session()
    session.trust_env = False
    start = int(AUG.start.timestamp()) + 60
    fast = 0
    for spec in specs:
        for query in spec.queries(selector_window(spec, 60)).values():
            params = {"query": query, "start": str(start), "end": str(start + 10_999 * 60), "step": "60"}
            body = session.get(f"{identity_prometheus.url}/api/v1/query_range", params=params, timeout=30)
            for piece in body.content.split(b'"values":[')[1:]:
                text = piece[: piece.find(b"]]") + 1]
                got, want = points_module.parse_points(text), points_module._general(text)
                buf = np.frombuffer(text, dtype=np.uint8)
                fast += points_module._layout(buf) is not None
                for a, b in zip(got, want, strict=True):
                    assert np.array_equal(a, b, equal_nan=True)
                    assert np.array_equal(np.signbit(a), np.signbit(b))
    assert fast >= 8


def test_the_month_in_progress_stops_at_now(make_service) -> None:  # type: ignore[no-untyped-def]
    report = make_service(IN_SEPTEMBER).compute(SEP)
    nodes = next(slo for slo in report.slos if slo.id == "shop-nodes")
    assert nodes.daily[-1].date.isoformat() == "2026-09-17"
    assert report.partial and timedelta(0) < SEP.end - IN_SEPTEMBER
