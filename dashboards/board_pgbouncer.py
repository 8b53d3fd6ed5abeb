"""PgBouncer: client and server connections, pools, waits and traffic, from the nines exporter."""

from __future__ import annotations

from builders import RATE_INTERVAL, Item, Row, board, q, stat_panel, timeseries_panel
from common import ANNOTATIONS, CLUSTER, UP_DOWN, VIP_MOVES, instance, label_var
from grafana_foundation_sdk.models.dashboard import Dashboard

SEL = 'job="pgbouncer", cluster=~"$cluster", instance=~"$instance", target=~"$target"'
DB = f'{SEL}, database=~"$database"'
RI = RATE_INTERVAL


def _by_db(metric: str) -> str:
    return f"sum by (target, database) (rate({metric}{{{DB}}}[{RI}]))"


def build() -> Dashboard:
    """The PgBouncer dashboard."""
    items: list[Item] = [
        Row("Overview"),
        stat_panel(
            "PgBouncer",
            "Whether the exporter can query each PgBouncer's admin console (pgbouncer_up).",
            "none",
            [q(f"pgbouncer_up{{{SEL}}}", "{{target}}")],
            width=6,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Clients waiting",
            "Client connections waiting for a server connection, all pools.",
            "short",
            [q(f"sum(pgbouncer_pools_client_waiting_connections{{{DB}}})")],
            width=6,
            thresholds=[(None, "green"), (1, "orange"), (20, "red")],
        ),
        stat_panel(
            "Longest wait",
            "Age of the oldest waiting client over all pools (alerts above 1 s and 5 s).",
            "s",
            [q(f"max(pgbouncer_pools_client_maxwait_seconds{{{DB}}})")],
            width=6,
            thresholds=[(None, "green"), (1, "orange"), (5, "red")],
        ),
        stat_panel(
            "Clients / max_client_conn",
            "Client connections as a share of max_client_conn (alerts at 80 % and 95 %).",
            "percentunit",
            [q(f"max(pgbouncer:client_connections:utilisation_ratio{{{SEL}}})")],
            width=6,
            thresholds=[(None, "green"), (0.8, "orange"), (0.95, "red")],
        ),
        Row("Connections"),
        timeseries_panel(
            "Client connections",
            "Active and waiting client connections per database.",
            "short",
            [
                q(
                    f"sum by (target, database) (pgbouncer_pools_client_active_connections{{{DB}}})",
                    "{{target}} {{database}} active",
                ),
                q(
                    f"sum by (target, database) (pgbouncer_pools_client_waiting_connections{{{DB}}})",
                    "{{target}} {{database}} waiting",
                ),
            ],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Server connections",
            "Server connections per state: active (linked to a client), idle, used, testing, login.",
            "short",
            [
                q(f"sum(pgbouncer_pools_server_{state}_connections{{{DB}}})", state)
                for state in ("active", "idle", "used", "testing", "login")
            ],
            width=12,
            min=0,
            stack=True,
        ),
        timeseries_panel(
            "Pool utilisation",
            "Active server connections as a share of the database's pool_size (alerts at 80 % and 95 %).",
            "percentunit",
            [
                q(
                    f"pgbouncer_pool:server_active_connections:utilisation_ratio{{{DB}}}",
                    "{{target}} {{database}}/{{user}}",
                )
            ],
            width=12,
            min=0,
            max=1,
            thresholds=[(None, "green"), (0.8, "orange"), (0.95, "red")],
        ),
        timeseries_panel(
            "Longest client wait per pool",
            "Age of the oldest waiting client per pool.",
            "s",
            [q(f"pgbouncer_pools_client_maxwait_seconds{{{DB}}}", "{{target}} {{database}}/{{user}}")],
            width=12,
            min=0,
        ),
        Row("Traffic"),
        timeseries_panel(
            "Queries",
            "Queries per second pooled by PgBouncer, per database.",
            "ops",
            [q(_by_db("pgbouncer_stats_queries_pooled_total"), "{{target}} {{database}}")],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Transactions",
            "SQL transactions per second pooled by PgBouncer, per database.",
            "ops",
            [q(_by_db("pgbouncer_stats_sql_transactions_pooled_total"), "{{target}} {{database}}")],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Average query time",
            "Time spent in queries divided by the number of queries, per database.",
            "s",
            [
                q(
                    f"{_by_db('pgbouncer_stats_queries_duration_seconds_total')} / "
                    f"{_by_db('pgbouncer_stats_queries_pooled_total')}",
                    "{{target}} {{database}}",
                )
            ],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Client wait time",
            "Seconds per second clients spent waiting for a server connection, per database.",
            "s",
            [q(_by_db("pgbouncer_stats_client_wait_seconds_total"), "{{target}} {{database}}")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Network traffic",
            "Bytes per second received from and sent to clients, per database.",
            "Bps",
            [
                q(_by_db("pgbouncer_stats_received_bytes_total"), "{{target}} {{database}} received"),
                q(_by_db("pgbouncer_stats_sent_bytes_total"), "{{target}} {{database}} sent"),
            ],
            width=12,
            min=0,
        ),
    ]
    return board(
        "nines-pgbouncer",
        "nines / PgBouncer",
        "Pools, waits and traffic of PgBouncer in transaction pooling, from the nines exporter.",
        items,
        variables=[
            CLUSTER,
            instance("pgbouncer_up"),
            label_var("target", "PgBouncer", "pgbouncer_up", "target"),
            label_var("database", "Database", "pgbouncer_pools_client_active_connections", "database"),
        ],
        annotations=[*ANNOTATIONS, VIP_MOVES],
        tags=["pgbouncer"],
    )
