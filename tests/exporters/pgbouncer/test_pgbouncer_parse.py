"""Parsers over recorded console answers of PgBouncer 1.12, 1.18 (recorded live) and 1.24."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, render, sample_value
from exporters.pgbouncer import parse
from exporters.pgbouncer.console import QueryError, Table
from exporters.pgbouncer.scrape import Options, collect_views

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pgbouncer"
VERSIONS = ("1.12", "1.18", "1.24")


def load(version: str, view: str) -> Table:
    data = json.loads((FIXTURES / version / f"{view}.json").read_text())
    return data["columns"], data["rows"]


def names(families: list[Family]) -> set[str]:
    return {f.name for f in families if len(f)}


def recorded(version: str, missing: tuple[str, ...] = ()) -> object:
    """A `run(sql)` answering from the fixtures; commands in `missing` fail like the console."""

    def run(sql: str) -> Table:
        view = sql.removeprefix("SHOW ").lower()
        if view in missing or not (FIXTURES / version / f"{view}.json").exists():
            raise QueryError(f"{sql}: ERROR: invalid command '{sql}'")
        return load(version, view)

    return run


@pytest.mark.parametrize("version", VERSIONS)
def test_pools_every_version(version: str) -> None:
    fams = parse.parse_pools(*load(version, "pools"))
    base = {
        "pgbouncer_pools_client_active_connections",
        "pgbouncer_pools_client_waiting_connections",
        "pgbouncer_pools_server_active_connections",
        "pgbouncer_pools_server_idle_connections",
        "pgbouncer_pools_server_used_connections",
        "pgbouncer_pools_server_testing_connections",
        "pgbouncer_pools_server_login_connections",
        "pgbouncer_pools_client_maxwait_seconds",
    }
    cancel = {
        "pgbouncer_pools_client_active_cancel_connections",
        "pgbouncer_pools_client_waiting_cancel_connections",
        "pgbouncer_pools_server_active_cancel_connections",
        "pgbouncer_pools_server_being_canceled_connections",
    }
    assert base <= names(fams)
    assert (cancel <= names(fams)) is (version != "1.12")
    assert not cancel & names(fams) or version != "1.12"


def test_pools_values_1_18_recorded() -> None:
    fams = parse.parse_pools(*load("1.18", "pools"))
    app = {"database": "app", "user": "app"}
    assert sample_value(fams, "pgbouncer_pools_client_active_connections", app) == 2
    assert sample_value(fams, "pgbouncer_pools_client_waiting_connections", app) == 2
    assert sample_value(fams, "pgbouncer_pools_server_active_connections", app) == 2
    # maxwait 0 s + maxwait_us 777905 µs
    assert sample_value(fams, "pgbouncer_pools_client_maxwait_seconds", app) == pytest.approx(0.777905)


def test_maxwait_combines_seconds_and_micros() -> None:
    fams = parse.parse_pools(*load("1.24", "pools"))
    value = sample_value(fams, "pgbouncer_pools_client_maxwait_seconds", {"database": "app", "user": "app"})
    assert value == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("version", "view"),
    [(v, view) for v in VERSIONS for view in ("stats_totals", "stats")],
)
def test_stats_totals_and_stats_agree(version: str, view: str) -> None:
    fams = parse.parse_stats(*load(version, view))
    totals = parse.parse_stats(*load(version, "stats_totals"))
    assert render(fams) == render(totals)
    if version == "1.12":
        app = {"database": "app"}
        assert sample_value(fams, "pgbouncer_stats_queries_pooled_total", app) == 4200
        assert sample_value(fams, "pgbouncer_stats_sql_transactions_pooled_total", app) == 1500
        assert sample_value(fams, "pgbouncer_stats_received_bytes_total", app) == 987654
        assert sample_value(fams, "pgbouncer_stats_sent_bytes_total", app) == 12345678
        assert sample_value(fams, "pgbouncer_stats_queries_duration_seconds_total", app) == 2.1
        assert sample_value(fams, "pgbouncer_stats_server_in_transaction_seconds_total", app) == 3.5
        assert sample_value(fams, "pgbouncer_stats_client_wait_seconds_total", app) == 0.45


def test_stats_1_24_new_counters() -> None:
    fams = parse.parse_stats(*load("1.24", "stats_totals"))
    app = {"database": "app"}
    assert sample_value(fams, "pgbouncer_stats_server_assignments_total", app) == 9000
    assert sample_value(fams, "pgbouncer_stats_client_parses_total", app) == 300
    assert sample_value(fams, "pgbouncer_stats_server_parses_total", app) == 120
    assert sample_value(fams, "pgbouncer_stats_binds_total", app) == 2400
    assert "pgbouncer_stats_binds_total" not in names(parse.parse_stats(*load("1.18", "stats")))


def test_stats_before_1_8_total_requests() -> None:
    columns = ["database", "total_requests", "total_received", "total_sent", "total_query_time"]
    fams = parse.parse_stats(columns, [["app", "10", "20", "30", "4000000"]])
    app = {"database": "app"}
    assert sample_value(fams, "pgbouncer_stats_queries_pooled_total", app) == 10
    assert sample_value(fams, "pgbouncer_stats_queries_duration_seconds_total", app) == 4.0


@pytest.mark.parametrize("version", VERSIONS)
def test_databases_reserve_pool_alias(version: str) -> None:
    fams = parse.parse_databases(*load(version, "databases"))
    row = {"name": "app", "host": "10.0.0.5", "port": "5432", "database": "app"}
    if version == "1.18":
        row = {"name": "app", "host": "127.0.0.1", "port": "33867", "database": "app"}
    if version == "1.24":
        row["pool_mode"] = "transaction"
    expected_reserve = {"1.12": 2, "1.18": 0, "1.24": 5}[version]
    assert sample_value(fams, "pgbouncer_databases_reserve_pool", row) == expected_reserve
    pool_size = sample_value(fams, "pgbouncer_databases_pool_size", row)
    assert pool_size == {"1.12": 10, "1.18": 2, "1.24": 20}[version]
    # NULL host of the console pseudo-database: the label is left out, the row is kept
    assert (
        sample_value(
            fams,
            "pgbouncer_databases_paused",
            {
                "name": "pgbouncer",
                "port": {"1.12": "6432", "1.18": "35735", "1.24": "6432"}[version],
                "database": "pgbouncer",
                "force_user": "pgbouncer",
                "pool_mode": "statement",
            },
        )
        == 0
    )
    assert ("pgbouncer_databases_current_client_connections" in names(fams)) is (version == "1.24")


@pytest.mark.parametrize("version", VERSIONS)
def test_lists_and_config(version: str) -> None:
    lists = parse.parse_lists(*load(version, "lists"))
    config = parse.parse_config(*load(version, "config"))
    assert sample_value(lists, "pgbouncer_databases") == {"1.12": 2, "1.18": 3, "1.24": 2}[version]
    assert sample_value(lists, "pgbouncer_pending_dns_queries") == 0
    assert (
        sample_value(config, "pgbouncer_config_max_client_connections")
        == {
            "1.12": 1000,
            "1.18": 500,
            "1.24": 300,
        }[version]
    )
    assert sample_value(config, "pgbouncer_config_max_user_connections") == (50 if version == "1.24" else 0)
    assert ("pgbouncer_peers" in names(lists)) is (version == "1.24")


def test_version_info() -> None:
    fams = parse.parse_version(*load("1.18", "version"))
    assert sample_value(fams, "pgbouncer_version_info", {"version": "PgBouncer 1.18.0"}) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_clients_servers_aggregated(version: str) -> None:
    clients = parse.aggregate_connections("SHOW CLIENTS", *load(version, "clients"))
    servers = parse.aggregate_connections("SHOW SERVERS", *load(version, "servers"))
    active = {"1.12": 12, "1.18": 2, "1.24": 20}[version]
    waiting = {"1.12": 3, "1.18": 2, "1.24": 5}[version]
    app = {"database": "app", "user": "app"}
    assert sample_value(clients, "pgbouncer_client_connections", {**app, "state": "active"}) == (active)
    assert sample_value(clients, "pgbouncer_client_connections", {**app, "state": "waiting"}) == (waiting)
    assert (
        sample_value(servers, "pgbouncer_server_connections", {**app, "state": "active"})
        == {
            "1.12": 10,
            "1.18": 2,
            "1.24": 18,
        }[version]
    )


def test_application_name_is_opt_in() -> None:
    columns, rows = load("1.24", "clients")
    off = parse.aggregate_connections("SHOW CLIENTS", columns, rows)
    on = parse.aggregate_connections("SHOW CLIENTS", columns, rows, application_name=True)
    assert off[0].labels == ("database", "user", "state")
    assert on[0].labels == ("database", "user", "application_name", "state")
    labels = {"database": "app", "user": "app", "state": "active"}
    assert sample_value(on, "pgbouncer_client_connections", {**labels, "application_name": "web"})
    assert sample_value(on, "pgbouncer_client_connections", {**labels, "application_name": "worker"}) == 5
    # 1.12 has no application_name column: the label is empty, hence absent
    old = parse.aggregate_connections("SHOW CLIENTS", *load("1.12", "clients"), application_name=True)
    assert sample_value(old, "pgbouncer_client_connections", labels) == 12


def test_pool_utilization() -> None:
    util = parse.pool_utilization(load("1.24", "pools"), load("1.24", "databases"))
    # 18 active + 1 idle + 1 login server connections over pool_size 20
    value = sample_value(util, "pgbouncer_pools_server_utilization_ratio", {"database": "app", "user": "app"})
    assert value == pytest.approx(1.0)
    util18 = parse.pool_utilization(load("1.18", "pools"), load("1.18", "databases"))
    labels = {"database": "app", "user": "app"}
    assert sample_value(util18, "pgbouncer_pools_server_utilization_ratio", labels) == 1.0
    labels = {"database": "pgbouncer", "user": "pgbouncer"}
    assert sample_value(util18, "pgbouncer_pools_server_utilization_ratio", labels) == 0.0


def test_include_exclude_databases() -> None:
    import re

    opts = Options(include=re.compile("app|postgres"), exclude=re.compile("post.*"))
    fams = collect_views(recorded("1.18"), opts)  # type: ignore[arg-type]
    dbs = {
        s[0].get("database") or s[0].get("name")
        for f in fams
        if f.name.startswith(("pgbouncer_pools_", "pgbouncer_stats_", "pgbouncer_databases_"))
        for s in f.samples()
    }
    assert dbs == {"app"}


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        (["user", "cl_active"], [["a", "1"]]),  # no database column
        (["database", "user", "cl_active"], [["a", "b"]]),  # ragged row
        (["database", "user", "cl_active"], [["a", "b", "many"]]),  # not a number
        (["database", "user", "cl_active"], [["a", "b", "nan"]]),  # not finite
        (["database", "user", "cl_active"], [["a", "b", 3]]),  # not text
    ],
)
def test_bad_shapes_raise_parse_error(columns: list[str], rows: list[list[object]]) -> None:
    with pytest.raises(ParseError):
        parse.parse_pools(columns, rows)  # type: ignore[arg-type]


def test_null_values_are_skipped() -> None:
    fams = parse.parse_pools(["database", "user", "cl_active"], [["a", "b", None]])
    assert names(fams) == set()


def test_collect_views_falls_back_to_show_stats() -> None:
    fams = collect_views(recorded("1.18", missing=("stats_totals",)), Options())  # type: ignore[arg-type]
    assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": "stats"}) == 1
    assert sample_value(fams, "pgbouncer_stats_queries_pooled_total", {"database": "app"}) == 6


def test_one_view_fails_alone() -> None:
    fams = collect_views(recorded("1.18", missing=("lists",)), Options())  # type: ignore[arg-type]
    assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": "lists"}) == 0
    assert sample_value(fams, "pgbouncer_exporter_view_up", {"view": "pools"}) == 1
    assert sample_value(fams, "pgbouncer_databases") is None
    labels = {"database": "app", "user": "app"}
    assert sample_value(fams, "pgbouncer_pools_client_waiting_connections", labels) == 2


def test_every_view_failing_fails_the_target() -> None:
    from exporters.core.errors import TargetError

    every = ("version", "lists", "config", "databases", "pools", "stats_totals", "stats",
             "clients", "servers")  # fmt: skip
    with pytest.raises(TargetError):
        collect_views(recorded("1.18", missing=every), Options())  # type: ignore[arg-type]


@pytest.mark.parametrize("version", VERSIONS)
def test_rendered_output_passes_promtool(version: str, tmp_path: Path) -> None:
    import shutil
    import subprocess

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    fams = collect_views(recorded(version), Options(application_name=True))  # type: ignore[arg-type]
    text = render(fams)
    res = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout + res.stderr == b""
