"""Replication lag: the tracker's values, a stalled replay, and which target's rows are served.

Recorded answers: `replica_patroni.json` (caught up) and `replay_paused_patroni.json` (a real
Patroni 3.0.2 replica whose replay was paused with `pg_wal_replay_pause()` while the primary took
writes: received 71530184, replayed 71528104).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporters.core.config import Target
from exporters.core.metrics import Family, sample_value
from exporters.patroni.cluster import parse_cluster
from exporters.patroni.collector import PatroniCollector
from exporters.patroni.lag import (
    LeaderReading,
    StandbyLag,
    behind_leader,
    estimate_families,
    replication_families,
    stall_replay_lag,
)
from exporters.patroni.node import node_families, parse_node

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def val(fams: list[Family], metric: str, **labels: str) -> float | None:
    return sample_value(fams, metric, labels)


PAUSED = parse_node(load("replay_paused_patroni.json"))
CAUGHT_UP = parse_node(load("replica_patroni.json"))
LEADER = parse_node(load("leader_patroni.json"))


def test_recorded_paused_replay_lags_the_age_of_its_last_replayed_commit():
    ts = PAUSED.replayed_timestamp
    assert ts is not None and PAUSED.xlog_paused
    # received > replayed in its own answer: behind, whatever the leader's view says
    assert stall_replay_lag(PAUSED, None, ts + 2.5) == pytest.approx(2.5)
    assert stall_replay_lag(PAUSED, 0, ts + 2.5) == pytest.approx(2.5)
    assert stall_replay_lag(PAUSED, 0, ts + 600) == pytest.approx(600)
    assert stall_replay_lag(PAUSED, 0, ts - 1) == 0  # a clock behind the primary's: never negative


def test_caught_up_replica_lags_zero_however_old_its_last_commit():
    ts = CAUGHT_UP.replayed_timestamp
    assert ts is not None and CAUGHT_UP.received_location == CAUGHT_UP.replayed_location
    assert stall_replay_lag(CAUGHT_UP, None, ts + 3600) == 0
    assert stall_replay_lag(CAUGHT_UP, 0, ts + 3600) == 0


def test_replica_behind_the_leader_but_not_receiving():
    ts = CAUGHT_UP.replayed_timestamp
    assert ts is not None
    assert stall_replay_lag(CAUGHT_UP, 8192, ts + 4) == pytest.approx(4)


def test_no_stall_value_for_leader_stopped_or_unknown_timestamp():
    assert stall_replay_lag(LEADER, 100, 2e9) is None
    assert stall_replay_lag(replace(PAUSED, state="stopped"), None, 2e9) is None
    assert stall_replay_lag(replace(PAUSED, replayed_timestamp=None), None, 2e9) is None
    no_xlog = replace(CAUGHT_UP, received_location=None, replayed_location=None)
    assert stall_replay_lag(no_xlog, None, 2e9) is None
    assert stall_replay_lag(no_xlog, 0, 2e9) == 0


def test_behind_leader_prefers_the_fresh_leader_location():
    members = {m.name: m for m in parse_cluster(load("old_master_cluster.json")).members}
    assert members["b"].lag == 16777216
    replayed = PAUSED.replayed_location
    assert replayed is not None
    fresh = LeaderReading(primary=True, clock=2e9, location=replayed + 4096)
    assert behind_leader(PAUSED, fresh, members["b"]) == 4096
    assert behind_leader(PAUSED, None, members["b"]) == 16777216
    # a "leader" in recovery (stale DCS) gives no location: /cluster's lag is used
    stale = LeaderReading(primary=False, clock=2e9, location=None)
    assert behind_leader(PAUSED, stale, members["b"]) == 16777216
    assert behind_leader(PAUSED, None, members["c"]) is None  # lag unknown
    assert behind_leader(PAUSED, None, None) is None


def test_measured_replay_lag_is_the_larger_of_tracker_and_stall():
    rows = [
        StandbyLag("pg-2", "streaming", "sync", 0.001, 0.002, 0.0035, 0),
        StandbyLag("pg-3", "streaming", "async", None, None, None, 2080),
        StandbyLag("pg-4", "catchup", "async", None, None, None, None),
        StandbyLag("pg-5", "streaming", "async", 0.001, 0.001, 0.012, 1e6),
    ]
    fams = replication_families(rows, "n", {"pg-3": 7.5, "pg-2": 0.0, "pg-4": 2.0})
    assert val(fams, "patroni_replication_replay_lag_seconds", scope="n", member="pg-2") == 0.0035
    assert val(fams, "patroni_replication_replay_lag_seconds", scope="n", member="pg-3") == 7.5
    assert val(fams, "patroni_replication_replay_lag_seconds", scope="n", member="pg-4") == 2.0
    assert val(fams, "patroni_replication_replay_lag_seconds", scope="n", member="pg-5") == 0.012
    assert val(fams, "patroni_replication_flush_lag_seconds", scope="n", member="pg-3") == 0
    assert val(fams, "patroni_replication_write_lag_seconds", scope="n", member="pg-4") is None
    assert val(fams, "patroni_replication_replay_lag_bytes", scope="n", member="pg-3") == 2080
    assert val(fams, "patroni_replication_replay_lag_bytes", scope="n", member="pg-4") is None
    assert val(fams, "patroni_replication_sync_state", scope="n", member="pg-2", sync_state="sync") == 1
    assert val(fams, "patroni_replication_sync_state", scope="n", member="pg-3", sync_state="sync") == 0
    plain = replication_families(rows, "n")
    assert val(plain, "patroni_replication_replay_lag_seconds", scope="n", member="pg-3") == 0
    assert val(plain, "patroni_replication_replay_lag_seconds", scope="n", member="pg-4") is None


@given(
    received=st.none() | st.integers(0, 2**63),
    replayed=st.none() | st.integers(0, 2**63),
    behind=st.none() | st.floats(-1e12, 1e12),
    age=st.floats(-1e6, 1e9),
)
def test_stall_lag_is_never_negative_and_zero_only_when_not_behind(
    received: int | None, replayed: int | None, behind: float | None, age: float
):
    ts = PAUSED.replayed_timestamp
    assert ts is not None
    node = replace(PAUSED, received_location=received, replayed_location=replayed)
    lag = stall_replay_lag(node, behind, ts + age)
    own = None if received is None or replayed is None else received - replayed
    known = [g for g in (behind, own) if g is not None]
    if not known:
        assert lag is None
    elif max(known) <= 0:
        assert lag == 0
    else:
        assert lag == pytest.approx(max(0.0, age), abs=1e-6)  # epoch seconds in a float


STALLED = 42.0
LAG = {"scope": "nines", "member": "pg-2"}


def collect_stalled(order: list[str], down: str | None = None) -> list[Family]:
    """pg-1 (leader) sees pg-2 ~0 s behind in pg_stat_replication; pg-2 knows it is stalled."""
    rows = [StandbyLag("pg-2", "streaming", "async", 0.001, 0.001, 0.01, 4096)]
    answers = {
        "pg-1": node_families(LEADER, "pg-1") + replication_families(rows, "nines"),
        "pg-2": node_families(PAUSED, "pg-2")
        + replication_families(rows, "nines", {"pg-2": STALLED})
        + estimate_families("nines", "pg-2", STALLED),
    }

    def scrape(t: Target) -> list[Family]:
        if t.name == down:
            raise ConnectionRefusedError("refused")
        return answers[t.name]

    c = PatroniCollector("patroni", [Target(n, f"http://{n}") for n in order], scrape)
    try:
        return c.collect()
    finally:
        c.close()


@pytest.mark.parametrize("order", [["pg-1", "pg-2"], ["pg-2", "pg-1"]])
def test_a_members_replication_rows_come_from_its_own_target(order: list[str]):
    fams = collect_stalled(order)
    assert sample_value(fams, "patroni_replication_replay_lag_seconds", LAG) == STALLED
    assert sample_value(fams, "patroni_replication_replay_lag_estimate_seconds", LAG) == STALLED
    assert sample_value(fams, "patroni_replication_replay_lag_bytes", LAG) == 4096
    replay = [s for f in fams if f.name == "patroni_replication_replay_lag_seconds" for s in f.samples()]
    assert replay == [(LAG, STALLED)]


def test_tracker_rows_of_another_target_when_the_member_is_down():
    fams = collect_stalled(["pg-2", "pg-1"], down="pg-2")
    assert sample_value(fams, "patroni_replication_replay_lag_seconds", LAG) == 0.01
    assert sample_value(fams, "patroni_replication_replay_lag_estimate_seconds", LAG) is None
