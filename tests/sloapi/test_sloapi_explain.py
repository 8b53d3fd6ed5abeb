"""Budget attribution against a real Prometheus holding known history (attribution_history.py)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from attribution_history import BUDGET, DAY, SPEC, ShopHistory
from fastapi.testclient import TestClient

from sloapi.cli import main
from sloapi.config import Settings
from sloapi.main import create_app
from stack.history import Prometheus


@pytest.fixture(scope="module")
def slos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec directory with the shop's SLO."""
    directory = tmp_path_factory.mktemp("shop-slos")
    (directory / "shop.yml").write_text(SPEC, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shop_prom: Prometheus, shop: ShopHistory, slos: Path
) -> Iterator[TestClient]:
    """The API on the shop's spec, clock at the history's end."""
    settings = Settings(
        slos_dir=slos,
        prometheus_url=shop_prom.url,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('explain') / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
    )
    now = datetime.fromtimestamp(shop.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as test_client:
        yield test_client


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat()


def test_periods_name_the_injected_incidents_and_add_up(client: TestClient, shop: ShopHistory) -> None:
    response = client.get("/api/v1/slos/shop-availability/budget/explain", params={"window": "3d"})
    assert response.status_code == 200, response.text
    body = response.json()
    truth = shop.window(shop.end, 3 * DAY)
    consumed = (truth["s1"] + truth["s2"] + truth["s3"]) / (BUDGET * truth["total"])
    assert math.isclose(body["consumed_ratio"], consumed, rel_tol=1e-9)
    incidents = [row for row in body["periods"] if row["kind"] == "incident"]
    assert [(row["start"], row["end"]) for row in incidents] == [
        (iso(shop.outage[0]), iso(shop.outage[1])),
        (iso(shop.burst[0]), iso(shop.burst[1])),
    ]
    # each incident owns its minutes' errors: the failing server's and s1's background
    outage = (30 * 200 + 30) / (BUDGET * truth["total"])
    burst = (20 * 120 + 20) / (BUDGET * truth["total"])
    assert math.isclose(incidents[0]["consumed_ratio"], outage, rel_tol=1e-9)
    assert math.isclose(incidents[1]["consumed_ratio"], burst, rel_tol=1e-9)
    outside = [row for row in body["periods"] if row["kind"] == "outside_incidents"]
    assert math.isclose(outside[0]["consumed_ratio"], consumed - outage - burst, rel_tol=1e-9)
    assert math.isclose(sum(row["consumed_ratio"] for row in body["periods"]), consumed, rel_tol=1e-3)
    assert math.isclose(sum(row["share"] for row in body["periods"]), 1.0, rel_tol=1e-3)


def test_labels_name_the_failing_servers_and_add_up(client: TestClient, shop: ShopHistory) -> None:
    body = client.get("/api/v1/slos/shop-availability/budget/explain", params={"window": "3d"}).json()
    truth = shop.window(shop.end, 3 * DAY)
    assert body["breakdown_labels"] == ["server"]
    rows = body["labels"]
    named = [row for row in rows if not row["other"]]
    assert [row["labels"] for row in named] == [
        {"server": "s2"},
        {"server": "s1"},
        {"server": "s3"},
    ]  # 6000, 4320, 2400
    for row in named:
        server = row["labels"]["server"]
        assert math.isclose(row["error_events"], truth[server], rel_tol=1e-9)
        assert math.isclose(row["consumed_ratio"], truth[server] / (BUDGET * truth["total"]), rel_tol=1e-9)
    assert math.isclose(sum(row["consumed_ratio"] for row in rows), body["consumed_ratio"], rel_tol=1e-3)
    assert all(abs(row["consumed_ratio"]) < 1e-9 for row in rows if row["other"])


def test_a_breakdown_named_in_the_spec(client: TestClient, shop: ShopHistory, tmp_path: Path) -> None:
    (tmp_path / "shop.yml").write_text(SPEC + "    breakdown: [code]\n", encoding="utf-8")
    settings = client.app.state.ctx.settings.model_copy(update={"slos_dir": tmp_path})  # type: ignore[attr-defined]
    now = datetime.fromtimestamp(shop.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as other:
        body = other.get("/api/v1/slos/shop-availability/budget/explain", params={"window": "3d"}).json()
    # one code among the errors: a single row holding the whole consumed budget
    assert body["breakdown_labels"] == []
    assert len(body["labels"]) == 1
    assert math.isclose(body["labels"][0]["share"], 1.0, rel_tol=1e-9)


def test_explain_over_a_calendar_window_and_bad_input(client: TestClient, shop: ShopHistory) -> None:
    body = client.get("/api/v1/slos/shop-availability/budget/explain", params={"window": "week"}).json()
    assert body["window"] == "week"
    assert math.isclose(
        sum(r["consumed_ratio"] for r in body["periods"]), body["consumed_ratio"], rel_tol=1e-3
    )
    for params in ({"window": "99999999999999999999d"}, {"at": "0001-01-01T00:00:00Z"}, {"window": "30d30d"}):
        response = client.get("/api/v1/slos/shop-availability/budget/explain", params=params)
        assert response.status_code == 422, params
        assert ("window" if "window" in params else "at") in response.json()["detail"]


def test_cli_explain(
    shop_prom: Prometheus,
    shop: ShopHistory,
    slos: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOAPI_DATABASE_URL", f"sqlite:///{tmp_path / 'sloapi.db'}")
    args = ["explain", "shop-availability", "--slos", str(slos), "--prometheus-url", shop_prom.url]
    assert main([*args, "--window", "3d", "--at", str(shop.end), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [row["labels"] for row in body["labels"]][:2] == [{"server": "s2"}, {"server": "s1"}]
    assert main([*args, "--window", "3d", "--at", str(shop.end)]) == 0
    text = capsys.readouterr().out
    assert f"incident {iso(shop.outage[0])}" in text and "server=s2" in text
    assert main([*args, "--window", "30d@Nowhere/Zone"]) == 2
    assert "time zone applies to" in capsys.readouterr().err


def test_cli_explain_leaves_declared_maintenance_out(
    shop_prom: Prometheus,
    shop: ShopHistory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOAPI_DATABASE_URL", f"sqlite:///{tmp_path / 'sloapi.db'}")
    (tmp_path / "shop.yml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "exclusions.yml").write_text(
        f'version: "nines/exclusions/v1"\nexclusions:\n  - start: "{iso(shop.outage[0])}"\n'
        f'    end: "{iso(shop.outage[1])}"\n    reason: s2 replaced\n    who: alice\n',
        encoding="utf-8",
    )
    args = ["explain", "shop-availability", "--slos", str(tmp_path), "--prometheus-url", shop_prom.url]
    assert main([*args, "--window", "3d", "--at", str(shop.end), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert {"server": "s2"} not in [row["labels"] for row in body["labels"]]
    assert body["excluded"]["seconds"] == 1800
    (tmp_path / "exclusions.yml").write_text('version: "nines/exclusions/v1"\nexclusions:\n  - who: x\n')
    assert main([*args, "--window", "3d"]) == 2
    assert f"{tmp_path / 'exclusions.yml'}:3" in capsys.readouterr().err
