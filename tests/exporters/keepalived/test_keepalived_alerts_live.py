"""rules/keepalived.rules.yml on a real Prometheus scraping the exporter of two real keepalived nodes.

Prometheus scrapes and evaluates every second here (the stack: 10 s); the rules' `for:` durations
are the real ones. A partition (b's link taken off the bridge) makes both nodes MASTER: the split
brain alert fires and resolves once the link is back; a SIGKILLed keepalived fires KeepalivedDown.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Exporter
from keepalived_lab import Lab, run

from stack.history import Prometheus, start_prometheus
from stack.throwaway import wait_for

pytestmark = pytest.mark.slow
RULES = Path(__file__).resolve().parents[3] / "rules" / "keepalived.rules.yml"


@pytest.fixture
def prometheus(exporter: Exporter, tmp_path: Path) -> Iterator[Prometheus]:
    host, port = exporter.server.server_address[:2]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n"
        "  - job_name: keepalived\n"
        f"    static_configs: [{{targets: ['{host}:{port}'], labels: {{cluster: lab}}}}]\n"
    )
    prom = start_prometheus(config, tmp_path / "data", tmp_path / "prometheus.log")
    try:
        yield prom
    finally:
        prom.stop()


def query(prom: Prometheus, expr: str) -> list[dict[str, object]]:
    """The result of an instant query."""
    return httpx.get(f"{prom.url}/api/v1/query", params={"query": expr}, timeout=5).json()["data"]["result"]


def alerts(prom: Prometheus) -> dict[tuple[str, str], set[str]]:
    """(alertname, target or iname) -> the states of its tiers, for the keepalived alerts."""
    body = httpx.get(f"{prom.url}/api/v1/alerts", timeout=5).json()
    out: dict[tuple[str, str], set[str]] = {}
    for a in body["data"]["alerts"]:
        labels = a["labels"]
        if labels.get("service") == "keepalived":
            key = (labels["alertname"], labels.get("target", labels.get("iname", "")))
            out.setdefault(key, set()).add(a["state"])
    return out


def firing(prom: Prometheus, name: str, who: str, timeout: float) -> float:
    """Wait until alert `name` about `who` fires; the seconds it took."""
    start = time.monotonic()
    wait_for(
        lambda: "firing" in alerts(prom).get((name, who), set()), timeout, f"{name} {who} firing", step=0.5
    )
    return time.monotonic() - start


def test_partition_fires_split_brain_and_healing_resolves_it(lab: Lab, prometheus: Prometheus) -> None:
    wait_for(lambda: query(prometheus, "keepalived_vrrp:masters:count == 1"), 30, "the first evaluations")
    assert alerts(prometheus) == {}
    b = lab.nodes["b"]
    run("ip", "link", "set", b.host_veth, "nomaster")  # b hears nobody: it takes MASTER too
    took = firing(prometheus, "KeepalivedSplitBrain", "VI_front", 60)
    assert took < 45, took
    assert ("KeepalivedNoMaster", "VI_front") not in alerts(prometheus)
    run("ip", "link", "set", b.host_veth, "master", lab.bridge)
    wait_for(
        lambda: ("KeepalivedSplitBrain", "VI_front") not in alerts(prometheus), 30, "split brain resolved"
    )


def test_keepalived_killed_fires_keepalived_down(lab: Lab, prometheus: Prometheus) -> None:
    wait_for(lambda: len(query(prometheus, "keepalived_up == 1")) == 2, 30, "the first scrapes")
    lab.kill("a", signal.SIGKILL)
    took = firing(prometheus, "KeepalivedDown", "lb-a", 60)
    assert took < 45, took
    states = alerts(prometheus)
    assert ("KeepalivedNoMaster", "VI_front") not in states  # b took over
    assert ("KeepalivedSplitBrain", "VI_front") not in states  # a's series went stale
