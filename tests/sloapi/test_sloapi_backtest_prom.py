"""The alert backtest through the API and the CLI against a real Prometheus holding known
history: the injected incidents are found with the delays the rule windows imply (computed here
from the per-minute truth), and a clean month pages nobody."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from slo_history import DAY, SCRAPE, History

from sloapi.cli import main
from sloapi.config import Settings
from sloapi.main import create_app

REPO = Path(__file__).resolve().parents[2]
# (name, short, long, threshold): the SRE Workbook's tiers for 30 days at 99.9 %
TIERS = [
    ("page 1h/5m", 300, 3600, 14.4 * 0.001),
    ("page 6h/30m", 1800, 21600, 6 * 0.001),
    ("ticket 1d/2h", 7200, 86400, 3 * 0.001),
    ("ticket 3d/6h", 21600, 259200, 1 * 0.001),
]


def expected_delay(history: History, start: int, short: int, long: int, threshold: float) -> int:
    """Seconds from `start` to the first minute both windows' error ratios exceed `threshold`,
    from the per-minute truth (minutes without samples hold no event)."""
    t = history.minute_ends
    ok = history.covered(t)
    err = np.where(ok, history.web_errors, 0.0)
    tot = np.where(ok, history.web_total, 0.0)

    def ratio(end: int, seconds: int) -> float:
        inside = (t > end - seconds) & (t <= end)
        return float(err[inside].sum() / tot[inside].sum())

    for end in range(start + 60, start + DAY, 60):
        if ratio(end, short) > threshold and ratio(end, long) > threshold:
            return end - start
    raise AssertionError("never fires")


def settings_for(tmp: Path, url: str, slos: Path = REPO / "slos") -> Settings:
    return Settings(
        slos_dir=slos,
        prometheus_url=url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=120,
    )


def test_backtest_finds_the_injected_incidents(prom_url: str, history: History, tmp_path: Path) -> None:
    now = datetime.fromtimestamp(history.end, UTC)
    start, end = history.end - 30 * DAY, history.end
    with TestClient(create_app(settings_for(tmp_path, prom_url), clock=lambda: now)) as client:
        answer = client.get("/api/v1/backtest", params={"from": start, "to": end, "slo": "web-availability"})
        assert answer.status_code == 200, answer.text
        (web,) = answer.json()["slos"]
        posted = client.post(
            "/api/v1/backtest", json={"from": str(start), "to": str(end), "slos": ["web-availability"]}
        )
        assert posted.json()["slos"] == [web]
        assert client.get("/api/v1/backtest", params={"from": end, "to": start}).status_code == 422
        assert (
            client.get("/api/v1/backtest", params={"from": start, "to": end, "slo": "nope"}).status_code
            == 404
        )
    # the 2-hour 5 % burst 10 days ago and the 20-minute outage 2 days ago (the 0.5 % of the
    # last 2 hours burns at 5x, under the finder's 10x)
    injected = [history.end - 10 * DAY, history.end - 2 * DAY]
    assert [datetime.fromisoformat(i["start"]).timestamp() for i in web["incidents"]] == injected
    for tier, (name, short, long, threshold) in zip(web["tiers"], TIERS, strict=True):
        assert tier["name"] == name
        assert tier["incidents_caught"] == 2 and tier["incidents_missed"] == 0
        delays = [d["delay_seconds"] for d in tier["detections"]]
        assert delays == [expected_delay(history, s, short, long, threshold) for s in injected], name
    pages = [t for t in web["tiers"] if t["severity"] == "page"]
    assert [t["alerts_without_incident"] for t in pages] == [0, 0]
    # the outage (full, 20 minutes) pages within the minutes the windows imply
    assert web["tiers"][0]["detections"][1]["delay_seconds"] <= 180


@pytest.fixture(scope="module")
def clean_url(prometheus_history: Callable[..., object]) -> tuple[str, int]:
    """A Prometheus holding 34 clean days of web traffic: 600 requests a minute, one error in 7
    minutes (0.024 %, a quarter of the budget's rate)."""
    end = int(datetime.now(UTC).timestamp()) // 3600 * 3600 - 3600
    times = np.arange(end - 34 * DAY, end + 1, SCRAPE)
    minutes = (times - times[0]) / 60
    bad = np.floor(minutes / 7)
    good = minutes * 600 - bad
    base = {"job": "haproxy", "cluster": "demo", "target": "haproxy-a", "proxy": "web"}
    name = "haproxy_backend_http_responses_total"
    series = [
        (name, "counter", {**base, "code": "2xx"}, list(zip(times.tolist(), good.tolist(), strict=True))),
        (name, "counter", {**base, "code": "5xx"}, list(zip(times.tolist(), bad.tolist(), strict=True))),
    ]
    return prometheus_history("clean-month", series).url, end  # type: ignore[attr-defined]


def test_a_clean_month_pages_nobody(
    clean_url: tuple[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, end = clean_url
    monkeypatch.setenv("SLOAPI_DATABASE_URL", f"sqlite:///{tmp_path / 'db'}")
    monkeypatch.setenv("SLOAPI_PROMETHEUS_TIMEOUT_SECONDS", "120")
    args = ["backtest", "--prometheus-url", url, "--slo", "web-availability", "--format", "json"]
    code = main([*args, "--from", str(end - 30 * DAY), "--to", str(end)])
    assert code == 0
    (web,) = json.loads(capsys.readouterr().out)["slos"]
    assert web["incidents"] == []
    assert [(t["alerts"], t["firing_seconds"]) for t in web["tiers"]] == [(0, 0.0)] * 4
    assert main([*args[:-2], "--from", str(end - 30 * DAY), "--to", str(end)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("web-availability: 0 incidents from ")
    assert "page 1h/5m       caught 0, missed 0, delays -; 0 alerts without incident; firing 0 min" in text
    assert main([*args, "--from", "yesterday", "--to", str(end)]) == 2
