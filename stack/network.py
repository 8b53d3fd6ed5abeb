"""The stack's own small network: names and addresses, derived from the port offset (pure, no I/O).

A Linux bridge in the root namespace joins one network namespace per load-balancer node (`lb-a`,
`lb-b`) and per PgBouncer node (`pgb-a`, `pgb-b`) through veth pairs, on a /24 of 198.18.0.0/16
(RFC 2544's benchmarking range; 198.19.0.0/16 stays free for the keepalived exporter's own tests).
The third octet is the offset in thousands, so the demo (offset 0) gets 198.18.0.0/24 and the test
stack (offset 20000) 198.18.20.0/24; every name starts with `nn<offset>-` and fits IFNAMSIZ.

    .1    the bridge: root-namespace services that namespaced processes reach (apps, Patroni REST,
          PostgreSQL) listen here besides 127.0.0.1
    .10   the front-door VIP (HAProxy pair, VRRP instance `frontdoor`, vrid 51)
    .20   the PgBouncer VIP (PgBouncer pair, VRRP instance `pgbouncer`, vrid 52)
    .11 .12   lb-a, lb-b        .21 .22   pgb-a, pgb-b
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

BASE = ipaddress.IPv4Network("198.18.0.0/16")
IFNAMSIZ = 15  # usable characters of a Linux interface name
NODE_HOSTS = {"lb-a": 11, "lb-b": 12, "pgb-a": 21, "pgb-b": 22}
INNER_IF = "eth0"  # each node's link to the bridge, inside its namespace


@dataclass(frozen=True)
class Pair:
    """One VRRP pair: its instance name, virtual router id, VIP host number and nodes (master first)."""

    instance: str
    vrid: int
    vip_host: int
    nodes: tuple[str, str]
    service: str  # the component kind each node runs: haproxy | pgbouncer


PAIRS = (
    Pair("frontdoor", 51, 10, ("lb-a", "lb-b"), "haproxy"),
    Pair("pgbouncer", 52, 20, ("pgb-a", "pgb-b"), "pgbouncer"),
)


class NetworkError(RuntimeError):
    """The stack's network cannot be made or used (overlap, permissions, bad offset)."""


@dataclass(frozen=True)
class Plan:
    """Every name and address of one stack's network."""

    offset: int

    def __post_init__(self) -> None:
        if not 0 <= self.offset // 1000 <= 255:
            raise NetworkError(f"port offset {self.offset}: the network needs an offset below 256000")
        if len(self.veth("pgb-a", inner=True)) > IFNAMSIZ:
            raise NetworkError(f"port offset {self.offset}: interface names would exceed {IFNAMSIZ} chars")

    @property
    def prefix(self) -> str:
        """`nn<offset>-`: every namespace and link of this stack starts with it."""
        return f"nn{self.offset}-"

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"198.18.{self.offset // 1000 % 256}.0/24")

    def ip(self, host: int) -> str:
        return str(self.subnet.network_address + host)

    @property
    def bridge(self) -> str:
        return self.prefix + "br"

    @property
    def bridge_ip(self) -> str:
        return self.ip(1)

    def netns(self, node: str) -> str:
        """Namespace of `node` (`lb-a`...)."""
        return self.prefix + node

    def veth(self, node: str, inner: bool = False) -> str:
        """Root-side veth of `node`; `inner` is its peer's name before it moves and becomes eth0."""
        return self.prefix + node + ("i" if inner else "")

    def node_ip(self, node: str) -> str:
        return self.ip(NODE_HOSTS[node])

    def pair(self, instance: str) -> Pair:
        return next(p for p in PAIRS if p.instance == instance)

    def vip(self, instance: str) -> str:
        return self.ip(self.pair(instance).vip_host)

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(NODE_HOSTS)

    def owns(self, name: str) -> bool:
        """True for a namespace or link name of this stack (how leftovers of a crash are found)."""
        return name.startswith(self.prefix)
