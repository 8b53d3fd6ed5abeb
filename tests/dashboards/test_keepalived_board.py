"""The floating IP board's queries give the right answers on recorded keepalived series.

A real Prometheus is filled (promtool backfill) with an hour of the keepalived exporter's series
for both pairs: the front door healthy on lb-a, the PgBouncer pair with no master (pgb-a in FAULT
after its track script failed, pgb-b BACKUP), and one VIP move to lb-a. The panels are evaluated
at the end of that hour as Grafana would ask, variables set to All.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from promql_names import dashboards, substitute

from stack.history import Series, backfill, start_prometheus

END = (int(time.time()) // 3600 - 3) * 3600  # three whole hours ago: a closed block
START = END - 3600
MOVE = END - 1800  # lb-a became master of frontdoor here
BASE = {"job": "keepalived", "cluster": "demo", "instance": "127.0.0.1:9650"}
FRONT = {"iname": "frontdoor", "intf": "nines0", "vrid": "51"}
POOL = {"iname": "pgbouncer", "intf": "nines0", "vrid": "52"}
NODES = {
    # target: (VRRP labels, state before MOVE, state after, base priority, effective priority)
    "lb-a": (FRONT, 1, 2, 150, 150),
    "lb-b": (FRONT, 2, 1, 100, 100),
    "pgb-a": (POOL, 2, 3, 150, 130),
    "pgb-b": (POOL, 1, 1, 100, 100),
}
VIP = {"frontdoor": "198.18.0.10", "pgbouncer": "198.18.0.11"}
PANELS = {p["title"]: p for p in dashboards()["keepalived.json"]["panels"] if p["type"] != "row"}


def _gauge(name: str, labels: dict[str, str], value: Any) -> Series:
    steps = range(START, END + 1, 60)
    return (name, "gauge", labels, [(t, value(t) if callable(value) else value) for t in steps])


def _series() -> Iterator[Series]:
    for target, (vrrp, before, after, base, effective) in NODES.items():
        node = {**BASE, "target": target, **vrrp}
        address = {**node, "ip_address": VIP[vrrp["iname"]]}
        yield _gauge("keepalived_up", {**BASE, "target": target}, 1)
        yield _gauge("keepalived_vrrp_state", address, lambda t, b=before, a=after: a if t >= MOVE else b)
        yield _gauge("keepalived_vrrp_base_priority", node, base)
        yield _gauge(
            "keepalived_vrrp_effective_priority", node, lambda t, b=base, e=effective: e if t >= MOVE else b
        )
        yield _gauge(
            "keepalived_vrrp_last_transition_timestamp_seconds", node, MOVE if before != after else START
        )
        holds = after == 2 and target != "pgb-a"
        yield _gauge("keepalived_vrrp_vip_present", address, lambda t, h=holds: 1 if h and t >= MOVE else 0)
        became = (before != 2) and after == 2
        counter = [(t, 1.0 if became and t >= MOVE else 0.0) for t in range(START, END + 1, 60)]
        yield ("keepalived_become_master_total", "counter", node, counter)
        script = {**BASE, "target": target, "name": f"chk_{vrrp['iname']}"}
        yield _gauge("keepalived_script_status", script, 0 if target == "pgb-a" else 1)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("keepalived")
    assert backfill(_series(), home / "data") > 1000
    (home / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    instance = start_prometheus(home / "prometheus.yml", home / "data", home / "log", timeout=60)
    try:
        yield instance.url
    finally:
        instance.stop()


def _eval(url: str, title: str, ref: int = 0) -> dict[tuple[str, ...], float]:
    """(label values other than the common ones) -> value of one panel target at END."""
    expr = substitute(PANELS[title]["targets"][ref]["expr"])
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr, "time": END}, timeout=10).json()
    assert body["status"] == "success", body
    out = {}
    for r in body["data"]["result"]:
        labels = r["metric"]
        key = tuple(labels[k] for k in ("iname", "target", "ip_address", "name") if k in labels)
        out[key] = float(r["value"][1])
    return out


def test_masters_per_vip_counts_nodes_and_says_zero_for_a_pair_without_master(prometheus: str) -> None:
    assert _eval(prometheus, "Masters per VIP") == {("frontdoor",): 1.0, ("pgbouncer",): 0.0}


def test_the_vip_holder_is_the_master(prometheus: str) -> None:
    assert _eval(prometheus, "VIP holder now") == {("frontdoor", "lb-a"): 2.0}


def test_state_timeline_has_one_band_per_node_and_instance(prometheus: str) -> None:
    assert _eval(prometheus, "VRRP state over time") == {
        ("frontdoor", "lb-a"): 2.0,
        ("frontdoor", "lb-b"): 1.0,
        ("pgbouncer", "pgb-a"): 3.0,
        ("pgbouncer", "pgb-b"): 1.0,
    }


def test_priority_lowered_by_a_failing_track_script(prometheus: str) -> None:
    lowered = _eval(prometheus, "Priority lowered by")
    assert lowered[("pgbouncer", "pgb-a")] == 20.0
    assert {k: v for k, v in lowered.items() if k != ("pgbouncer", "pgb-a")} == {
        ("frontdoor", "lb-a"): 0.0,
        ("frontdoor", "lb-b"): 0.0,
        ("pgbouncer", "pgb-b"): 0.0,
    }


def test_vip_presence_is_shown_for_masters_only(prometheus: str) -> None:
    assert _eval(prometheus, "VIP configured on its master") == {("frontdoor", "lb-a", VIP["frontdoor"]): 1.0}


def test_time_since_the_last_transition(prometheus: str) -> None:
    since = _eval(prometheus, "Time since the last transition")
    assert since[("frontdoor", "lb-a")] == END - MOVE
    assert since[("pgbouncer", "pgb-b")] == END - START


def test_track_scripts_and_transitions(prometheus: str) -> None:
    scripts = _eval(prometheus, "Track scripts")
    assert scripts[("pgb-a", "chk_pgbouncer")] == 0.0
    assert sum(scripts.values()) == 3.0
    assert _eval(prometheus, "keepalived on each node") == {
        ("lb-a",): 1.0,
        ("lb-b",): 1.0,
        ("pgb-a",): 1.0,
        ("pgb-b",): 1.0,
    }
    body = httpx.get(
        f"{prometheus}/api/v1/query_range",
        params={
            "query": substitute(PANELS["Master transitions"]["targets"][0]["expr"]),
            "start": START,
            "end": END,
            "step": 60,
        },
        timeout=10,
    ).json()
    moved = {
        (r["metric"]["iname"], r["metric"]["target"]): max(float(v) for _, v in r["values"])
        for r in body["data"]["result"]
    }
    assert moved[("frontdoor", "lb-a")] > 0
    assert moved[("pgbouncer", "pgb-a")] == 0
