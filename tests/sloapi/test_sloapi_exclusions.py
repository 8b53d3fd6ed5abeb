"""Exclusion windows: equal to deleting the samples, declared in a file or through the API."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from attribution_history import BUDGET, DAY, SPEC, ShopHistory
from fastapi.testclient import TestClient

from sloapi.config import Settings
from sloapi.engine.exclusions import Exclusion
from sloapi.engine.windows import Window
from sloapi.errors import SpecError
from sloapi.main import create_app
from sloapi.prometheus import PromClient
from sloapi.specs import load_dir
from sloapi.specs.exclusions import load_exclusions
from sloapi.status import compute_incidents
from stack.history import Prometheus

TOKEN = "s3cret"


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat()


@pytest.fixture(scope="module")
def deleted(prometheus_history: Callable[..., Prometheus], shop: ShopHistory) -> Prometheus:
    """The history without the samples of the outage's minutes (s2's 30 minutes), (start, end]."""
    return prometheus_history(
        "sloapi-shop-deleted", shop.series(exclude=(shop.outage[0] + 1, shop.outage[1]))
    )


def app(tmp: Path, prom: Prometheus, shop: ShopHistory, exclusions: str = "") -> TestClient:
    slos = tmp / "slos"
    slos.mkdir()
    (slos / "shop.yml").write_text(SPEC, encoding="utf-8")
    if exclusions:
        (slos / "exclusions.yml").write_text(exclusions, encoding="utf-8")
    settings = Settings(
        slos_dir=slos,
        prometheus_url=prom.url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
        api_token=TOKEN,
    )  # type: ignore[call-arg]
    now = datetime.fromtimestamp(shop.end, UTC)
    return TestClient(create_app(settings, clock=lambda: now))


def outage_file(shop: ShopHistory) -> str:
    return (
        'version: "nines/exclusions/v1"\nexclusions:\n'
        f'  - start: "{iso(shop.outage[0])}"\n    end: "{iso(shop.outage[1])}"\n'
        "    reason: s2 replaced\n    who: alice\n    slos: [shop-availability]\n"
    )


@pytest.fixture(scope="module")
def excluded_client(
    tmp_path_factory: pytest.TempPathFactory, shop_prom: Prometheus, shop: ShopHistory
) -> Iterator[TestClient]:
    with app(tmp_path_factory.mktemp("excl"), shop_prom, shop, outage_file(shop)) as client:
        yield client


@pytest.fixture(scope="module")
def deleted_client(
    tmp_path_factory: pytest.TempPathFactory, deleted: Prometheus, shop: ShopHistory
) -> Iterator[TestClient]:
    with app(tmp_path_factory.mktemp("del"), deleted, shop) as client:
        yield client


PATH = "/api/v1/slos/shop-availability"


@pytest.mark.parametrize("window", ["3d", "week", "1d"])
def test_an_exclusion_equals_deleting_the_samples(
    excluded_client: TestClient, deleted_client: TestClient, shop: ShopHistory, window: str
) -> None:
    got = excluded_client.get(f"{PATH}/status", params={"window": window}).json()
    want = deleted_client.get(f"{PATH}/status", params={"window": window}).json()
    for key in ("total_events", "error_events", "consumed_ratio", "remaining_ratio", "allowed_events"):
        assert got["error_budget"][key] == pytest.approx(want["error_budget"][key], rel=1e-12, abs=1e-12), key
    assert got["sli"] == pytest.approx(want["sli"], rel=1e-12)
    assert got["verdict"] == want["verdict"]
    # excluded steps are not missing data: they are not expected either
    inside = window != "1d"
    assert got["data"]["missing_steps"] == want["data"]["missing_steps"] - (30 if inside else 0)
    if window == "3d":
        assert got["data"]["coverage_ratio"] == 1.0 and want["data"]["missing_steps"] == 30
    assert got["excluded"]["seconds"] == (1800 if inside else 0)
    assert [w["source"].rsplit(":", 1)[1] for w in got["excluded"]["windows"]] == (["3"] if inside else [])


def test_attribution_with_an_exclusion_equals_deleting_the_samples(
    excluded_client: TestClient, deleted_client: TestClient, shop: ShopHistory
) -> None:
    got = excluded_client.get(f"{PATH}/budget/explain", params={"window": "3d"}).json()
    want = deleted_client.get(f"{PATH}/budget/explain", params={"window": "3d"}).json()
    assert got["consumed_ratio"] == pytest.approx(want["consumed_ratio"], rel=1e-12)
    assert [(p["kind"], p["start"]) for p in got["periods"]] == [
        (p["kind"], p["start"]) for p in want["periods"]
    ]
    assert [p["start"] for p in got["periods"] if p["kind"] == "incident"] == [iso(shop.burst[0])]
    for a, b in zip(got["labels"], want["labels"], strict=True):
        assert a["labels"] == b["labels"]
        assert a["consumed_ratio"] == pytest.approx(b["consumed_ratio"], rel=1e-12, abs=1e-12)
    truth = shop.window(shop.end, 3 * DAY)
    total = truth["total"] - 30 * 600
    s2 = [row for row in got["labels"] if row["labels"] == {"server": "s2"}]
    assert s2 == []  # s2 failed only inside the excluded window
    assert math.isclose(
        sum(r["consumed_ratio"] for r in got["labels"]),
        (truth["s1"] - 30 + truth["s3"]) / (BUDGET * total),
        rel_tol=1e-9,
    )


def test_declared_through_the_api_retroactively(
    tmp_path: Path, shop_prom: Prometheus, shop: ShopHistory
) -> None:
    with app(tmp_path, shop_prom, shop) as client:
        before = client.get(f"{PATH}/status", params={"window": "3d"}).json()
        body = {
            "start": iso(shop.outage[0]),
            "end": iso(shop.outage[1]),
            "reason": "s2 replaced",
            "who": "bob",
        }
        assert client.post("/api/v1/exclusions", json=body).status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        bad = client.post("/api/v1/exclusions", json={**body, "end": body["start"]}, headers=headers)
        assert bad.status_code == 422 and "end must be after start" in bad.json()["detail"]
        unknown = client.post("/api/v1/exclusions", json={**body, "slo_id": "nope"}, headers=headers)
        assert unknown.status_code == 404
        created = client.post("/api/v1/exclusions", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["source"].startswith("api#") and created.json()["slo_id"] is None
        after = client.get(f"{PATH}/status", params={"window": "3d"}).json()
        listed = client.get("/api/v1/exclusions", params={"slo_id": "shop-availability"}).json()
    assert after["error_budget"]["error_events"] == pytest.approx(
        before["error_budget"]["error_events"] - 6030
    )
    assert after["excluded"]["seconds"] == 1800
    assert [(w["who"], w["reason"]) for w in listed["exclusions"]] == [("bob", "s2 replaced")]


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ('start: "2026-11-10T03:00:00Z"\n    end: "2026-11-10T02:00:00Z"', "end must be after start"),
        ('start: "2026-11-10T02:00:00"\n    end: "2026-11-10T03:00:00Z"', "no time zone offset"),
        ('start: "yesterday"\n    end: "2026-11-10T03:00:00Z"', "invalid start 'yesterday'"),
        ('start: "2026-11-10T02:00:00Z"\n    end: "2026-11-10T03:00:00Z"\n    slos: [nope]', "unknown SLO"),
        ('start: "2026-11-10T02:00:00Z"\n    end: "2026-11-10T03:00:00Z"\n    until: x', "unknown field"),
    ],
)
def test_file_errors_name_file_and_line(tmp_path: Path, item: str, reason: str) -> None:
    good = '  - start: "2026-11-09T02:00:00Z"\n    end: "2026-11-09T03:00:00Z"\n    reason: r\n    who: w\n'
    path = tmp_path / "exclusions.yml"
    path.write_text(
        f'version: "nines/exclusions/v1"\nexclusions:\n{good}  - {item}\n    reason: r\n    who: w\n'
    )
    with pytest.raises(SpecError, match=reason) as info:
        load_exclusions(path, {"shop-availability"})
    assert info.value.file == f"{path}:7"


def test_file_exclusions_parse(tmp_path: Path) -> None:
    path = tmp_path / "exclusions.yml"
    path.write_text(
        'version: "nines/exclusions/v1"\nexclusions:\n'
        "  - start: 2026-11-10T02:00:00+01:00\n"
        "    end: 2026-11-10T03:00:00+01:00\n    reason: r\n    who: w\n"
    )
    (item,) = load_exclusions(path)
    assert item.start == datetime(2026, 11, 10, 1, tzinfo=UTC) and item.slo_id is None
    assert item.source == f"{path}:3" and item.applies_to("anything")


def test_burn_down_and_list_leave_the_window_out(
    excluded_client: TestClient, deleted_client: TestClient
) -> None:
    status = excluded_client.get(f"{PATH}/status", params={"window": "3d"}).json()
    points = excluded_client.get(f"{PATH}/budget", params={"window": "3d", "step": "1m"}).json()["points"]
    want = deleted_client.get(f"{PATH}/budget", params={"window": "3d", "step": "1m"}).json()["points"]
    assert points[-1]["remaining_ratio"] == pytest.approx(status["error_budget"]["remaining_ratio"], rel=1e-9)
    assert [p["remaining_ratio"] for p in points] == pytest.approx(
        [p["remaining_ratio"] for p in want], rel=1e-9
    )
    listed = excluded_client.get("/api/v1/slos", params={"window": "3d"}).json()["slos"]
    assert listed[0]["error_budget"]["consumed_ratio"] == pytest.approx(
        status["error_budget"]["consumed_ratio"], rel=1e-12
    )
    assert listed[0]["excluded"]["seconds"] == 1800


def test_incidents_leave_the_window_out(shop_prom: Prometheus, shop: ShopHistory, tmp_path: Path) -> None:
    (tmp_path / "shop.yml").write_text(SPEC, encoding="utf-8")
    (spec,) = load_dir(tmp_path)
    prom = PromClient.from_settings(Settings(prometheus_url=shop_prom.url))  # type: ignore[call-arg]
    at = datetime.fromtimestamp(shop.end, UTC)
    outage = Exclusion(
        datetime.fromtimestamp(shop.outage[0], UTC), datetime.fromtimestamp(shop.outage[1], UTC), "r", "w"
    )
    try:
        every = compute_incidents(prom.batch(), spec, Window("rolling", 3 * DAY), at)
        kept = compute_incidents(prom.batch(), spec, Window("rolling", 3 * DAY), at, exclusions=(outage,))
    finally:
        prom.close()
    assert [i.start.timestamp() for i in every] == [shop.outage[0], shop.burst[0]]
    assert [(i.start.timestamp(), i.end.timestamp()) for i in kept] == [shop.burst]
