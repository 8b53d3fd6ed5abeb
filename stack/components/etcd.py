"""etcd members (3 for the demo, 1 for tests): heartbeat 500 ms, election timeout 2500 ms."""

from __future__ import annotations

from collections.abc import Sequence

from stack.components.base import Component, http_ok
from stack.layout import Layout
from stack.ports import ETCD_PEER_SHIFT, HOST

HEARTBEAT_MS = 500
ELECTION_TIMEOUT_MS = 2500


def etcd_names(layout: Layout) -> list[str]:
    """Names of the etcd members this layout runs."""
    return [f"etcd-{i}" for i in range(1, layout.etcd_members + 1)]


def client_urls(layout: Layout) -> list[str]:
    """Client URLs of every member (for Patroni, Prometheus and etcdctl)."""
    return [f"http://{layout.addr(n)}" for n in etcd_names(layout)]


class Etcd(Component):
    """One etcd 3.4 member."""

    kind = "etcd"

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__(layout)
        self.name = name

    def _peer(self, name: str) -> str:
        return f"http://{HOST}:{self.layout.port(name) + ETCD_PEER_SHIFT}"

    def argv(self) -> Sequence[str]:
        cluster = ",".join(f"{n}={self._peer(n)}" for n in etcd_names(self.layout))
        client = f"http://{self.layout.addr(self.name)}"
        return [
            "etcd",
            f"--name={self.name}",
            f"--data-dir={self.layout.path('etcd', self.name)}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={self._peer(self.name)}",
            f"--initial-advertise-peer-urls={self._peer(self.name)}",
            f"--initial-cluster={cluster}",
            "--initial-cluster-state=new",
            "--initial-cluster-token=nines",
            f"--heartbeat-interval={HEARTBEAT_MS}",
            f"--election-timeout={ELECTION_TIMEOUT_MS}",
            "--enable-v2=false",
            "--log-level=warn",
            "--logger=zap",
        ]

    def prepare(self) -> None:
        self.layout.path("etcd").mkdir(parents=True, exist_ok=True)

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/health")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr(self.name)}/metrics"]
