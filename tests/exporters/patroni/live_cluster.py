"""What the live tests need from a real Patroni cluster, and a throwaway one of our own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from patroni_cluster import MONITOR_PASSWORD, MONITOR_USER, PatroniCluster, get_json, wait_for

HEALTHY_TIMEOUT = 180.0


@dataclass
class LiveCluster:
    """What the live tests need from a real cluster, whoever started it."""

    urls: dict[str, str]
    config_files: dict[str, str]
    monitoring_dsn: str
    monitoring_password: str
    stop_node: Any
    start_node: Any
    extra: dict[str, Any] = field(default_factory=dict)
    # host:port of each PostgreSQL: where the monitoring DSN may connect
    monitoring_hosts: list[str] = field(default_factory=list)

    def cluster_json(self) -> dict[str, Any]:
        """`/cluster` from the first node that answers."""
        for url in self.urls.values():
            try:
                return dict(get_json(f"{url}/cluster"))
            except OSError:
                continue
        raise OSError("no Patroni node answers /cluster")

    def healthy(self) -> bool:
        """A running leader; every other member a running replica with known lag; a sync standby."""
        members = self.cluster_json().get("members", [])
        if len(members) != len(self.urls):
            return False
        roles = [m.get("role") for m in members]
        ok_states = all(m.get("state") in ("running", "streaming") for m in members)
        lag_known = all(m.get("lag", 0) != "unknown" for m in members)
        return ok_states and lag_known and roles.count("leader") == 1 and "sync_standby" in roles

    def wait_healthy(self, timeout: float = HEALTHY_TIMEOUT) -> None:
        """Wait until `healthy()`; start any node that is down first."""
        wait_for(self.healthy, timeout, "a healthy Patroni cluster (leader + sync standby)", 0.5)

    def patronictl(self, *args: str) -> str:
        """Run patronictl with the first node's configuration."""
        import subprocess

        cfg = next(iter(self.config_files.values()))
        out = subprocess.run(
            ["patronictl", "-c", cfg, *args], capture_output=True, text=True, timeout=120, check=True
        )
        return out.stdout

    def by_role(self) -> dict[str, list[str]]:
        """Member names by role in `/cluster`."""
        out: dict[str, list[str]] = {}
        for m in self.cluster_json().get("members", []):
            out.setdefault(m["role"], []).append(m["name"])
        return out


def own_cluster() -> Iterator[LiveCluster]:
    c = PatroniCluster.create()
    try:
        c.start()
        leader = next(m for m in c.members if m.name == c.leader())
        with psycopg.connect(c.dsn(leader.pg_port), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}'")
            conn.execute(f"GRANT pg_monitor TO {MONITOR_USER}")
        yield LiveCluster(
            urls={m.name: m.url for m in c.members},
            config_files={m.name: str(m.config) for m in c.members},
            monitoring_dsn=f"postgresql://{MONITOR_USER}@127.0.0.1/postgres",
            monitoring_password=MONITOR_PASSWORD,
            stop_node=c.stop_member,
            start_node=c.start_member,
            extra={"superuser_password": c.superuser_password},
            monitoring_hosts=[f"127.0.0.1:{m.pg_port}" for m in c.members],
        )
    finally:
        c.stop()
