"""Fuzzed Patroni JSON: the parsers return metrics or raise ParseError, nothing else."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporters.core.errors import ParseError
from exporters.core.metrics import render
from exporters.patroni.cluster import cluster_families, parse_cluster
from exporters.patroni.history import history_families, parse_history
from exporters.patroni.lag import behind_leader, stall_replay_lag
from exporters.patroni.node import member_name, node_families, parse_node

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["unknown", "running", "master", "primary", "leader", "2024-05-01T10:00:00+00:00"]),
)
json_values = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5), st.dictionaries(st.text(max_size=12), kids, max_size=5)
    ),
    max_leaves=20,
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def mutate(doc: Any, draw: st.DrawFn) -> Any:
    """Replace one value somewhere in `doc` with a random JSON value."""
    if isinstance(doc, dict) and doc and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(doc)))
        return {**doc, key: mutate(doc[key], draw)}
    if isinstance(doc, list) and doc and draw(st.booleans()):
        i = draw(st.integers(0, len(doc) - 1))
        return [*doc[:i], mutate(doc[i], draw), *doc[i + 1 :]]
    return draw(json_values)


@st.composite
def mutated(draw: st.DrawFn, names: list[str]) -> Any:
    return mutate(fixture(draw(st.sampled_from(names))), draw)


def check_rendered(text: bytes) -> None:
    for line in text.decode().split("\n"):  # the format's only line break; \r may sit in a label value
        if line and not line.startswith("#"):
            value = float(line.rsplit(" ", 1)[1])
            assert not math.isnan(value)


@SETTINGS
@given(
    st.one_of(
        json_values,
        mutated(
            ["leader_patroni.json", "replica_patroni.json", "primary_patroni.json", "stopped_patroni.json"]
        ),
    )
)
def test_patroni_parse_or_parse_error(doc: Any):
    try:
        node = parse_node(doc)
    except ParseError:
        return
    fams = node_families(node, "n")
    check_rendered(render(fams))
    member_name(node, fixture("healthy_cluster.json"), "127.0.0.1:39427")


@SETTINGS
@given(
    st.one_of(
        json_values,
        mutated(
            [
                "healthy_cluster.json",
                "old_master_cluster.json",
                "newer_cluster.json",
                "stopped_member_cluster.json",
            ]
        ),
    )
)
def test_cluster_parse_or_parse_error(doc: Any):
    try:
        view = parse_cluster(doc)
    except ParseError:
        return
    check_rendered(render(cluster_families(view, "s")))
    node = parse_node(fixture("replica_patroni.json"))
    for m in view.members:
        lag = stall_replay_lag(node, behind_leader(node, None, m), 2e9)
        assert lag is None or lag >= 0


@SETTINGS
@given(st.one_of(json_values, mutated(["mixed_history.json", "switchover_history.json"])))
def test_history_parse_or_parse_error(doc: Any):
    try:
        lines = parse_history(doc)
    except ParseError:
        return
    check_rendered(render(history_families(lines, "s")))


@SETTINGS
@given(st.text(max_size=20))
def test_member_name_tolerates_any_cluster_doc(netloc: str):
    node = parse_node(fixture("replica_patroni.json"))
    for doc in ({"members": [{"api_url": 3}, "x", {"api_url": f"http://{netloc}/p", "name": 1}]},):
        member_name(node, doc, netloc)
