"""The stack's own pgbouncer-exporter against the stack's PgBouncer, with pgbench traffic."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pgbouncer_daemons import PG_BIN, exhaust_pool

from exporters.pgbouncer.console import Console
from stack.throwaway import wait_for

pytestmark = pytest.mark.stack

TARGET = 'target="pgbouncer-a",cluster="demo"'


def node(stack: Any) -> str:
    """pgbouncer-a's own address (the exporter's target; the VIP may sit on either node)."""
    return str(stack.layout.net.node_ip("pgb-a"))


def metrics(stack: Any) -> tuple[int, str]:
    url = f"http://{stack.addr('pgbouncer-exporter')}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def value(body: str, name: str, labels: str = "") -> float | None:
    want = f"{name}{{{TARGET}{',' + labels if labels else ''}}} "
    for line in body.splitlines():
        if line.startswith(want):
            return float(line[len(want) :])
    return None


def admin_pools(stack: Any) -> dict[str, str | None]:
    dsn = f"host={node(stack)} port={stack.port('pgbouncer')} dbname=pgbouncer user=nines_admin"
    with Console(f"{dsn} password={stack.secret('pgbouncer_admin')}", time.monotonic() + 10) as c:
        columns, rows = c.query("SHOW POOLS")
    for row in rows:
        rec = dict(zip(columns, row, strict=True))
        if rec["database"] == "app" and rec["user"] == "app":
            return rec
    raise AssertionError("no app/app pool")


def app_dsn(stack: Any) -> str:
    password = stack.secret("app")
    return f"host={node(stack)} port={stack.port('pgbouncer')} dbname=app user=app password={password}"


def test_traffic_counters_and_waiting_clients(stack: Any, tmp_path: Path) -> None:
    status, before = metrics(stack)
    assert status == 200
    assert value(before, "pgbouncer_up") == 1
    script = tmp_path / "xact.sql"
    script.write_text("BEGIN;\nSELECT 1;\nSELECT 2;\nEND;\n")
    res = subprocess.run(
        [str(PG_BIN / "pgbench"), "-n", "-f", str(script), "-c", "4", "-t", "50", "-h", node(stack),
         "-p", str(stack.port("pgbouncer")), "-U", "app", "app"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PGPASSWORD": stack.secret("app"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    _, after = metrics(stack)
    app = 'database="app"'
    for name, least in (
        ("pgbouncer_stats_sql_transactions_pooled_total", 200),
        ("pgbouncer_stats_queries_pooled_total", 400),
    ):
        grown = (value(after, name, app) or 0) - (value(before, name, app) or 0)
        assert grown >= least, (name, grown)

    # pool_size 20 + reserve_pool_size 5: hold 25 transactions, queue 3 more
    with exhaust_pool(app_dsn(stack), 25, 3, lambda: admin_pools(stack)["cl_waiting"]):
        _, body = metrics(stack)
        pools = admin_pools(stack)
    labels = 'database="app",user="app"'
    assert value(body, "pgbouncer_pools_client_waiting_connections", labels) == 3
    for column, metric in (
        ("cl_active", "client_active_connections"),
        ("cl_waiting", "client_waiting_connections"),
        ("sv_active", "server_active_connections"),
    ):
        assert value(body, f"pgbouncer_pools_{metric}", labels) == float(pools[column] or 0), column
    assert (value(body, "pgbouncer_pools_client_maxwait_seconds", labels) or 0) > 0


def test_stopped_pgbouncer_gives_up_0_and_http_200(stack: Any) -> None:
    try:
        stack.stop_component("pgbouncer-a")
        start = time.monotonic()
        status, body = metrics(stack)
        assert time.monotonic() - start < 10  # the target's timeout is 5 s
        assert status == 200
        assert value(body, "pgbouncer_up") == 0
        assert re.search(r'pgbouncer_exporter_scrape_errors_total\{[^}]*kind="target"\} [1-9]', body)
    finally:
        stack.start_component("pgbouncer-a")
    wait_for(lambda: value(metrics(stack)[1], "pgbouncer_up") == 1, 60, "pgbouncer_up 1", ignore=(Exception,))
