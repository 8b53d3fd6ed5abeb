"""Targets that drip bytes are cut at their timeout; each target reports its own scrape duration."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hostile import DripServer, ExporterProcess, get, metric

from stack.throwaway import wait_for

TIMEOUT = 2.0
HTTP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer(head=HTTP_HEAD, interval=0.3)
    yield server
    server.close()


@pytest.fixture
def slow_head() -> Iterator[DripServer]:
    server = DripServer(head=b"", interval=0.3)  # even the status line drips
    yield server
    server.close()


@pytest.fixture
def pg_drip() -> Iterator[DripServer]:
    # an authentication request of 1000 bytes that arrives a byte at a time
    server = DripServer(head=b"R" + (1000).to_bytes(4, "big"), interval=0.3)
    yield server
    server.close()


def _exporter(tmp_path: Path, name: str, args: list[str]) -> ExporterProcess:
    return ExporterProcess(name, args, tmp_path / f"{name}.log").start()


CASES = {
    "patroni-body": ("patroni", "--patroni.url=http://127.0.0.1:{port}", "patroni_up", "drip"),
    "patroni-head": ("patroni", "--patroni.url=http://127.0.0.1:{port}", "patroni_up", "slow_head"),
    "haproxy-http": ("haproxy", "--haproxy.scrape-uri=http://127.0.0.1:{port}/;csv", "haproxy_up", "drip"),
    "haproxy-tcp": ("haproxy", "--haproxy.scrape-uri=tcp:127.0.0.1:{port}", "haproxy_up", "slow_head"),
    "pgbouncer": (
        "pgbouncer",
        "--pgbouncer.dsn=postgresql://stats@127.0.0.1:{port}/pgbouncer?sslmode=disable&gssencmode=disable",
        "pgbouncer_up",
        "pg_drip",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dripping_target_is_cut_at_its_timeout(
    case: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name, flag, up, fixture = CASES[case]
    server: DripServer = request.getfixturevalue(fixture)
    exp = _exporter(tmp_path, name, [flag.format(port=server.port), f"--{name}.timeout={TIMEOUT:g}s"])
    try:
        start = time.monotonic()
        status, body = get(exp.url + "/metrics")
        took = time.monotonic() - start
        assert status == 200
        assert metric(body, up) == 0
        assert metric(body, f'{name}_exporter_scrape_errors_total{{kind="timeout"}}') == 1
        assert took < TIMEOUT + 1.0
        assert server.connections, "the target was never contacted"

        # every connection the exporter opened is closed by it at the deadline, not left dripping
        def all_closed() -> bool:
            return all(c["closed"] is not None for c in server.connections)

        wait_for(all_closed, TIMEOUT + 5, "the exporter to close its connections to the target")
        for c in server.connections:
            assert c["closed"] is not None and c["opened"] is not None
            assert c["closed"] - c["opened"] < TIMEOUT + 1.0
        assert "Traceback" not in exp.text()
    finally:
        exp.stop()


def test_each_target_reports_its_own_duration(tmp_path: Path, drip: DripServer) -> None:
    config = tmp_path / "haproxy.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "targets": [
                    {"name": "slow", "address": f"tcp:127.0.0.1:{drip.port}", "timeout": f"{TIMEOUT:g}s"},
                    {"name": "fast", "address": f"unix:{tmp_path}/no-such.sock", "timeout": f"{TIMEOUT:g}s"},
                ]
            }
        )
    )
    exp = _exporter(tmp_path, "haproxy", [f"--config.file={config}"])
    try:
        status, body = get(exp.url + "/metrics")
        assert status == 200
        slow = metric(body, 'haproxy_exporter_scrape_duration_seconds{target="slow"}')
        fast = metric(body, 'haproxy_exporter_scrape_duration_seconds{target="fast"}')
        assert slow is not None and fast is not None
        assert slow == pytest.approx(TIMEOUT, abs=0.3)
        assert fast < 0.5
        assert metric(body, 'haproxy_up{target="fast"}') == 0
        assert metric(body, 'haproxy_exporter_scrape_errors_total{target="fast",kind="target"}') == 1
        assert metric(body, 'haproxy_exporter_scrape_errors_total{target="slow",kind="timeout"}') == 1
    finally:
        exp.stop()
