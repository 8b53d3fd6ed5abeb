"""The generated period rules evaluated by a real Prometheus: traffic-weighted, never NaN.

Prometheus cannot evaluate recording rules over the past, so the 5m recordings the period rules
read are written as history (computed here from known counters) and the generated period
expressions are queried at the end of that history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from sloapi.rules import generate_groups
from sloapi.specs import load_dir

DAY = 86400
EVAL = 30

SPEC = """\
version: "prometheus/v1"
service: "shop"
slos:
  - name: "{name}"
    objective: 99.9
    window: 1d
    sli:
      events:
        error_query: sum(rate(req_total{{slo="{name}", code="5xx"}}[{{{{.window}}}}]))
        total_query: sum(rate(req_total{{slo="{name}"}}[{{{{.window}}}}]))
"""


def rates(t: int, busy: bool) -> tuple[float, float]:
    """(error rate, total rate) at t: first half of the day busy and failing, then quiet."""
    if not busy:
        return 0.0, 0.0
    return (2.0, 4.0) if (t // (DAY // 2)) % 2 == 0 else (0.0, 1.0)


def rate5m(t: int, busy: bool) -> tuple[float, float]:
    """Mean rates over (t - 300, t] (what `rate(...[5m])` reads from even counters)."""
    half = DAY // 2
    err = tot = 0.0
    lo = t - 300
    while lo < t:
        hi = min(t, (lo // half + 1) * half)
        e, v = rates(lo, busy)
        err, tot = err + e * (hi - lo), tot + v * (hi - lo)
        lo = hi
    return err / 300, tot / 300


@pytest.fixture(scope="module")
def period(
    tmp_path_factory: pytest.TempPathFactory, prometheus_history: Callable[..., object]
) -> tuple[str, int, dict[str, str], dict[str, tuple[float, float]]]:
    """(Prometheus URL, end, period expression per SLO, expected sums per SLO)."""
    folder = tmp_path_factory.mktemp("rules-specs")
    for name in ("busy", "idle"):
        (folder / f"{name}.yml").write_text(SPEC.format(name=name), encoding="utf-8")
    specs = load_dir(folder)
    groups = generate_groups(specs, interval_seconds=EVAL)
    exprs = {
        r["labels"]["sloth_id"]: r["expr"]
        for g in groups
        for r in g["rules"]
        if r.get("record") == "slo:sli_error:ratio_rate1d"
    }
    cover = {
        r["labels"]["sloth_id"]: r["expr"]
        for g in groups
        for r in g["rules"]
        if r.get("record") == "slo:data_coverage:ratio"
    }
    end = int(time.time()) // DAY * DAY - DAY
    series = []
    sums: dict[str, tuple[float, float]] = {}
    for spec in specs:
        busy = spec.name == "busy"
        labels = {"sloth_id": spec.id, "sloth_service": "shop", "sloth_slo": spec.name,
                  "sloth_window": "5m"}  # fmt: skip
        points = [(t, *rate5m(t, busy)) for t in range(end - 2 * DAY, end + 1, EVAL)]
        series.append(("slo:sli_error_events:rate5m", "gauge", labels, [(t, e) for t, e, _ in points]))
        series.append(("slo:sli_total_events:rate5m", "gauge", labels, [(t, v) for t, _, v in points]))
        inside = [(e, v) for t, e, v in points if end - DAY <= t <= end]
        sums[spec.id] = (sum(e for e, _ in inside), sum(v for _, v in inside))
    instance = prometheus_history("rules-eval", series)
    events = {
        r["labels"]["sloth_id"]: r["expr"]
        for g in groups
        for r in g["rules"]
        if r.get("record") == "slo:period_total_events:sum"
    }
    both = {k: (exprs[k], cover[k], events[k]) for k in exprs}
    return instance.url, end, both, sums  # type: ignore[attr-defined,return-value]


def query(url: str, expr: str, at: int) -> list[dict]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": expr, "time": at}, timeout=60)
    response.raise_for_status()
    return list(response.json()["data"]["result"])


def test_period_sli_is_traffic_weighted(period) -> None:  # type: ignore[no-untyped-def]
    url, end, exprs, sums = period
    (sample,) = query(url, exprs["shop-busy"][0], end)
    err, tot = sums["shop-busy"]
    value = float(sample["value"][1])
    assert value == pytest.approx(err / tot, rel=1e-9)
    # 2 errors/s of 4 for half a day, then 0 of 1: 0.4 by traffic, not 0.25 (mean of ratios)
    assert value == pytest.approx(0.4, rel=0.01)
    assert sample["metric"]["sloth_id"] == "shop-busy"


def test_period_sli_without_traffic_is_zero_not_nan(period) -> None:  # type: ignore[no-untyped-def]
    url, end, exprs, _sums = period
    (sample,) = query(url, exprs["shop-idle"][0], end)
    assert sample["value"][1] == "0"


def test_period_events_rule_tells_no_traffic(period) -> None:  # type: ignore[no-untyped-def]
    url, end, exprs, sums = period
    (idle,) = query(url, exprs["shop-idle"][2], end)
    assert idle["value"][1] == "0"
    (busy,) = query(url, exprs["shop-busy"][2], end)
    # each recorded 5m rate stands for one 30 s interval: 4/s for 12 h then 1/s for 12 h
    assert float(busy["value"][1]) == pytest.approx(sums["shop-busy"][1] * EVAL, rel=1e-9)
    assert float(busy["value"][1]) == pytest.approx(5 * 43200, rel=0.01)


def test_coverage_rule(period) -> None:  # type: ignore[no-untyped-def]
    url, end, exprs, _sums = period
    (sample,) = query(url, exprs["shop-busy"][1], end)
    assert float(sample["value"][1]) == 1.0
    (half,) = query(url, exprs["shop-busy"][1].replace("[1d]", "[1d] offset 36h"), end)
    # 36 h before the end only 12 h of the day before hold samples
    assert float(half["value"][1]) == pytest.approx((12 * 3600 / EVAL + 1) / (DAY / EVAL))


def test_rules_parse_as_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(SPEC.format(name="busy"), encoding="utf-8")
    groups = generate_groups(load_dir(tmp_path))
    assert yaml.safe_load(yaml.safe_dump(groups)) == groups
