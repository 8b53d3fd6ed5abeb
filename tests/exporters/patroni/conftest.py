"""The real 3-node Patroni cluster for the exporter's live tests.

By default the `stack` session fixture's cluster (tests/conftest.py). With
`NINES_PATRONI_OWN_CLUSTER=1` a throwaway cluster of this folder's own (etcd + 3 Patroni) is
used instead, e.g. while the stack is not available.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from live_cluster import LiveCluster, own_cluster


@pytest.fixture(scope="session")
def live_cluster(request: pytest.FixtureRequest) -> Iterator[LiveCluster]:
    """The real cluster, healthy at the start of each session."""
    if os.environ.get("NINES_PATRONI_OWN_CLUSTER") == "1":
        yield from own_cluster()
        return
    stack = request.getfixturevalue("stack")
    from stack.components.patroni import NODES, rest_name

    def start(name: str) -> None:
        stack.start_component(name, wait=False)

    yield LiveCluster(
        urls={n: f"http://{stack.addr(rest_name(n))}" for n in NODES},
        config_files={n: str(stack.path("pg", n, "patroni.yml")) for n in NODES},
        monitoring_dsn="postgresql://nines_monitor@127.0.0.1/postgres",
        monitoring_password=stack.secret("monitor"),
        stop_node=stack.stop_component,
        start_node=start,
        monitoring_hosts=[stack.addr(n) for n in NODES],
    )


@pytest.fixture
def cluster(live_cluster: LiveCluster) -> Iterator[LiveCluster]:
    """The live cluster, healthy before the test and made healthy again after it."""
    live_cluster.wait_healthy()
    yield live_cluster
    for name in live_cluster.urls:
        live_cluster.start_node(name)
    live_cluster.wait_healthy()
