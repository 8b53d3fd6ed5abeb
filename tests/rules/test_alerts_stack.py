"""On the real stack: our rules load and evaluate, and injected faults fire alerts that reach
Alertmanager (and people: the email sink), then everything is restored.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from stack.components.patroni import cluster_ready, cluster_state
from stack.runbook_links import runbooks_url
from stack.runner import Stack
from stack.sink import read_mail, read_webhooks

pytestmark = pytest.mark.stack
T = TypeVar("T")


def _poll(fn: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(2)


def _prometheus_alerts(stack: Stack) -> list[dict[str, Any]]:
    resp = httpx.get(f"http://{stack.addr('prometheus')}/api/v1/alerts", timeout=10)
    resp.raise_for_status()
    return list(resp.json()["data"]["alerts"])


def _alertmanager_alerts(stack: Stack, alertname: str) -> list[dict[str, Any]]:
    resp = httpx.get(
        f"http://{stack.addr('alertmanager')}/api/v2/alerts",
        params={"filter": f'alertname="{alertname}"'},
        timeout=10,
    )
    resp.raise_for_status()
    return list(resp.json())


def _firing(stack: Stack, alertname: str, **labels: str) -> Callable[[], dict[str, Any] | None]:
    """A poll function: the matching alert once it fires in Prometheus *and* is in Alertmanager."""

    def matches(alert_labels: dict[str, str]) -> bool:
        return alert_labels.get("alertname") == alertname and all(
            alert_labels.get(k) == v for k, v in labels.items()
        )

    def check() -> dict[str, Any] | None:
        fired = [a for a in _prometheus_alerts(stack) if a["state"] == "firing" and matches(a["labels"])]
        if not fired:
            return None
        received = [a for a in _alertmanager_alerts(stack, alertname) if matches(a["labels"])]
        return received[0] if received else None

    return check


def _haproxy_command(stack: Stack, instance: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(stack.path("run", f"{instance}.sock")))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _admin_state(stack: Stack, instance: str, backend: str, server: str) -> str:
    """`srv_admin_state` of a server in `show servers state` (0: ready, 1: MAINT)."""
    for line in _haproxy_command(stack, instance, f"show servers state {backend}").splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[1] == backend and fields[3] == server:
            return fields[6]
    raise AssertionError(f"{backend}/{server} not in show servers state")


def _require_exporters(stack: Stack, *jobs: str) -> None:
    """Fail unless the stack runs our exporter of each job; then wait until Prometheus scrapes it."""
    missing = [j for j in jobs if stack.pid(f"{j}-exporter") is None]
    assert missing == [], f"exporters not running in the stack: {', '.join(missing)}"
    url = f"http://{stack.addr('prometheus')}/api/v1/query"

    def scraped() -> bool | None:
        result = httpx.get(url, params={"query": "up == 1"}, timeout=10).json()["data"]["result"]
        return set(jobs) <= {r["metric"]["job"] for r in result} or None

    _poll(scraped, 120, f"Prometheus to scrape {', '.join(jobs)}")


def _leader(stack: Stack) -> str:
    state = cluster_state(stack.layout) or {}
    leaders = [m["name"] for m in state.get("members", []) if m.get("role") in ("leader", "primary")]
    assert len(leaders) == 1, state
    return str(leaders[0])


def test_our_rules_are_loaded_and_evaluate_without_error(stack: Stack) -> None:
    url = f"http://{stack.addr('prometheus')}/api/v1/rules"

    def evaluated() -> list[dict[str, Any]] | None:
        groups = httpx.get(url, timeout=10).json()["data"]["groups"]
        ours = [g for g in groups if not g["file"].endswith("slo.rules.yml")]
        rules = [r for g in ours for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else None

    rules = _poll(evaluated, 120, "every rule evaluated once")
    assert {r["name"] for r in rules} >= {"HaproxyDown", "PatroniNoLeader", "EtcdNoLeader", "Watchdog"}
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_watchdog_reaches_the_heartbeat_webhook(stack: Stack) -> None:
    folder = stack.path("sink", "webhook")

    def heartbeat() -> dict[str, Any] | None:
        for body in read_webhooks(folder) if folder.exists() else []:
            if body.get("receiver") == "heartbeat":
                return dict(body)
        return None

    body = _poll(heartbeat, 120, "the Watchdog heartbeat webhook")
    assert body["status"] == "firing"
    assert body["commonLabels"]["alertname"] == "Watchdog"


@pytest.mark.slow
@pytest.mark.timeout(1500)  # polls alerts with generous deadlines on a loaded machine
def test_injected_faults_fire_and_reach_alertmanager_and_email(stack: Stack) -> None:
    """A HAProxy server disabled and the Patroni leader stopped: the matching alerts fire."""
    _require_exporters(stack, "haproxy", "patroni")
    leader = _leader(stack)
    started = time.time()
    _haproxy_command(stack, "haproxy-a", "set server web/app-2 state maint")
    assert _admin_state(stack, "haproxy-a", "web", "app-2") == "1"
    stack.stop_component(leader)
    try:
        maint = _poll(
            _firing(stack, "HaproxyServerMaintenance", target="haproxy-a", proxy="web", server="app-2"),
            240,
            "HaproxyServerMaintenance in Prometheus and Alertmanager",
        )
        assert maint["labels"]["severity"] == "info"
        member = _poll(
            _firing(stack, "PatroniMemberDown", target=leader),
            240,
            "PatroniMemberDown in Prometheus and Alertmanager",
        )
        assert member["labels"]["severity"] == "warning"
        assert member["status"]["state"] == "active"
        failover = _poll(
            _firing(stack, "PatroniFailover", scope="nines"),
            240,
            "PatroniFailover in Prometheus and Alertmanager",
        )
        assert failover["annotations"]["runbook_url"] == runbooks_url(stack.layout) + "#patronifailover"

        # warnings reach people: the team's email, sent to the stack's SMTP sink
        def mailed() -> str | None:
            folder = stack.path("sink", "mail")
            for mail in read_mail(folder) if folder.exists() else []:
                if "PatroniMemberDown" in mail.subject and mail.path.stat().st_mtime >= started:
                    return mail.subject
            return None

        subject = _poll(mailed, 180, "the PatroniMemberDown email in the SMTP sink")
        assert subject.startswith("[FIRING:1] WARNING PatroniMemberDown (demo)")
    finally:
        _haproxy_command(stack, "haproxy-a", "set server web/app-2 state ready")
        stack.start_component(leader)
        _poll(lambda: cluster_ready(stack.layout) or None, 240, "the Patroni cluster to heal")
    assert _admin_state(stack, "haproxy-a", "web", "app-2") == "0"
