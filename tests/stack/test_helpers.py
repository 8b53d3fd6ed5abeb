"""The small helpers tests and benchmarks share: ports, polling, OpenMetrics history."""

from __future__ import annotations

import io
import socket

import pytest

from stack.history import write_openmetrics
from stack.ports import PORTS
from stack.throwaway import PORT_RANGE, free_port, wait_for


def test_free_port_is_bindable_unique_and_clear_of_every_stack_offset() -> None:
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    stack_ports = {p + off for p in PORTS.values() for off in (0, 10000, 15000, 20000)}
    assert max(stack_ports) < PORT_RANGE[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[0]))


def test_wait_for_returns_the_value_and_names_what_timed_out() -> None:
    calls = iter([None, 0, "ready"])
    assert wait_for(lambda: next(calls), 5, "three calls", step=0.01) == "ready"

    def boom() -> None:
        raise ConnectionError("refused")

    with pytest.raises(TimeoutError, match=r"waiting for the server \(last error: ConnectionError"):
        wait_for(boom, 0.05, "the server", step=0.01, ignore=(ConnectionError,))
    with pytest.raises(ValueError):
        wait_for(lambda: int("x"), 1, "a bad call", ignore=(ConnectionError,))


def test_write_openmetrics_groups_families_and_skips_gaps() -> None:
    out = io.StringIO()
    series = [
        ("req_total", "counter", {"code": "5xx"}, [(60.0, 1), (120.0, None), (180.0, 2.5)]),
        ("up", "gauge", {}, [(60.0, 1)]),
        ("req_total", "counter", {"code": "2xx"}, [(60.0, 10)]),
    ]
    assert write_openmetrics(out, series) == 4
    assert out.getvalue() == (
        "# TYPE req counter\n"
        'req_total{code="5xx"} 1.0 60.000\n'
        'req_total{code="5xx"} 2.5 180.000\n'
        'req_total{code="2xx"} 10.0 60.000\n'
        "# TYPE up gauge\n"
        "up 1.0 60.000\n"
        "# EOF\n"
    )
