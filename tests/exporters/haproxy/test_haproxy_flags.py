"""`--haproxy.socket unix:/path`, flags from the environment and the exporter's own series (real HAProxy)."""

from __future__ import annotations

import threading
import urllib.request

import pytest
from haproxy_live import HAProxy

from exporters.core.cli import build
from exporters.core.metrics import sample_value
from exporters.haproxy.cli import SPEC


@pytest.mark.parametrize("prefix", ["unix:", ""])
def test_socket_flag_takes_a_path_with_or_without_unix_prefix(haproxy: HAProxy, prefix: str) -> None:
    collector, server = build(
        SPEC, [f"--haproxy.socket={prefix}{haproxy.sock}", "--web.listen-address=127.0.0.1:0"]
    )
    try:
        assert sample_value(collector.collect(), "haproxy_up", {}) == 1
    finally:
        server.server_close()
        collector.close()


def _serve_metrics(env: dict[str, str]) -> str:
    collector, server = build(SPEC, [], env)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        collector.close()


def test_every_flag_from_the_environment(haproxy: HAProxy) -> None:
    env = {
        "HAPROXY_EXPORTER_SOCKET": f"unix:{haproxy.sock}",
        "HAPROXY_EXPORTER_WEB_LISTEN_ADDRESS": "127.0.0.1:0",
        "HAPROXY_EXPORTER_PROXIES_ONLY": "true",
        "HAPROXY_EXPORTER_TIMEOUT": "3s",
    }
    body = _serve_metrics(env)
    assert "\nhaproxy_up 1\n" in body
    assert "haproxy_backend_status{" in body
    assert "haproxy_server_status{" not in body  # HAPROXY_EXPORTER_PROXIES_ONLY=true
    assert 'haproxy_exporter_build_info{version="' in body
    assert "\nprocess_resident_memory_bytes " in body
    assert "python_info{" in body


def test_disable_exporter_metrics_keeps_build_info_only(haproxy: HAProxy) -> None:
    env = {
        "HAPROXY_EXPORTER_SOCKET": str(haproxy.sock),
        "HAPROXY_EXPORTER_WEB_LISTEN_ADDRESS": "127.0.0.1:0",
        "HAPROXY_EXPORTER_WEB_DISABLE_EXPORTER_METRICS": "1",
    }
    body = _serve_metrics(env)
    assert "\nhaproxy_up 1\n" in body
    assert 'haproxy_exporter_build_info{version="' in body
    assert "\nprocess_" not in body and "python_info" not in body
