"""Every metric name that rules/ and dashboards/ reference is emitted by the running stack.

Names are checked per component: once a component's job is scraped successfully, each name of
that component must exist; a component the stack does not run fails the test. Recorded names
(ours and the generated SLO rules) must exist too. The names of rules/victoriametrics.rules.yml
belong to the VictoriaMetrics components, which the Prometheus test stack does not run:
tests/rules/test_rules_victoria_live.py checks them on the real components.
"""

from __future__ import annotations

import time

import httpx
import pytest
import yaml
from promql_names import (
    dashboard_queries,
    dashboards,
    metric_names,
    recorded_names,
    rules,
    substitute,
)

from stack.layout import REPO
from stack.runner import Stack

pytestmark = pytest.mark.stack

# name prefix -> scrape job that emits it
OWNERS = {
    "haproxy_": "haproxy",
    "pgbouncer_": "pgbouncer",
    "pgbouncer:": "pgbouncer",
    "patroni_": "patroni",
    "etcd_": "etcd",
    "keepalived_": "keepalived",
    "prometheus_": "prometheus",
    "alertmanager_": "alertmanager",
    "sloapi_": "sloapi",
    # the generated SLO recordings are computed by Prometheus itself
    "slo:": "prometheus",
    "sloth_": "prometheus",
}
# Names that exist only in states a healthy test stack is not in: the reason, and the source file
# that must still define the name (so the list cannot hide a renamed metric).
CONDITIONAL = {
    "keepalived_vrrp_excluded_state": (
        "only for `virtual_ipaddress_excluded` VIPs, which the stack does not configure",
        "exporters/keepalived/families.py",
    ),
    "keepalived_node:failing_trackers:count": (
        "counts failing track scripts: no series while every one passes",
        "rules/keepalived.rules.yml",
    ),
    "etcd_network_peer_round_trip_time_seconds_bucket": (
        "measured between etcd peers; the test stack runs a single member",
        "rules/etcd.rules.yml",
    ),
}
# Either name of a pair is enough: the exporter emits one or the other (see rules/patroni.rules.yml).
ALTERNATIVES = [{"patroni_replication_replay_lag_seconds", "patroni_replication_replay_lag_estimate_seconds"}]


def _victoria_names() -> set[str]:
    """Names the VictoriaMetrics rules select (`up` aside, every one of them a VictoriaMetrics one)."""
    groups = yaml.safe_load((REPO / "rules" / "victoriametrics.rules.yml").read_text())["groups"]
    return {n for g in groups for r in g["rules"] for n in metric_names(r["expr"])} - {"up"}


def _referenced() -> dict[str, set[str]]:
    """Metric name -> where it is used (but the VictoriaMetrics components' names)."""
    used: dict[str, set[str]] = {}
    victoria = _victoria_names()
    for rule in rules():
        for name in metric_names(rule["expr"]) - victoria:
            used.setdefault(name, set()).add(f"rule {rule.get('alert') or rule.get('record')}")
    for file, board in dashboards().items():
        for where, expr in dashboard_queries(board):
            for name in metric_names(substitute(expr)):
                used.setdefault(name, set()).add(f"{file} {where}")
    for record in recorded_names():
        used.setdefault(record, set()).add("recording rule")
    return used


def _owner(name: str) -> str | None:
    """The job emitting `name`; a recorded name `level:metric:ops` belongs to its metric's job."""
    parts = [name, *name.split(":")]
    for prefix, job in OWNERS.items():
        if any(part.startswith(prefix) for part in parts):
            return job
    return None


def test_referenced_metric_names_exist_in_the_stack(stack: Stack) -> None:
    base = f"http://{stack.addr('prometheus')}/api/v1"
    used = _referenced()
    assert len(used) > 60

    def up_jobs() -> set[str]:
        result = httpx.get(f"{base}/query", params={"query": "up == 1"}, timeout=10).json()
        return {r["metric"]["job"] for r in result["data"]["result"]}

    def missing() -> tuple[set[str], set[str]]:
        jobs = up_jobs()
        present = set(httpx.get(f"{base}/label/__name__/values", timeout=10).json()["data"])
        for pair in ALTERNATIVES:
            if pair & present:
                present |= pair
        absent = set(used) - present - set(CONDITIONAL)
        not_running = {n for n in absent if (_owner(n) or "") not in jobs and _owner(n)}
        return absent - not_running, not_running

    # rules and scrapes need a few rounds after the stack starts
    deadline = time.monotonic() + 180
    while True:
        wrong, not_running = missing()
        if not wrong or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert {n: sorted(used[n]) for n in wrong} == {}
    assert sorted(not_running) == [], "components not running in the stack: names left unchecked"


def test_conditional_names_are_still_used_and_defined() -> None:
    used = _referenced()
    for name, (_, source) in CONDITIONAL.items():
        assert name in used, f"{name} is no longer referenced: drop it from CONDITIONAL"
        assert name in (REPO / source).read_text(), f"{source} no longer defines {name}"


def test_every_dashboard_query_evaluates_on_the_stack(stack: Stack) -> None:
    """With real series, queries can fail where an empty Prometheus accepts them (matching)."""
    errors = []
    with httpx.Client(base_url=f"http://{stack.addr('prometheus')}", timeout=20) as client:
        for file, board in dashboards().items():
            for where, expr in dashboard_queries(board):
                body = client.get("/api/v1/query", params={"query": substitute(expr)}).json()
                if body["status"] != "success":
                    errors.append(f"{file} {where}: {body.get('error')}")
    assert errors == []
