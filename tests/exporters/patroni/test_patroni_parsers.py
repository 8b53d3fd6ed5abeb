"""Pure parsers on recorded Patroni 3.0.2 answers and hand-made variants."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, render, sample_value
from exporters.patroni.cluster import cluster_families, parse_cluster
from exporters.patroni.history import history_families, parse_history
from exporters.patroni.node import member_name, node_families, parse_node, version_number

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def patroni_metrics(name: str) -> dict[str, tuple[dict[str, str], float]]:
    """Parse Patroni's own /metrics text (3.0.2 writes `name {labels}` once, with a space)."""
    out: dict[str, tuple[dict[str, str], float]] = {}
    for line in (FIXTURES / name).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\w+)\s*\{(.*)\}\s+(\S+)$", line)
        assert m, line
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        out[m.group(1)] = (labels, float(m.group(3)))
    return out


def val(fams: list[Family], metric: str, **labels: str) -> float | None:
    return sample_value(fams, metric, labels)


@pytest.mark.parametrize(
    ("patroni", "metrics", "member"),
    [
        ("leader_patroni.json", "leader_metrics.txt", "pg-1"),
        ("replica_patroni.json", "replica_metrics.txt", "pg-2"),
        ("sync_standby_patroni.json", "sync_standby_metrics.txt", "pg-3"),
        ("stopped_patroni.json", "stopped_metrics.txt", "pg-2"),
    ],
)
def test_node_metrics_are_a_superset_of_patronis_own(patroni: str, metrics: str, member: str):
    """Every series of Patroni 3.0.2's /metrics, same name, scope and value (+ the name label).

    The recordings were taken within seconds of each other; dcs_last_seen moves on between the
    two requests, so it is only checked to be close.
    """
    fams = node_families(parse_node(load(patroni)), member)
    theirs = patroni_metrics(metrics)
    assert len(theirs) == 20
    ours = {f.name for f in fams}
    assert set(theirs) <= ours
    for name, (labels, value) in theirs.items():
        got = val(fams, name, **labels, name=member)
        assert got is not None, name
        if name == "patroni_dcs_last_seen":
            assert abs(got - value) <= 30
        else:
            assert got == pytest.approx(value), name
    for f in fams:
        assert f.type == "gauge" and f.labels[:2] == ("scope", "name")


def test_leader_node_values():
    node = parse_node(load("leader_patroni.json"))
    assert node.is_primary and node.role == "master" and node.scope == "nines"
    fams = node_families(node, "pg-1")
    assert val(fams, "patroni_primary", scope="nines", name="pg-1") == 1
    assert val(fams, "patroni_master", scope="nines", name="pg-1") == 1
    assert val(fams, "patroni_xlog_location", scope="nines", name="pg-1") == 67109000
    assert val(fams, "patroni_postgres_timeline", scope="nines", name="pg-1") == 1
    assert val(fams, "patroni_version", scope="nines", name="pg-1") == 30002
    assert val(fams, "patroni_postgres_state", scope="nines", name="pg-1", state="running") == 1
    assert val(fams, "patroni_postgres_state", scope="nines", name="pg-1", state="stopped") == 0
    info = {"scope": "nines", "name": "pg-1", "version": "3.0.2"}
    assert val(fams, "patroni_info", **info, system_identifier="7712256302186371040") == 1


def test_primary_spelling_name_field_and_flags():
    node = parse_node(load("primary_patroni.json"))
    assert node.is_primary and node.member_name == "db-1"
    assert member_name(node, None, "ignored:1") == "db-1"
    fams = node_families(node, "db-1")
    lab = {"scope": "billing", "name": "db-1"}
    assert val(fams, "patroni_primary", **lab) == 1
    assert val(fams, "patroni_master", **lab) == 1
    assert val(fams, "patroni_pending_restart", **lab) == 1
    assert val(fams, "patroni_failsafe_mode_is_active", **lab) == 1
    assert val(fams, "patroni_version", **lab) == 30301
    assert val(fams, "patroni_postmaster_start_time", **lab) == 1714644000


def test_stopped_postgres_without_lsn_fields():
    node = parse_node(load("stopped_503_patroni.json"))
    fams = node_families(node, "db-3")
    lab = {"scope": "billing", "name": "db-3"}
    assert val(fams, "patroni_postgres_running", **lab) == 0
    assert val(fams, "patroni_replica", **lab) == 1
    assert val(fams, "patroni_cluster_unlocked", **lab) == 1
    for name in ("patroni_xlog_location", "patroni_xlog_replayed_location", "patroni_postgres_timeline"):
        assert val(fams, name, **lab) == 0
    assert val(fams, "patroni_postgres_state", **lab, state="stopped") == 1


def test_standby_leader_with_paused_replay():
    fams = node_families(parse_node(load("standby_leader_patroni.json")), "x")
    lab = {"scope": "dr", "name": "x"}
    assert val(fams, "patroni_standby_leader", **lab) == 1
    assert val(fams, "patroni_primary", **lab) == 0
    assert val(fams, "patroni_xlog_paused", **lab) == 1
    assert val(fams, "patroni_xlog_replayed_timestamp", **lab) == 0
    assert val(fams, "patroni_xlog_received_location", **lab) == 5000


def test_member_name_from_cluster_api_url():
    node = parse_node(load("replica_patroni.json"))
    cluster = load("healthy_cluster.json")
    assert member_name(node, cluster, "127.0.0.1:39427") == "pg-2"
    assert member_name(node, cluster, "127.0.0.1:1") is None


def test_paused_node():
    fams = node_families(parse_node(load("paused_leader_patroni.json")), "pg-3")
    assert val(fams, "patroni_is_paused", scope="nines", name="pg-3") == 1


@pytest.mark.parametrize(
    ("version", "value"), [("3.0.2", 30002), ("2.1.10", 20110), ("4.0.0rc1", 400), (None, 0)]
)
def test_version_number(version: str | None, value: float):
    assert version_number(version) == value


def test_healthy_cluster():
    fams = cluster_families(parse_cluster(load("healthy_cluster.json")), "nines")
    assert val(fams, "patroni_cluster_members", scope="nines") == 3
    assert val(fams, "patroni_cluster_leader_present", scope="nines") == 1
    assert val(fams, "patroni_cluster_sync_standbys", scope="nines") == 1
    assert val(fams, "patroni_cluster_paused", scope="nines") == 0
    assert val(fams, "patroni_cluster_member_role", scope="nines", member="pg-1", role="leader") == 1
    assert val(fams, "patroni_cluster_member_role", scope="nines", member="pg-3", role="sync_standby") == 1
    assert val(fams, "patroni_cluster_member_role", scope="nines", member="pg-3", role="leader") == 0
    assert val(fams, "patroni_cluster_member_lag_bytes", scope="nines", member="pg-2") == 0
    assert val(fams, "patroni_cluster_member_lag_bytes", scope="nines", member="pg-1") is None
    assert val(fams, "patroni_cluster_member_timeline", scope="nines", member="pg-1") == 1
    assert val(fams, "patroni_cluster_scheduled_switchover", scope="nines") == 0


def test_stopped_member_and_paused_cluster():
    fams = cluster_families(parse_cluster(load("stopped_member_cluster.json")), "nines")
    assert val(fams, "patroni_cluster_paused", scope="nines") == 1
    assert val(fams, "patroni_cluster_member_state", scope="nines", member="pg-2", state="stopped") == 1
    assert val(fams, "patroni_cluster_member_lag_unknown", scope="nines", member="pg-2") == 1
    assert val(fams, "patroni_cluster_member_lag_bytes", scope="nines", member="pg-2") is None
    assert val(fams, "patroni_cluster_member_timeline", scope="nines", member="pg-2") is None


def test_old_master_spelling_and_scheduled_switchover():
    view = parse_cluster(load("old_master_cluster.json"))
    assert view.leader is not None and view.leader.name == "a"
    fams = cluster_families(view, "s")
    assert val(fams, "patroni_cluster_member_role", scope="s", member="a", role="leader") == 1
    assert val(fams, "patroni_cluster_member_lag_bytes", scope="s", member="b") == 16777216
    assert val(fams, "patroni_cluster_member_pending_restart", scope="s", member="c") == 1
    assert val(fams, "patroni_cluster_scheduled_switchover", scope="s") == 1
    assert val(fams, "patroni_cluster_scheduled_switchover_timestamp_seconds", scope="s") == 1714701600


def test_newer_cluster_receive_and_replay_lag_and_unknown_state():
    fams = cluster_families(parse_cluster(load("newer_cluster.json")), "b")
    assert val(fams, "patroni_cluster_member_replay_lag_bytes", scope="b", member="db-2") == 8192
    assert val(fams, "patroni_cluster_member_receive_lag_bytes", scope="b", member="db-2") == 0
    assert val(fams, "patroni_cluster_member_role", scope="b", member="db-2", role="quorum_standby") == 1
    st = "in archive recovery"
    assert val(fams, "patroni_cluster_member_state", scope="b", member="db-3", state=st) == 1


def test_leaderless_cluster():
    fams = cluster_families(parse_cluster(load("leaderless_cluster.json")), "nines")
    assert val(fams, "patroni_cluster_leader_present", scope="nines") == 0
    assert val(fams, "patroni_cluster_paused", scope="nines") == 1


def test_history():
    assert history_families(parse_history([]), "n")[0].rows == [(("n",), 0.0)]
    one = history_families(parse_history(load("switchover_history.json")), "nines")
    assert val(one, "patroni_cluster_failovers_total", scope="nines") == 1
    assert val(one, "patroni_cluster_last_failover_timestamp_seconds", scope="nines") == pytest.approx(
        1795649635.322278
    )
    assert val(one, "patroni_cluster_last_failover_timeline", scope="nines") == 2
    mixed = history_families(parse_history(load("mixed_history.json")), "s")
    assert val(mixed, "patroni_cluster_failovers_total", scope="s") == 3
    assert val(mixed, "patroni_cluster_last_failover_timestamp_seconds", scope="s") == 1714649400.5
    assert val(mixed, "patroni_cluster_last_failover_timeline", scope="s") == 4


@pytest.mark.parametrize(
    "doc",
    [
        [],
        "x",
        {"state": "running"},
        {"state": "running", "role": 3},
        {"state": "running", "role": "replica", "xlog": []},
        {"state": "running", "role": "replica", "xlog": {"location": "0/3000000"}},
        {"state": "running", "role": "replica", "timeline": True},
        {"state": "running", "role": "replica", "postmaster_start_time": "yesterday"},
        {"state": "running", "role": "replica", "pause": "yes"},
    ],
)
def test_bad_patroni_shapes_raise_parse_error(doc: object):
    with pytest.raises(ParseError):
        parse_node(doc)


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"members": {}},
        {"members": [{"role": "leader"}]},
        {"members": [{"name": "a", "lag": "lots"}]},
        {"members": [{"name": "a", "timeline": "2"}]},
        {"members": [], "scheduled_switchover": {"at": "soon"}},
    ],
)
def test_bad_cluster_shapes_raise_parse_error(doc: object):
    with pytest.raises(ParseError):
        parse_cluster(doc)


@pytest.mark.parametrize("doc", [{}, [1], [[]], [["1"]], [[1, 2, "r", "not a time"]]])
def test_bad_history_shapes_raise_parse_error(doc: object):
    with pytest.raises(ParseError):
        parse_history(doc)


GOLDEN = [
    ("leader_patroni.json", "healthy_cluster.json", "switchover_history.json", "leader.metrics"),
    ("stopped_patroni.json", "stopped_member_cluster.json", "empty_history.json", "stopped.metrics"),
]


@pytest.mark.parametrize(("patroni", "cluster", "history", "golden"), GOLDEN)
def test_golden_output(patroni: str, cluster: str, history: str, golden: str):
    """The whole rendered output of the parsers, against a reviewed golden file."""
    node = parse_node(load(patroni))
    fams = node_families(node, "pg-x")
    fams += cluster_families(parse_cluster(load(cluster)), node.scope)
    fams += history_families(parse_history(load(history)), node.scope)
    text = render(fams).decode()
    path = FIXTURES / golden
    if not path.exists():  # first run writes it; review and keep it
        path.write_text(text)
    assert text == path.read_text()
