"""The exporters' HTTP server under bursts, slow clients and clients that give up, as real processes."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hostile import CountingServer, DripServer, ExporterProcess, get, metric

from stack.throwaway import wait_for


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer(interval=0.2)
    yield server
    server.close()


def haproxy_exporter(tmp_path: Path, target: str, *args: str) -> ExporterProcess:
    return ExporterProcess(
        "haproxy", [f"--haproxy.scrape-uri={target}", *args], tmp_path / "exporter.log"
    ).start()


def test_burst_of_200_scrapes_answered_or_refused_by_max_requests(tmp_path: Path, drip: DripServer) -> None:
    # every scrape holds its slot for the 3 s target timeout (the target drips)
    exp = haproxy_exporter(tmp_path, f"tcp:127.0.0.1:{drip.port}", "--haproxy.timeout=3s")
    try:
        start = time.monotonic()
        with ThreadPoolExecutor(200) as pool:
            results = list(
                pool.map(lambda _: (get(exp.url + "/metrics", timeout=20), time.monotonic()), range(200))
            )
        statuses = [status for (status, _), _ in results]
        assert set(statuses) == {200, 503}
        # --web.max-requests defaults to 40, as exporter-toolkit's: the first 40 hold their slot for
        # the 3 s timeout while the others arrive (exactly 40 unless arriving took that long)
        assert statuses.count(200) >= 40
        assert statuses.count(503) >= 100
        assert max(t for _, t in results) - start < 12
        assert all(metric(body, "haproxy_up") == 0 for (status, body), _ in results if status == 200)
        assert "Traceback" not in exp.text()
    finally:
        exp.stop()


def test_burst_without_limit_all_answered(tmp_path: Path) -> None:
    # a refused target answers at once: 200 parallel connections all accepted and served
    closed = CountingServer()
    exp = haproxy_exporter(tmp_path, f"tcp:127.0.0.1:{closed.port}", "--web.max-requests=0")
    try:
        start = time.monotonic()
        with ThreadPoolExecutor(200) as pool:
            statuses = list(pool.map(lambda _: get(exp.url + "/metrics", timeout=20)[0], range(200)))
        assert statuses == [200] * 200
        assert time.monotonic() - start < 15
        assert closed.count == 200
    finally:
        exp.stop()
        closed.close()


def _slow_client(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    return s


def test_slowloris_cannot_hold_threads_beyond_the_read_timeout(tmp_path: Path) -> None:
    target = CountingServer()
    exp = haproxy_exporter(tmp_path, f"tcp:127.0.0.1:{target.port}", "--web.read-timeout=2s")
    try:
        baseline = exp.threads()
        clients = [_slow_client(exp.port) for _ in range(300)]
        wait_for(lambda: exp.threads() >= baseline + 250, 10, "a thread per slow client")
        start = time.monotonic()
        # one header byte every 0.5 s: each read is quick, the request never completes
        for _ in range(8):
            for c in clients:
                with contextlib.suppress(OSError):
                    c.sendall(b"X")
            time.sleep(0.5)
            if exp.threads() <= baseline + 5:
                break
        assert exp.threads() <= baseline + 5, "slow clients still hold threads"
        assert time.monotonic() - start < 4.5
        assert target.count == 0  # no half request was scraped
        # a well-behaved scrape is served meanwhile
        assert get(exp.url + "/metrics")[0] == 200
        for c in clients:
            c.close()
    finally:
        exp.stop()
        target.close()


def test_client_closing_early_causes_no_scrape_and_no_traceback(tmp_path: Path) -> None:
    target = CountingServer()
    exp = haproxy_exporter(tmp_path, f"tcp:127.0.0.1:{target.port}", "--log.level=debug")
    try:
        for _ in range(50):
            _slow_client(exp.port).close()
        # clients that send a whole request and leave before the answer
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", exp.port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
        time.sleep(1.0)
        assert target.count <= 20  # only complete requests may have been scraped
        status, _ = get(exp.url + "/metrics")
        assert status == 200
        log = exp.text()
        assert "Traceback" not in log
        lines = [line for line in log.splitlines() if line.strip()]
        assert lines and all(line.startswith("ts=") for line in lines), log[-2000:]
    finally:
        exp.stop()
        target.close()
