"""Two PgBouncer nodes (`pgbouncer-a` in namespace pgb-a, `pgbouncer-b` in pgb-b) behind the PgBouncer
VIP, in transaction pooling, reaching the primary through the front-door VIP's primary-only listener."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import psycopg

from stack.components.base import NodeComponent
from stack.layout import POSTGRES_USER, Layout

ADMIN_USER = "nines_admin"
STATS_USER = "nines_stats"
APP_USER = "app"
SLOAPI_USER = "sloapi"  # the database and role of several sloapi instances
INSTANCES = ("pgbouncer-a", "pgbouncer-b")


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class PgBouncer(NodeComponent):
    """PgBouncer 1.18 on node pgb-a / pgb-b, run as `postgres` (it refuses root); both nodes share
    one configuration."""

    kind = "pgbouncer"
    user = POSTGRES_USER
    node_prefix = "pgb"

    def __init__(self, layout: Layout, name: str = INSTANCES[0]) -> None:
        super().__init__(layout, name)

    @property
    def address(self) -> str:
        return f"{self.node} {self.own_ip}:{self.layout.port('pgbouncer')}"

    @property
    def home(self) -> Path:
        return self.layout.path(self.name)

    def ini(self) -> str:
        """pgbouncer.ini."""
        lay = self.layout
        primary = f"host={lay.host('haproxy.pg-primary')} port={lay.port('haproxy.pg-primary')}"
        # sloapi's own database only with several instances (one keeps its embedded SQLite).
        sloapi = [f"sloapi = {primary} dbname=sloapi"] if lay.sloapi_instances > 1 else []
        return "\n".join(
            [
                "[databases]",
                f"app = {primary} dbname=app",
                *sloapi,
                "",
                "[pgbouncer]",
                f"listen_addr = {lay.host('pgbouncer')},{self.own_ip}",
                f"listen_port = {lay.port('pgbouncer')}",
                f"unix_socket_dir = {self.home / 'run'}",
                "auth_type = scram-sha-256",
                f"auth_file = {self.home / 'userlist.txt'}",
                f"admin_users = {ADMIN_USER}",
                f"stats_users = {STATS_USER}",
                "pool_mode = transaction",
                "max_client_conn = 400",
                "default_pool_size = 20",
                "reserve_pool_size = 5",
                "reserve_pool_timeout = 3",
                "server_connect_timeout = 5",
                "server_login_retry = 1",
                "query_wait_timeout = 30",
                "log_connections = 0",
                "log_disconnections = 0",
                "stats_period = 15",
                "",
            ]
        )

    def prepare(self) -> None:
        lay = self.layout
        (self.home / "run").mkdir(parents=True, exist_ok=True)
        (self.home / "pgbouncer.ini").write_text(self.ini())
        users = {
            APP_USER: lay.secret("app"),
            ADMIN_USER: lay.secret("pgbouncer_admin"),
            STATS_USER: lay.secret("pgbouncer_stats"),
        }
        if lay.sloapi_instances > 1:
            users[SLOAPI_USER] = lay.secret(SLOAPI_USER)
        userlist = self.home / "userlist.txt"
        fd = os.open(userlist, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{_quote(u)} {_quote(p)}\n" for u, p in users.items())
        for path in (self.home, self.home / "run", userlist, self.home / "pgbouncer.ini"):
            shutil.chown(path, POSTGRES_USER, POSTGRES_USER)

    def argv(self) -> Sequence[str]:
        return ["pgbouncer", str(self.home / "pgbouncer.ini")]

    def cwd(self) -> Path | None:
        return self.home

    def ready(self) -> bool:
        """Ready when a transaction through this node -> front-door VIP -> primary succeeds."""
        lay = self.layout
        try:
            with psycopg.connect(
                host=self.own_ip,
                port=lay.port("pgbouncer"),
                dbname="app",
                user=APP_USER,
                password=lay.secret("app"),
                connect_timeout=3,
                prepare_threshold=None,
            ) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False
