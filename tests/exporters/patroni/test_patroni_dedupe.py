"""Cluster-wide series once per cluster when several members are targets (recorded data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exporters.core.config import Target
from exporters.core.metrics import Family, render, sample_value
from exporters.patroni.cluster import cluster_families, parse_cluster
from exporters.patroni.collector import PatroniCollector
from exporters.patroni.history import history_families, parse_history
from exporters.patroni.node import node_families, parse_node

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def recorded(node_file: str, cluster_file: str, member: str) -> list[Family]:
    node = parse_node(load(node_file))
    fams = node_families(node, member)
    fams += cluster_families(parse_cluster(load(cluster_file)), node.scope)
    fams += history_families(parse_history(load("switchover_history.json")), node.scope)
    return fams


ANSWERS = {
    "pg-1": recorded("leader_patroni.json", "healthy_cluster.json", "pg-1"),
    "pg-2": recorded("replica_patroni.json", "stopped_member_cluster.json", "pg-2"),
    "pg-3": recorded("sync_standby_patroni.json", "healthy_cluster.json", "pg-3"),
}


def scrape(t: Target) -> list[Family]:
    if t.name == "down":
        raise ConnectionRefusedError("refused")
    return ANSWERS[t.name]


def collect(names: list[str], labels: dict[str, str] | None = None) -> list[Family]:
    targets = [Target(n, f"http://{n}", labels=labels or {}) for n in names]
    c = PatroniCollector("patroni", targets, scrape)
    try:
        return c.collect()
    finally:
        c.close()


def samples(fams: list[Family], name: str) -> list[dict[str, str]]:
    return [labels for f in fams if f.name == name for labels, _ in f.samples()]


def test_cluster_series_once_without_target_label():
    fams = collect(["down", "pg-1", "pg-2", "pg-3"])
    assert samples(fams, "patroni_cluster_members") == [{"scope": "nines"}]
    assert sample_value(fams, "patroni_cluster_failovers_total", {"scope": "nines"}) == 1
    roles = samples(fams, "patroni_cluster_member_role")
    assert len(roles) == 3 * 5 and all("target" not in r for r in roles)
    # the view comes from the first target that served /cluster (pg-1: all running, unpaused)
    assert sample_value(fams, "patroni_cluster_paused", {"scope": "nines"}) == 0
    assert sample_value(fams, "patroni_cluster_member_lag_unknown", {"scope": "nines", "member": "pg-2"}) == 0
    # node series keep their target label, the failed target has patroni_up 0 only
    assert sample_value(fams, "patroni_up", {"target": "down"}) == 0
    assert sample_value(fams, "patroni_up", {"target": "pg-2"}) == 1
    lab = {"target": "pg-2", "scope": "nines", "name": "pg-2"}
    assert sample_value(fams, "patroni_replica", lab) == 1


def test_view_follows_target_order():
    fams = collect(["pg-2", "pg-1"])
    assert sample_value(fams, "patroni_cluster_paused", {"scope": "nines"}) == 1


def test_constant_labels_keep_clusters_apart():
    fams = collect(["pg-1", "pg-3"], labels={"cluster": "demo"})
    assert samples(fams, "patroni_cluster_members") == [{"cluster": "demo", "scope": "nines"}]
    text = render(fams).decode()
    assert 'patroni_cluster_members{cluster="demo",scope="nines"} 3\n' in text


def test_single_target_unchanged():
    targets = [Target("pg-1", "http://pg-1")]
    c = PatroniCollector("patroni", targets, scrape, target_label=False)
    fams = c.collect()
    c.close()
    assert samples(fams, "patroni_cluster_members") == [{"scope": "nines"}]
    assert sample_value(fams, "patroni_up", {}) == 1


def test_probe_one_target_has_its_cluster_view():
    targets = [Target(n, f"http://{n}") for n in ("pg-1", "pg-2", "down")]
    c = PatroniCollector("patroni", targets, scrape)
    try:
        fams = c.collect_one("pg-2")
        assert fams is not None
        assert sample_value(fams, "patroni_cluster_paused", {"scope": "nines"}) == 1
        assert sample_value(fams, "patroni_up", {"target": "pg-2"}) == 1
        assert sample_value(fams, "patroni_up", {"target": "pg-1"}) is None
        down = c.collect_one("down")
        assert down is not None
        assert sample_value(down, "patroni_up", {"target": "down"}) == 0
        assert samples(down, "patroni_cluster_members") == []
        assert c.collect_one("nope") is None
    finally:
        c.close()
