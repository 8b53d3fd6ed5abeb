"""The exporter against a real PgBouncer 1.18 (and PostgreSQL 15) with real traffic."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from pgbouncer_daemons import PASSWORDS, PG_BIN, Bouncer, Postgres, exhaust_pool

from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.errors import ConfigError, TargetError
from exporters.core.metrics import Family, render, sample_value
from exporters.pgbouncer.cli import make_check, make_spec
from exporters.pgbouncer.console import Console, resolve_dsn, safe_dsn
from exporters.pgbouncer.scrape import Options, collect_views, make_scrape
from stack.throwaway import free_port, stop, wait_for

APP = {"database": "app", "user": "app"}


def scrape(bouncer: Bouncer, user: str = "nines_stats", **options: object) -> list[Family]:
    target = Target("pb", bouncer.dsn(user), timeout=10.0, options=dict(options))
    return list(make_scrape({})(target))


def show(bouncer: Bouncer, view: str) -> dict[tuple[str, ...], dict[str, str | None]]:
    """SHOW <view> as the admin user, keyed by (database, user)."""
    with Console(bouncer.dsn("nines_admin"), time.monotonic() + 10) as console:
        columns, rows = console.query(f"SHOW {view}")
    out = {}
    for row in rows:
        rec = dict(zip(columns, row, strict=True))
        out[(rec.get("database") or "", rec.get("user") or "")] = rec
    return out


def test_console_needs_simple_protocol(bouncer: Bouncer) -> None:
    # the extended protocol (Parse/Bind/Execute, forced here by binary=True) is refused ...
    with (
        psycopg.connect(bouncer.dsn("nines_stats"), autocommit=True) as conn,
        pytest.raises(psycopg.Error),
    ):
        conn.execute("SHOW VERSION", binary=True).fetchall()
    # ... our console sends one simple Query message and gets the answer
    with Console(bouncer.dsn("nines_stats"), time.monotonic() + 10) as console:
        assert console.query("SHOW VERSION") == (["version"], [["PgBouncer 1.18.0"]])


def test_stats_user_sees_every_view(bouncer: Bouncer) -> None:
    fams = scrape(bouncer, "nines_stats")
    for view in ("version", "lists", "config", "databases", "pools", "stats", "clients", "servers"):
        assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": view}) == 1, view
    assert sample_value(fams, "pgbouncer_version_info", {"version": "PgBouncer 1.18.0"}) == 1
    assert sample_value(fams, "pgbouncer_config_max_client_connections") == 500
    labels = {"database": "pgbouncer", "user": "nines_stats", "state": "active"}
    assert sample_value(fams, "pgbouncer_client_connections", labels) == 1


def test_waiting_clients_and_pool_gauges_match_show_pools(bouncer: Bouncer) -> None:
    with exhaust_pool(
        bouncer.dsn("app", "app"), 2, 3, lambda: show(bouncer, "POOLS")[("app", "app")]["cl_waiting"]
    ):
        fams = scrape(bouncer)
        pools = show(bouncer, "POOLS")[("app", "app")]
    assert sample_value(fams, "pgbouncer_pools_client_waiting_connections", APP) == 3
    assert sample_value(fams, "pgbouncer_pools_client_active_connections", APP) == 2
    assert sample_value(fams, "pgbouncer_pools_server_active_connections", APP) == 2
    columns = {
        "cl_active": "client_active_connections",
        "cl_waiting": "client_waiting_connections",
        "cl_active_cancel_req": "client_active_cancel_connections",
        "cl_waiting_cancel_req": "client_waiting_cancel_connections",
        "sv_active": "server_active_connections",
        "sv_active_cancel": "server_active_cancel_connections",
        "sv_being_canceled": "server_being_canceled_connections",
        "sv_idle": "server_idle_connections",
        "sv_used": "server_used_connections",
        "sv_tested": "server_testing_connections",
        "sv_login": "server_login_connections",
    }
    for column, metric in columns.items():
        assert sample_value(fams, f"pgbouncer_pools_{metric}", APP) == float(pools[column] or 0), column
    maxwait = sample_value(fams, "pgbouncer_pools_client_maxwait_seconds", APP)
    assert maxwait is not None and maxwait > 0
    waiting = {**APP, "state": "waiting"}
    assert sample_value(fams, "pgbouncer_client_connections", waiting) == 3
    assert sample_value(fams, "pgbouncer_server_connections", {**APP, "state": "active"}) == 2
    assert sample_value(fams, "pgbouncer_pools_server_utilization_ratio", APP) == 1.0
    assert sample_value(fams, "pgbouncer_databases_pool_size", {"name": "app"} | _db_labels(fams)) == 2


def _db_labels(fams: list[Family]) -> dict[str, str]:
    for fam in fams:
        if fam.name == "pgbouncer_databases_pool_size":
            for labels, _ in fam.samples():
                if labels["name"] == "app":
                    return labels
    raise AssertionError("no app database")


@pytest.fixture(scope="module")
def pgbench_db(postgres: Postgres) -> None:
    subprocess.run(
        [
            str(PG_BIN / "pgbench"),
            "-i",
            "-q",
            "-s",
            "1",
            "-h",
            "127.0.0.1",
            "-p",
            str(postgres.port),
            "-U",
            "app",
            "app",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_counters_grow_with_pgbench_traffic(bouncer: Bouncer, pgbench_db: None) -> None:
    def counter(fams: list[Family], name: str) -> float:
        value = sample_value(fams, f"pgbouncer_stats_{name}", {"database": "app"})
        return value or 0.0

    before = scrape(bouncer)
    env = {"PGPASSWORD": PASSWORDS["app"], "PATH": "/usr/bin:/bin"}
    res = subprocess.run(
        [
            str(PG_BIN / "pgbench"),
            "-n",
            "-c",
            "4",
            "-t",
            "50",
            "-h",
            "127.0.0.1",
            "-p",
            str(bouncer.port),
            "-U",
            "app",
            "app",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    after = scrape(bouncer)
    # tpcb-like: 200 transactions of BEGIN, 5 statements, END
    xacts = counter(after, "sql_transactions_pooled_total") - counter(before, "sql_transactions_pooled_total")
    queries = counter(after, "queries_pooled_total") - counter(before, "queries_pooled_total")
    assert xacts >= 200
    assert queries >= 5 * 200
    for name in ("received_bytes_total", "sent_bytes_total", "server_in_transaction_seconds_total"):
        assert counter(after, name) > counter(before, name), name
    stats = show(bouncer, "STATS_TOTALS")[("app", "")]
    assert counter(after, "sql_transactions_pooled_total") <= float(stats["xact_count"] or 0)


def test_include_exclude_on_live_bouncer(bouncer: Bouncer) -> None:
    fams = scrape(bouncer, include_databases="app|postgres", exclude_databases="postgres")
    seen = {
        labels.get("database") or labels.get("name")
        for fam in fams
        if fam.name.startswith(("pgbouncer_pools_", "pgbouncer_stats_", "pgbouncer_databases_"))
        for labels, _ in fam.samples()
    }
    assert seen == {"app"}


def test_password_from_file_and_env(bouncer: Bouncer, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORDS["nines_stats"] + "\n")
    dsn = bouncer.dsn("nines_stats", password=False)
    from_file = Target("f", dsn, timeout=10.0, options={"password_file": str(secret)})
    from_env = Target("e", dsn, timeout=10.0, options={"password_env": "PB_PW"})
    scrape_fn = make_scrape({"PB_PW": PASSWORDS["nines_stats"]})
    for target in (from_file, from_env):
        fams = list(scrape_fn(target))
        assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": "pools"}) == 1
    with pytest.raises(ConfigError, match="PB_MISSING"):
        make_check({})(Target("m", dsn, options={"password_env": "PB_MISSING"}))


def test_wrong_password_fails_without_showing_it(bouncer: Bouncer) -> None:
    dsn = bouncer.dsn("nines_stats", password=False) + " password=Wr0ngSecret"
    with pytest.raises(TargetError) as err:
        make_scrape({})(Target("w", dsn, timeout=10.0))
    assert "Wr0ngSecret" not in str(err.value)
    assert "Wr0ngSecret" not in safe_dsn(resolve_dsn(dsn))


def test_silent_server_times_out_on_the_deadline() -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            make_scrape({})(Target("s", f"host=127.0.0.1 port={port} user=x dbname=pgbouncer", timeout=0.5))
        assert time.monotonic() - start < 3


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_http_exporter_survives_a_stopped_pgbouncer(
    bouncer: Bouncer, spare_bouncer: Bouncer, tmp_path: Path
) -> None:
    from exporters.core.cli import build

    config = tmp_path / "pgbouncer.yml"
    config.write_text(
        "targets:\n"
        f"  - name: main\n    address: {bouncer.url()}\n    timeout: 3s\n"
        "    password_env: PB_STATS\n    labels: {cluster: test}\n"
        f"  - name: spare\n    address: {spare_bouncer.url()}\n    timeout: 1s\n"
        "    password_env: PB_STATS\n"
    )
    spec = make_spec({"PB_STATS": PASSWORDS["nines_stats"]})
    collector, server = build(spec, ["--config.file", str(config), "--web.listen-address", "127.0.0.1:0"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, body = _get(f"{base}/metrics")
        assert status == 200
        assert 'pgbouncer_up{target="main",cluster="test"} 1' in body
        assert 'pgbouncer_up{target="spare"} 1' in body
        assert PASSWORDS["nines_stats"] not in body
        promtool = shutil.which("promtool")
        if promtool:
            res = subprocess.run(
                [promtool, "check", "metrics"], input=body.encode(), capture_output=True, check=False
            )
            assert res.returncode == 0 and not res.stdout + res.stderr, res.stdout + res.stderr
        assert _get(f"{base}/probe?target=nowhere")[0] == 400
        status, body = _get(f"{base}/probe?target=main")
        assert status == 200 and "pgbouncer_pools_client_active_connections" in body

        spare_bouncer.stop()
        start = time.monotonic()
        status, body = _get(f"{base}/metrics")
        assert time.monotonic() - start < 5
        assert status == 200
        assert 'pgbouncer_up{target="spare"} 0' in body
        assert 'pgbouncer_up{target="main",cluster="test"} 1' in body
        assert 'pgbouncer_exporter_scrape_errors_total{target="spare",kind="target"} 1' in body
    finally:
        server.shutdown()
        server.server_close()
        collector.close()


def test_collector_bounded_by_target_timeout(bouncer: Bouncer) -> None:
    collector = Collector(
        "pgbouncer",
        [Target("main", bouncer.dsn("nines_stats"), timeout=5.0)],
        make_scrape({}),
        target_label=True,
    )
    try:
        fams = collector.collect()
    finally:
        collector.close()
    assert sample_value(fams, "pgbouncer_up", {"target": "main"}) == 1
    assert b'pgbouncer_pools_server_utilization_ratio{target="main"' in render(fams)


def test_collect_views_on_live_console(bouncer: Bouncer) -> None:
    with Console(bouncer.dsn("nines_stats"), time.monotonic() + 10) as console:
        fams = collect_views(console.query, Options(clients=False))
    assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": "clients"}) is None
    assert sample_value(fams, "pgbouncer_databases") == 3


def test_console_script_single_target(bouncer: Bouncer, tmp_path: Path) -> None:
    import sys

    port = free_port()
    log = tmp_path / "exporter.log"
    wrong = tmp_path / "wrong"
    wrong.write_text("N0tTheP4ssword\n")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exporters.pgbouncer.cli",
                "--pgbouncer.dsn",
                bouncer.url(),
                "--pgbouncer.password-file",
                str(wrong),
                "--web.listen-address",
                f"127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for(
            lambda: _get(f"http://127.0.0.1:{port}/-/healthy")[0] == 200, what="exporter", ignore=(Exception,)
        )
        status, body = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert "pgbouncer_up 0\n" in body  # single target from flags: no target label
        assert 'pgbouncer_exporter_scrape_errors_total{kind="target"} 1' in body
    finally:
        stop(proc)
    text = log.read_text()
    assert "scrape failed" in text
    assert "N0tTheP4ssword" not in text
