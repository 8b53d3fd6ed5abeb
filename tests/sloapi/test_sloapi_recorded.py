"""`GET /api/v1/slos` from recorded `slo:*` series (what the generated rules produce)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sloapi.config import Settings
from sloapi.main import create_app

REPO = Path(__file__).resolve().parents[2]
RATIOS = {"5m": 0.02, "30m": 0.01, "1h": 0.005, "2h": 0.004, "6h": 0.002, "1d": 0.001, "3d": 0.0005}


@pytest.fixture(scope="module")
def recorded(prometheus_history: Callable[..., object]) -> tuple[str, int]:
    """A Prometheus holding recorded series of web-availability for the last 10 minutes."""
    end = int(time.time()) // 60 * 60 - 600
    labels = {"sloth_id": "web-availability", "sloth_service": "web", "sloth_slo": "availability"}
    times = range(end - 600, end + 1, 30)

    def gauge(name: str, value: float, **extra: str) -> tuple:
        return (name, "gauge", {**labels, **extra}, [(t, value) for t in times])

    series = [gauge("slo:time_period:days", 30.0)]
    series += [gauge(f"slo:sli_error:ratio_rate{w}", v, sloth_window=w) for w, v in RATIOS.items()]
    series.append(gauge("slo:sli_error:ratio_rate30d", 0.0004, sloth_window="30d"))
    series.append(gauge("slo:data_coverage:ratio", 0.98, sloth_window="30d"))
    series.append(gauge("slo:period_total_events:sum", 1.2e6, sloth_window="30d"))
    # api: samples all month, not one request (the period rule records 0, not NaN)
    api = {"sloth_id": "api-availability", "sloth_service": "api", "sloth_slo": "availability"}
    for name, value in (("slo:time_period:days", 30.0), ("slo:sli_error:ratio_rate30d", 0.0),
                        ("slo:data_coverage:ratio", 1.0), ("slo:period_total_events:sum", 0.0)):  # fmt: skip
        window = {} if name == "slo:time_period:days" else {"sloth_window": "30d"}
        series.append((name, "gauge", {**api, **window}, [(t, value) for t in times]))
    # pgbouncer: recorded without the period's events (older rules): raw SLIs need none
    pgb = {"sloth_id": "pgbouncer-availability", "sloth_service": "pgbouncer", "sloth_slo": "availability"}
    series.append(("slo:time_period:days", "gauge", pgb, [(t, 30.0) for t in times]))
    instance = prometheus_history("recorded", series)
    return instance.url, end  # type: ignore[attr-defined]


def test_listing_reads_recorded_series(recorded: tuple[str, int], tmp_path: Path) -> None:
    url, end = recorded
    settings = Settings(
        slos_dir=REPO / "slos", prometheus_url=url, database_url=f"sqlite:///{tmp_path / 'db'}"
    )
    now = datetime.fromtimestamp(end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        body = client.get("/api/v1/slos", params={"at": end}).json()
        by_id = {s["id"]: s for s in body["slos"]}
        web = by_id["web-availability"]
        assert web["source"] == "rules"
        assert web["sli"] == pytest.approx(0.9996)
        assert web["error_budget"]["consumed_ratio"] == pytest.approx(0.4)
        assert web["error_budget"]["remaining_seconds"] == pytest.approx(0.6 * 2592)
        assert web["burn_rates"] == pytest.approx({w: v / 0.001 for w, v in RATIOS.items()})
        assert web["time_to_exhaustion_seconds"] == pytest.approx(0.6 * 30 * 86400 / 5.0)
        assert web["data"]["coverage_ratio"] == 0.98
        assert web["data"]["status"] == "partial"
        assert web["verdict"] == "met"
        # samples without traffic: no traffic (as the raw path and the report say), not "met" at 1.0
        api = by_id["api-availability"]
        assert api["source"] == "rules"
        assert (api["verdict"], api["sli"], api["data"]["no_traffic"]) == ("no_traffic", None, True)
        assert api["error_budget"]["remaining_ratio"] == 1.0
        # no rules for the others: computed from raw data (absent here)
        assert by_id["etcd-availability"]["source"] == "raw"
        assert by_id["etcd-availability"]["data"]["status"] == "no_data"
        # another window than the rules' period: raw
        other = client.get("/api/v1/slos", params={"at": end, "window": "7d"}).json()
        assert {s["source"] for s in other["slos"]} == {"raw"}
