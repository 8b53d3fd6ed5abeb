"""The exporter on the stack's real HAProxy pair (session `stack` fixture)."""

from __future__ import annotations

import time
import urllib.request

import pytest
from promex_compare import missing_families

from exporters.core.config import Target
from exporters.core.metrics import render
from exporters.haproxy.scrape import scrape
from stack.throwaway import wait_for

pytestmark = pytest.mark.stack


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.status, resp.read().decode()


def test_no_promex_family_missing_on_the_stack(stack) -> None:
    sock = stack.path("run", "haproxy-a.sock")
    ours = render(scrape(Target("haproxy-a", f"unix:{sock}", timeout=10))).decode()
    promex = get(f"http://{stack.addr('haproxy-a.promex')}/metrics")[1]
    assert missing_families(promex, ours) == []
    assert 'haproxy_backend_status{proxy="web",state="UP"} 1' in ours


def test_stack_exporter_watches_both_nodes_and_survives_a_dead_one(stack) -> None:
    assert stack.pid("haproxy-exporter") is not None, "the stack runs no haproxy-exporter"
    url = f"http://{stack.addr('haproxy-exporter')}/metrics"
    up_b = 'haproxy_up{target="haproxy-b",cluster="demo"}'

    def up_b_is(value: str) -> bool:
        status, body = get(url)
        return status == 200 and f"{up_b} {value}\n" in body

    wait_for(lambda: up_b_is("1"), 60, "haproxy-b up", step=0.5)
    body = get(url)[1]
    assert 'haproxy_up{target="haproxy-a",cluster="demo"} 1' in body
    assert 'haproxy_server_status{target="haproxy-a",cluster="demo",proxy="web"' in body
    stack.stop_component("haproxy-b")
    try:
        start = time.monotonic()
        status, body = get(url)
        assert status == 200
        assert time.monotonic() - start < 10  # within the 5 s default timeout, plus slack
        assert f"{up_b} 0\n" in body
        assert 'haproxy_up{target="haproxy-a",cluster="demo"} 1' in body
    finally:
        stack.start_component("haproxy-b")
    wait_for(lambda: up_b_is("1"), 60, "haproxy-b up", step=0.5)
