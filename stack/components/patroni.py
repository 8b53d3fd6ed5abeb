"""PostgreSQL 15 nodes under Patroni 3 over etcd, synchronous_mode on, run as the `postgres` user."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from stack import process
from stack.components.base import Component, http_ok
from stack.components.etcd import etcd_names
from stack.layout import POSTGRES_USER, Layout
from stack.ports import HOST

SCOPE = "nines"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NODES = ("pg-1", "pg-2", "pg-3")
DCS_TTL = 8


def rest_name(node: str) -> str:
    """`pg-2` -> `patroni-2`, the port-table name of the node's REST API."""
    return "patroni-" + node.split("-")[1]


class Patroni(Component):
    """One Patroni-managed PostgreSQL node; `name` is `pg-N`."""

    kind = "patroni"
    user = POSTGRES_USER
    stop_timeout = 60.0

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__(layout)
        self.name = name

    @property
    def home(self) -> Path:
        return self.layout.path("pg", self.name)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def rest(self) -> str:
        return f"http://{self.layout.addr(rest_name(self.name))}"

    @property
    def address(self) -> str:
        return f"{self.layout.addr(self.name)} rest {self.layout.addr(rest_name(self.name))}"

    def config(self) -> dict[str, Any]:
        """Patroni's YAML configuration for this node."""
        lay = self.layout
        etcd_hosts = ",".join(lay.addr(n) for n in etcd_names(lay))
        return {
            "scope": SCOPE,
            "name": self.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": lay.addr(rest_name(self.name)),
                "connect_address": lay.addr(rest_name(self.name)),
            },
            "etcd3": {"hosts": etcd_hosts},
            "bootstrap": {
                "dcs": {
                    # Promotion "typically in under 10 s" (design): the leader key lapses `ttl` after
                    # the dead primary's last renewal and a replica acts on it at once (etcd3 watch);
                    # patroni-primary-kill measures ~8.5 s here. Patroni's rule loop_wait +
                    # 2 x retry_timeout <= ttl holds (2 + 2 x 3 = 8): the leader renews every 2 s, so
                    # only a stall of 8 s (four missed renewals) demotes a healthy primary.
                    "ttl": DCS_TTL,
                    "loop_wait": 2,
                    "retry_timeout": 3,
                    # An etcd leader's death stalls etcd for its election, 2.5 to 5 s with the
                    # design's 2500 ms election timeout: longer than retry_timeout, so without this
                    # the primary demoted itself whenever one etcd member of three died (drill
                    # etcd-member-down). In failsafe mode a primary that loses the DCS stays primary
                    # while every member it knows answers its POST /failsafe (Patroni >= 3.0), and
                    # demotes as before when one does not: no write outage for an etcd hiccup,
                    # no split brain. PatroniFailsafeActive says when it happens.
                    "failsafe_mode": True,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_connections": 100,
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "shared_buffers": "64MB",
                            "wal_keep_size": "128MB",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, "data-checksums"],
            },
            "postgresql": {
                # Also on the bridge's address: HAProxy reaches PostgreSQL from its namespace.
                "listen": f"{','.join(dict.fromkeys((HOST, lay.service_host)))}:{lay.port(self.name)}",
                "connect_address": lay.addr(self.name),
                "data_dir": str(self.data_dir),
                "bin_dir": str(PG_BIN),
                "pgpass": str(self.home / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": lay.secret("postgres")},
                    "replication": {"username": "replicator", "password": lay.secret("replicator")},
                },
                "parameters": {
                    "unix_socket_directories": str(self.home / "run"),
                    "password_encryption": "scram-sha-256",
                    "log_destination": "stderr",
                    "logging_collector": "off",
                },
                "pg_hba": [
                    "local all all peer",
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                    f"host all all {lay.net.subnet} scram-sha-256",
                ],
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
        }

    def prepare(self) -> None:
        pg_root = self.layout.path("pg")
        pg_root.mkdir(parents=True, exist_ok=True)
        pg_root.chmod(0o755)
        (self.home / "run").mkdir(parents=True, exist_ok=True)
        cfg = self.home / "patroni.yml"
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(self.config(), f, sort_keys=False)
        self.home.chmod(0o700)
        for path in (self.home, self.home / "run", cfg):
            shutil.chown(path, POSTGRES_USER, POSTGRES_USER)

    def argv(self) -> Sequence[str]:
        return ["patroni", str(self.home / "patroni.yml")]

    def cwd(self) -> Path | None:
        return self.home

    def env(self) -> dict[str, str]:
        env = self.layout.env()
        env["HOME"] = str(self.home)
        # Patroni is a Debian package running on the system Python: keep our venv off its path.
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        return env

    def ready(self) -> bool:
        return http_ok(f"{self.rest}/health")

    def postmaster_pid(self) -> int | None:
        """The postmaster's pid from `postmaster.pid`, when that process is alive."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if process.pid_alive(pid) else None

    def after_stop(self) -> None:
        # A Patroni that was killed leaves its postmaster running (it runs in its own session).
        pid = self.postmaster_pid()
        if pid is not None:
            process.terminate(pid, timeout=30, group=False)

    def urls(self) -> list[str]:
        return [f"{self.rest}/patroni"]


def cluster_state(layout: Layout, nodes: Sequence[str] = NODES) -> dict[str, Any] | None:
    """`/cluster` from the first node whose REST API answers, or None."""
    for node in nodes:
        try:
            r = httpx.get(f"http://{layout.addr(rest_name(node))}/cluster", timeout=2)
            if r.status_code == 200:
                data: dict[str, Any] = r.json()
                return data
        except (httpx.HTTPError, ValueError):
            continue
    return None


def cluster_ready(layout: Layout, nodes: Sequence[str] = NODES) -> bool:
    """A leader running, every other node a running replica, and a synchronous standby."""
    state = cluster_state(layout, nodes)
    if not state:
        return False
    members = state.get("members", [])
    leaders = [m for m in members if m.get("role") in ("leader", "master", "primary")]
    replicas = [m for m in members if m.get("role") in ("replica", "sync_standby")]
    sync = [m for m in members if m.get("role") == "sync_standby"]
    running = {"running", "streaming"}
    return (
        len(leaders) == 1
        and leaders[0].get("state") in running
        and len(replicas) == len(nodes) - 1
        and all(m.get("state") in running and m.get("lag") != "unknown" for m in replicas)
        and (len(nodes) < 2 or len(sync) >= 1)
    )


def leader_port(layout: Layout) -> int | None:
    """PostgreSQL port of the current leader, from `/cluster`."""
    state = cluster_state(layout)
    for m in (state or {}).get("members", []):
        if m.get("role") in ("leader", "master", "primary"):
            return int(m["port"])
    return None
