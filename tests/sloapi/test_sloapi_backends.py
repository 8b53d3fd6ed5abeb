"""Distributed query APIs: a path prefix, a tenant header and a bearer token read from a file (a
local proxy that refuses without them, in front of the real Prometheus and of a real
VictoriaMetrics), and long ranges split under a maximum range with unchanged results."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from query_proxy import query_proxy
from slo_history import History
from test_sloapi_status import make_settings

from sloapi.main import create_app
from sloapi.prometheus import PromClient
from sloapi.prometheus.access import Access
from stack.throwaway import free_port, stop, wait_for

TENANT = {"X-Scope-OrgID": "tenant-1"}
TOKEN = "t0ken-from-a-file"


def _get(tmp: Path, prom: str, history: History, path: str, **extra: Any) -> httpx.Response:
    settings = make_settings(tmp, prom, **extra)
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as client:
        return client.get(path, params={"at": history.end})


def test_status_through_prefix_tenant_and_token_equals_direct(
    tmp_path: Path, prom_url: str, history: History
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    required = {**TENANT, "Authorization": f"Bearer {TOKEN}"}
    # an event SLI (instant queries only) and a raw SLI (step series: range queries)
    paths = ("/api/v1/slos/web-availability/status", "/api/v1/slos/pgbouncer-availability/status")
    path = paths[0]
    with query_proxy(prom_url, "/prometheus", required) as (url, log):
        for each in paths:
            direct = _get(tmp_path / "direct", prom_url, history, each)
            proxied = _get(
                tmp_path / "proxied", url, history, each,
                prometheus_headers=TENANT, prometheus_bearer_token_file=token_file,
            )  # fmt: skip
            assert direct.status_code == proxied.status_code == 200
            assert proxied.json() == direct.json()
        assert log.refused == 0
        assert {p for p, _ in log.forwarded} >= {"/api/v1/query", "/api/v1/query_range"}
        refused = _get(tmp_path / "refused", url, history, path, prometheus_headers=TENANT)
    assert refused.status_code == 503
    assert "HTTP 401" in refused.json()["detail"]
    assert log.refused > 0


def test_long_ranges_are_split_under_the_maximum_and_equal_unsplit(
    tmp_path: Path, prom_url: str, history: History
) -> None:
    for path in (
        "/api/v1/slos/web-availability/status",
        "/api/v1/slos/pgbouncer-availability/status",
        "/api/v1/slos/web-availability/budget",
    ):
        whole = _get(tmp_path / "whole", prom_url, history, path)
        with query_proxy(prom_url, "/prometheus", {}) as (url, log):
            split = _get(tmp_path / "split", url, history, path, prometheus_max_query_range="1d")
        assert whole.status_code == split.status_code == 200
        if path.startswith("/api/v1/slos/web-availability/status"):
            # an event SLI's window: whole-window instant queries, one tile per day of the window;
            # the samples of one series counted by the hour, 23 hours a range request (its points,
            # the hour and the minute before the first within a day), every series' around the
            # scrape gap, the gap's hour step by step
            tiles = [p for _, p in log.forwarded if '"sloapi_part", "total",' in p.get("query", "")]
            assert len(tiles) == 30 and all("[1d]))" in p["query"] for p in tiles)
            counts = log.ranges()
            assert len(counts) == -(-720 // 23) + 1
            assert max(end - start + 3600 + 60 for start, end, _ in counts) <= 86400
            steps = [p for _, p in log.forwarded if p.get("query", "").startswith("count_over_time(")]
            assert len(steps) == 1 and "[3599999ms:1m]" in steps[0]["query"]
            assert split.json() == whole.json()
            continue
        assert split.json() == whole.json()
        ranges = log.ranges()
        assert len(ranges) >= 30  # a 30-day window in one-day pieces
        assert max(end - start + step for start, end, step in ranges) <= 86400


def _import_lines(start: int, points: int) -> str:
    lines = []
    for i in range(points):
        stamp = (start + 60 * i) * 1000
        lines.append(f'demo_requests_total{{code="200"}} {100 * i} {stamp}')
        lines.append(f'demo_requests_total{{code="500"}} {i // 10} {stamp}')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real VictoriaMetrics holding two days of one-minute samples; (url, first sample time)."""
    data = tmp_path_factory.mktemp("victoria")
    port = free_port()
    with (data / "log").open("ab") as out:
        proc = subprocess.Popen(
            ["victoria-metrics", f"-storageDataPath={data / 'tsdb'}", f"-httpListenAddr=127.0.0.1:{port}",
             "-retentionPeriod=100y", "-search.latencyOffset=0s"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, 60, "victoria-metrics",
                 ignore=(httpx.HTTPError,))  # fmt: skip
        start = (int(time.time()) // 3600 - 72) * 3600
        httpx.post(f"{url}/api/v1/import/prometheus", content=_import_lines(start, 2 * 1440), timeout=30)
        httpx.get(f"{url}/internal/force_flush", timeout=30)
        count = f"{url}/api/v1/query?query=count(count_over_time(demo_requests_total[100d]))"
        wait_for(lambda: httpx.get(count, timeout=5).json()["data"]["result"], 60, "imported series")
        yield url, start
    finally:
        stop(proc)


def _rate_by_code(client: PromClient, start: int) -> dict[str, list[tuple[float, float]]]:
    begin = datetime.fromtimestamp(start, UTC) + timedelta(hours=1)
    result = client.range(
        "sum by (code) (rate(demo_requests_total[5m]))", begin, begin + timedelta(hours=40), 60
    )
    return {series.labels["code"]: series.points for series in result}


def test_victoriametrics_cluster_prefix_with_tenant_header(victoria: tuple[str, int]) -> None:
    url, start = victoria
    direct = PromClient(url)
    try:
        expected = _rate_by_code(direct, start)
    finally:
        direct.close()
    assert set(expected) == {"200", "500"}
    assert len(expected["200"]) == 40 * 60 + 1
    assert expected["200"][0][1] == pytest.approx(100 / 60)
    with query_proxy(url, "/select/0/prometheus", TENANT) as (proxy_url, log):
        for max_range, requests in ((None, 1), (7200, 21)):  # 40 h of points in 2 h pieces
            log.forwarded.clear()
            client = PromClient(proxy_url, access=Access(headers=TENANT), max_range_seconds=max_range)
            try:
                assert client.ready() is True
                assert _rate_by_code(client, start) == expected
            finally:
                client.close()
            assert len(log.ranges()) == requests
            assert all(end - begin + step <= (max_range or 1e9) for begin, end, step in log.ranges())
        bare = PromClient(proxy_url)
        try:
            assert bare.ready() is False
        finally:
            bare.close()
    assert log.refused == 1


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _private_ca(base: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    ca, ca_key, cert, key = base / "ca.pem", base / "ca.key", base / "cert.pem", base / "cert.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
             "-days", "2", "-subj", "/CN=nines test CA")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(base / "cert.csr"),
             "-subj", "/CN=127.0.0.1")  # fmt: skip
    (base / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", str(base / "cert.csr"), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-out", str(cert), "-days", "2",
             "-extfile", str(base / "san.ext"))  # fmt: skip
    return ca, cert, key


def test_tls_backend_verified_with_the_ca_file(tmp_path: Path, prom_url: str, history: History) -> None:
    ca, cert, key = _private_ca(tmp_path)
    at = datetime.fromtimestamp(history.end, UTC)
    with query_proxy(prom_url, "/prometheus", TENANT, tls=(cert, key)) as (url, log):
        assert url.startswith("https://")
        trusted = PromClient(url, access=Access(headers=TENANT, ca_file=ca))
        untrusted = PromClient(url, access=Access(headers=TENANT))
        try:
            assert trusted.instant("sum(pgbouncer_up)", at)[0].value == 1.0
            assert untrusted.ready() is False  # the system's CAs do not know this one
        finally:
            trusted.close()
            untrusted.close()
    assert log.refused == 0
    assert [path for path, _ in log.forwarded] == ["/api/v1/query"]
