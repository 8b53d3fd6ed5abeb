"""Window and `at` parsing: strict and total; calendar windows across months, quarters and DST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from slo_history import History

from sloapi.config import Settings
from sloapi.engine.durations import parse_duration, parse_time
from sloapi.engine.windows import Window, parse_window
from sloapi.errors import WindowError
from sloapi.main import create_app

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300),
        ("1h30m", 5400),
        ("30d", 2592000),
        ("1w2d", 777600),
        ("1500ms", None),
        ("10y", 315360000),
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    if seconds is None:
        with pytest.raises(WindowError, match="whole number of seconds"):
            parse_duration(text)
    else:
        assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("99999999999999999999d", "expected a duration"),
        ("36501d", "maximum of 100y"),
        ("30d30d", "expected a duration"),
        ("30m1h", "expected a duration"),
        ("0d", "positive"),
        ("", "expected a duration"),
        ("d", "expected a duration"),
        ("-5m", "expected a duration"),
        ("5 m", "expected a duration"),
    ],
)
def test_bad_durations_name_the_parameter(text: str, reason: str) -> None:
    with pytest.raises(WindowError, match=reason) as info:
        parse_duration(text, "window")
    assert str(info.value).startswith("invalid window")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29T10:00:00+14:00", datetime(2026, 11, 28, 20, 0, tzinfo=UTC)),
        ("2026-11-29T10:00:00 14:00", datetime(2026, 11, 28, 20, 0, tzinfo=UTC)),  # `+` sent raw
        ("2026-11-28T12:00:00-12:00", datetime(2026, 11, 29, 0, 0, tzinfo=UTC)),
        ("2026-11-29T07:00:00Z", datetime(2026, 11, 29, 7, 0, tzinfo=UTC)),
        ("1795939200", datetime(2026, 11, 29, 8, 0, tzinfo=UTC)),
        ("1795939200.5", datetime(2026, 11, 29, 8, 0, 0, 500000, tzinfo=UTC)),
        (None, NOW),
    ],
)
def test_times(text: str | None, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0001-01-01T00:00:00Z", "before 2000"),
        ("0", "before 2000"),
        ("9999-12-31T23:59:59-23:59", "out of range"),
        ("999999999999", "out of range"),
        ("2026-01-01T00:00:00", "no time zone offset"),
        ("yesterday", "expected RFC 3339"),
        ("nan", "expected RFC 3339"),
        ("1e9", "expected RFC 3339"),
        ("-5", "expected RFC 3339"),
    ],
)
def test_bad_times_name_the_parameter(text: str, reason: str) -> None:
    with pytest.raises(WindowError, match=reason) as info:
        parse_time(text, NOW)
    assert str(info.value).startswith("invalid at")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("30d@Nowhere/Zone", "week, month or quarter only"),
        ("30d@Europe/Paris", "week, month or quarter only"),
        ("month@Nowhere/Zone", "unknown time zone"),
        ("month@", "empty time zone"),
        ("year", "expected a duration such as 30d, or week, month or quarter"),
        ("30d30d", "expected a duration such as 30d"),
        ("99999999999999999999d", "expected a duration such as 30d"),
    ],
)
def test_bad_windows(text: str, reason: str) -> None:
    with pytest.raises(WindowError, match=reason) as info:
        parse_window(text)
    assert str(info.value).startswith("invalid window")


def local(zone: str, parts: tuple[int, ...]) -> datetime:
    """The UTC time of the local wall-clock time `parts` (year, month, day[, hour]) in `zone`."""
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("window", "at", "start", "days", "hours_off"),
    [
        # February, leap and not; 30- and 31-day months (UTC)
        ("month", (2026, 2, 14), (2026, 2, 1), 28, 0),
        ("month", (2028, 2, 29, 23), (2028, 2, 1), 29, 0),
        ("month", (2026, 4, 30), (2026, 4, 1), 30, 0),
        ("month", (2026, 12, 31, 23), (2026, 12, 1), 31, 0),
        # Paris: March loses an hour (DST starts on the 29th), October gains one
        ("month@Europe/Paris", (2026, 3, 30), (2026, 3, 1), 31, -1),
        ("month@Europe/Paris", (2026, 10, 2), (2026, 10, 1), 31, 1),
        # 23:30 UTC on February 28 is already March 1 in Paris
        ("month@Europe/Paris", (2026, 3, 1, 0, 30), (2026, 3, 1), 31, -1),
        ("week@Europe/Paris", (2026, 3, 29, 12), (2026, 3, 23), 7, -1),
        ("quarter", (2026, 5, 17), (2026, 4, 1), 91, 0),
        ("quarter", (2026, 1, 1), (2026, 1, 1), 90, 0),
        ("quarter@America/New_York", (2026, 12, 31, 23), (2026, 10, 1), 92, 1),
    ],
)
def test_calendar_windows(
    window: str, at: tuple[int, ...], start: tuple[int, ...], days: int, hours_off: int
) -> None:
    win = parse_window(window)
    at_utc = local(win.timezone, at)
    got_start, got_end = win.bounds(at_utc)
    assert got_start == local(win.timezone, start)
    assert got_start <= at_utc < got_end
    assert win.length_seconds(at_utc) == days * 86400 + hours_off * 3600
    assert got_end - got_start == timedelta(days=days, hours=hours_off)


def test_paris_month_starts_at_2300_utc_the_day_before() -> None:
    start, _end = parse_window("month@Europe/Paris").bounds(datetime(2026, 2, 28, 23, 30, tzinfo=UTC))
    assert start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)


def test_calendar_window_in_the_default_zone() -> None:
    assert parse_window("month", "Europe/Paris") == Window("month", 0, "Europe/Paris")
    assert parse_window("month", "Europe/Paris").name == "month@Europe/Paris"
    assert parse_window("quarter@UTC", "Europe/Paris").name == "quarter"
    assert parse_window({"calendar": "quarter", "timezone": "Asia/Tokyo"}).name == "quarter@Asia/Tokyo"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History) -> Iterator[TestClient]:
    """The API on the shipped specs over the status history, clock at its end."""
    settings = Settings(
        slos_dir=REPO / "slos",
        prometheus_url=prom_url,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('windows') / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
    )  # type: ignore[call-arg]
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        yield client


WINDOW_ROUTES = [
    "/api/v1/slos",
    "/api/v1/slos/web-availability/status",
    "/api/v1/slos/web-availability/budget",
    "/api/v1/slos/web-availability/budget/explain",
]


@pytest.mark.parametrize("path", WINDOW_ROUTES)
@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"window": "99999999999999999999d"}, "invalid window"),
        ({"window": "30d@Nowhere/Zone"}, "invalid window"),
        ({"window": "30d30d"}, "invalid window"),
        ({"at": "0001-01-01T00:00:00Z"}, "invalid at"),
        ({"at": "0"}, "invalid at"),
    ],
)
def test_bad_input_is_a_clear_422(api: TestClient, path: str, params: dict[str, str], names: str) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(names)


def test_offsets_and_calendar_windows_over_http(api: TestClient, history: History) -> None:
    at = datetime.fromtimestamp(history.end, UTC)
    plus14 = at.astimezone(timezone(timedelta(hours=14))).isoformat()
    raw = f"/api/v1/slos/web-availability/status?at={plus14}"  # `+` unescaped: arrives as a space
    for response in (api.get("/api/v1/slos/web-availability/status", params={"at": plus14}), api.get(raw)):
        assert response.status_code == 200, response.text
        assert response.json()["at"] == at.isoformat()
    for window in ("week", "month", "quarter", "month@Pacific/Kiritimati"):
        status = api.get("/api/v1/slos/web-availability/status", params={"window": window}).json()
        start, end = parse_window(window).bounds(at)
        assert (status["window_start"], status["window_end"]) == (start.isoformat(), end.isoformat())
        explain = api.get("/api/v1/slos/web-availability/budget/explain", params={"window": window}).json()
        assert explain["consumed_ratio"] == pytest.approx(status["error_budget"]["consumed_ratio"], rel=1e-12)


def test_explain_of_a_raw_slo(api: TestClient) -> None:
    body = api.get("/api/v1/slos/pgbouncer-availability/budget/explain", params={"window": "30d"}).json()
    status = api.get("/api/v1/slos/pgbouncer-availability/status", params={"window": "30d"}).json()
    assert body["labels"] is None and body["breakdown_labels"] == []
    assert body["consumed_ratio"] == pytest.approx(status["error_budget"]["consumed_ratio"], rel=1e-12)
    assert sum(row["consumed_ratio"] for row in body["periods"]) == pytest.approx(
        body["consumed_ratio"], rel=1e-9
    )
    # pgbouncer was down 15 minutes 7 days ago: one incident holding most of the budget
    incidents = [row for row in body["periods"] if row["kind"] == "incident"]
    assert incidents and max(row["share"] for row in incidents) > 0.5
