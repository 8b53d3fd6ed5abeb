"""Every route's parameters fuzzed (hypothesis) against the app with a real Prometheus behind it:
no answer is a 5xx, and every error is JSON with a `detail`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slo_history import History
from test_sloapi_status import make_settings

from sloapi.main import create_app

TOKEN = "s3cret"
IDS = ["web-availability", "api-latency", "nope", ""]
DURATION = st.from_regex(r"\A[0-9]{1,22}(ms|s|m|h|d|w|y)([0-9]{1,3}(s|m|h|d))?(@[A-Za-z/_+-]{0,20})?\Z")
WINDOW = st.one_of(
    st.none(), DURATION, st.sampled_from(["month", "week", "month@Europe/Paris"]), st.text(max_size=30)
)
AT = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.text(max_size=40),
)
MONTH = st.one_of(st.from_regex(r"\A-?[0-9]{1,6}-[0-9]{1,3}(\.(json|html|csv|pdf))?\Z"), st.text(max_size=20))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History) -> Iterator[TestClient]:
    """The API on the shipped specs with a real Prometheus; server errors come back as answers."""
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"), prom_url, api_token=TOKEN, smtp_port=9)
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings_, clock=lambda: now), raise_server_exceptions=False) as client:
        yield client


def _check(answer: object) -> None:
    code = answer.status_code  # type: ignore[attr-defined]
    assert code < 500, (answer.request.url, code, answer.text[:300])  # type: ignore[attr-defined]
    if code >= 400:
        assert answer.json()["detail"]  # type: ignore[attr-defined]


def _seg(text: str) -> str:
    """`text` as one path segment."""
    return quote(text, safe="")


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


@SETTINGS
@given(slo=st.sampled_from(IDS) | st.text(max_size=20), window=WINDOW, at=AT)
def test_status_routes(api: TestClient, slo: str, window: str | None, at: str | None) -> None:
    params = _params(window=window, at=at)
    _check(api.get("/api/v1/slos", params=params))
    for suffix in ("", "/status"):
        _check(api.get(f"/api/v1/slos/{_seg(slo)}{suffix}", params=params))


@SETTINGS
@given(slo=st.sampled_from(IDS), window=WINDOW, at=AT, step=st.one_of(DURATION, st.text(max_size=10)))
def test_budget_route(api: TestClient, slo: str, window: str | None, at: str | None, step: str) -> None:
    _check(api.get(f"/api/v1/slos/{_seg(slo)}/budget", params=_params(window=window, at=at, step=step)))


@SETTINGS
@given(slo=st.sampled_from(IDS), window=WINDOW, at=AT, token=st.sampled_from([TOKEN, "", "x" * 300]))
def test_snapshot_routes(api: TestClient, slo: str, window: str | None, at: str | None, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    _check(
        api.post(f"/api/v1/slos/{_seg(slo)}/snapshots", params=_params(window=window, at=at), headers=headers)
    )
    _check(api.get(f"/api/v1/slos/{_seg(slo)}/snapshots"))


@SETTINGS
@given(month=MONTH, force=st.sampled_from(["true", "false", "maybe"]))
def test_report_routes(api: TestClient, month: str, force: str) -> None:
    _check(api.get(f"/api/v1/reports/{_seg(month)}"))
    _check(api.get(f"/api/v1/reports/{_seg(month)}/deliveries"))
    _check(api.post(f"/api/v1/reports/{_seg(month)}/send", params={"force": force}))  # no token: 401/403


def test_plain_routes(api: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        _check(api.get(path))
    _check(api.post("/api/v1/reload", headers={"Authorization": f"Bearer {TOKEN}"}))
