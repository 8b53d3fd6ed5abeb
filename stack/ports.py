"""The stack's port table: one place, shown in README, shifted by NINES_PORT_OFFSET.

Every process of the local stack listens on `PORTS[name] + offset`, on 127.0.0.1 or on an address of
the stack's own network (`Layout.host`): `haproxy.*` on the front-door VIP and on each HAProxy
node's address, `pgbouncer` on the PgBouncer VIP and each PgBouncer node's address,
`haproxy-a.*`/`haproxy-b.*` on that node's address, apps and Patroni REST on the bridge's address.
"""

from __future__ import annotations

HOST = "127.0.0.1"

PORTS: dict[str, int] = {
    "etcd-1": 2379,
    "etcd-2": 2479,
    "etcd-3": 2579,
    "pg-1": 5441,
    "pg-2": 5442,
    "pg-3": 5443,
    "patroni-1": 8008,
    "patroni-2": 8009,
    "patroni-3": 8010,
    "app-1": 8101,
    "app-2": 8102,
    "app-3": 8103,
    "haproxy.https": 8443,
    "haproxy.http": 8080,
    "haproxy.api": 8081,
    "haproxy.admin": 8082,
    "haproxy.pg-primary": 5000,
    "haproxy.pg-replicas": 5001,
    "haproxy-a.stats": 9999,
    "haproxy-a.promex": 8404,
    "haproxy-b.stats": 9998,
    "haproxy-b.promex": 8414,
    "pgbouncer": 6432,
    "prometheus": 9090,
    "victoria-metrics": 8428,
    "vmagent": 8429,
    "vmalert": 8880,
    "alertmanager": 9093,
    "smtp": 2525,
    "webhook": 2526,
    "haproxy-exporter": 9101,
    "pgbouncer-exporter": 9127,
    "patroni-exporter": 9547,
    "keepalived-exporter": 9165,
    "sloapi": 8000,
    "sloapi-2": 8001,
}

ETCD_PEER_SHIFT = 1  # an etcd member's peer port is its client port + 1


def port(name: str, offset: int = 0) -> int:
    """Return the port of `name` shifted by `offset`; raises KeyError naming unknown ports."""
    try:
        return PORTS[name] + offset
    except KeyError:
        raise KeyError(f"no port named {name!r} in stack.ports.PORTS") from None


def by_default_port() -> dict[int, str]:
    """Map each default port back to its name (used to shift configs written with defaults)."""
    return {p: n for n, p in PORTS.items()}


def markdown_table() -> str:
    """The port table as Markdown, for README."""
    lines = ["| component | port |", "|---|---|"]
    lines += [f"| {name} | {p} |" for name, p in PORTS.items()]
    return "\n".join(lines)
