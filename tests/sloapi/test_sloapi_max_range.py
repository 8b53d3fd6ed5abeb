"""A backend with a maximum query range (Mimir, Thanos, VictoriaMetrics cluster behind a limit).

Mimir cannot run here, so a small proxy stands for its limit: it refuses (422) a range query whose
`end - start` plus its longest range selector exceeds `LIMIT`, and an instant query whose longest
range selector does, and forwards everything else to the Prometheus holding the SLO tests' history.
sloapi's range requests are chunked under `max_points_per_query`; with `(points - 1) x step + step`
under the limit every request passes and the answers equal the unsplit ones on both backends.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from slo_history import DAY, History

from sloapi.config import Settings
from sloapi.main import create_app
from stack.throwaway import wait_for

REPO = Path(__file__).resolve().parents[2]
LIMIT = 3 * DAY + 60  # the 3-day burn window's selector must pass
STEP = 60
POINTS = (LIMIT - STEP) // STEP  # points per chunk: (points - 1) x step + the 1-minute selector <= LIMIT
_RANGE = re.compile(r"\[(\d+(?:ms|[smhdwy]))(?::[^\]]*)?\]")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY, "y": 365 * DAY}


def longest_selector(query: str) -> float:
    """Seconds of the longest `[duration]` in `query` (0 when none)."""
    longest = 0.0
    for text in _RANGE.findall(query):
        number, unit = re.fullmatch(r"(\d+)(ms|[smhdwy])", text).groups()  # type: ignore[union-attr]
        longest = max(longest, int(number) * _UNITS[unit])
    return longest


class LimitProxy(BaseHTTPRequestHandler):
    """Forwards `/api/v1/*` GETs to `backend`, refusing queries longer than `LIMIT`."""

    backend = ""
    widest = 0.0
    refused = 0
    in_flight = 0
    last_done = 0.0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).in_flight += 1
        try:
            self._forward()
        finally:
            with self.lock:
                type(self).in_flight -= 1
                type(self).last_done = time.monotonic()

    @classmethod
    def reset(cls) -> None:
        """Zero the counters once the queries of an earlier request have all been answered (a
        request answered 502 at its first refusal leaves its other queries still running)."""
        quiet = lambda: cls.in_flight == 0 and time.monotonic() - cls.last_done > 1.0  # noqa: E731
        wait_for(quiet, 60, "the proxy's earlier queries")
        with cls.lock:
            cls.widest, cls.refused = 0.0, 0

    def _forward(self) -> None:
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        span = longest_selector(params.get("query", ""))
        if url.path.endswith("/query_range"):
            span += float(params["end"]) - float(params["start"])
        with self.lock:
            type(self).widest = max(type(self).widest, span)
        if span > LIMIT:
            with self.lock:
                type(self).refused += 1
            self._answer(422, b'{"status":"error","errorType":"bad_data","error":"the query time range '
                         b'exceeds the limit"}')  # fmt: skip
            return
        upstream = httpx.get(f"{self.backend}{url.path}?{urlencode(params)}", timeout=60)
        self._answer(upstream.status_code, upstream.content)

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def limited(prom_url: str) -> Iterator[str]:
    """URL of the limiting proxy in front of the history's Prometheus."""
    LimitProxy.backend = prom_url
    server = ThreadingHTTPServer(("127.0.0.1", 0), LimitProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def status(url: str, tmp: Path, history: History, window: str, **extra: object) -> httpx.Response:
    """`GET /api/v1/slos/web-availability/status` from an app on `url` at the history's end."""
    settings = Settings(
        slos_dir=REPO / "slos",
        prometheus_url=url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
        **extra,
    )  # type: ignore[arg-type]
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        return client.get(
            "/api/v1/slos/web-availability/status", params={"at": history.end, "window": window}
        )


def test_the_proxy_refuses_what_exceeds_the_limit(limited: str, history: History) -> None:
    ok = httpx.get(f"{limited}/api/v1/query", params={"query": "rate(x[3d])", "time": history.end})
    refused = httpx.get(f"{limited}/api/v1/query", params={"query": "rate(x[4d])", "time": history.end})
    assert ok.status_code == 200 and refused.status_code == 422


def test_unsplit_30_day_range_queries_are_refused(limited: str, tmp_path: Path, history: History) -> None:
    response = status(limited, tmp_path, history, "30d")
    assert response.status_code == 502  # sloapi's QueryError: the backend refused the query


@pytest.mark.parametrize("window", ["7d", "30d", "month"])
def test_chunks_under_the_limit_equal_the_unsplit_answer(
    limited: str, prom_url: str, tmp_path: Path, history: History, window: str
) -> None:
    LimitProxy.reset()
    split = status(limited, tmp_path, history, window, max_points_per_query=POINTS)
    whole = status(prom_url, tmp_path, history, window)
    assert split.status_code == whole.status_code == 200, split.text
    assert LimitProxy.refused == 0 and 3 * DAY <= LimitProxy.widest <= LIMIT
    assert split.json() == whole.json()
