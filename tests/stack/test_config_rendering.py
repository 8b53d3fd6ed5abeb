"""How the stack shifts the repo's configs to its ports (pure functions, no processes)."""

from __future__ import annotations

from pathlib import Path

from stack.components.observability import render_alertmanager_config, shift_address
from stack.layout import Layout
from stack.runner import _port_owner


def test_port_owner() -> None:
    assert _port_owner("patroni-2") == "pg-2"
    assert _port_owner("patroni-exporter") == "patroni-exporter"
    assert _port_owner("haproxy-b.promex") == "haproxy-b"
    assert _port_owner("smtp") == "sink"


def test_shift_address(tmp_path: Path) -> None:
    lay = Layout(tmp_path, offset=20000, etcd_members=1)
    assert shift_address("127.0.0.1:9101", lay, lambda n: True) == "127.0.0.1:29101"
    assert shift_address("127.0.0.1:2479", lay, lambda n: n != "etcd-2") is None
    assert shift_address("example.org:80", lay, lambda n: True) == "example.org:80"
    assert shift_address("127.0.0.1:1", lay, lambda n: True) == "127.0.0.1:1"


def test_alertmanager_config_points_at_the_shifted_sinks(tmp_path: Path) -> None:
    text = render_alertmanager_config(Layout(tmp_path, offset=20000))
    assert "127.0.0.1:22525" in text
    assert "127.0.0.1:2525" not in text.replace("127.0.0.1:22525", "")
