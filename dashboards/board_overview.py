"""Stack overview: one request's path, HAProxy -> app -> PgBouncer -> PostgreSQL primary."""

from __future__ import annotations

from builders import (
    RATE_INTERVAL,
    Item,
    Row,
    board,
    q,
    query_variable,
    stat_panel,
    timeseries_panel,
    value_map,
)
from common import ANNOTATIONS, CLUSTER, UP_DOWN, VIP_MOVES
from grafana_foundation_sdk.models.dashboard import Dashboard

C = 'cluster=~"$cluster", instance=~"$instance"'
HA = f'job="haproxy", {C}'
APP = f'{HA}, proxy!~".*pg_.*"'
PRIMARY = f'{HA}, proxy=~".*pg_primary.*"'
RI = RATE_INTERVAL

PRIMARIES = value_map((0, "NO PRIMARY", "red"), (1, "OK", "green"), (2, "SPLIT BRAIN", "red"))


def build() -> Dashboard:
    """The stack overview dashboard."""
    items: list[Item] = [
        Row("A request's path: state of each hop"),
        stat_panel(
            "1. HAProxy (TLS, front door)",
            "Each HAProxy node of the active/passive pair: UP when its stats socket answers.",
            "none",
            [q(f"haproxy_up{{{HA}}}", "{{target}}")],
            width=6,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "2. App servers",
            "Servers UP (active + backup) in each application backend, best HAProxy node.",
            "none",
            [
                q(
                    f"""max by (proxy) (haproxy_backend_active_servers{{{APP}}}
                + on (cluster, instance, job, target, proxy) haproxy_backend_backup_servers{{{APP}}})""",
                    "{{proxy}}",
                )
            ],
            width=6,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "3. PgBouncer",
            "Each PgBouncer: UP when its admin console answers.",
            "none",
            [q(f'pgbouncer_up{{job="pgbouncer", {C}}}', "{{target}}")],
            width=6,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "4. PostgreSQL primary",
            "Servers passing Patroni's /primary check behind HAProxy's PostgreSQL-primary "
            "listener: exactly 1 is healthy.",
            "none",
            [q(f"max(haproxy_backend_active_servers{{{PRIMARY}}})", "via HAProxy")],
            width=6,
            mappings=PRIMARIES,
            thresholds=[(None, "red"), (1, "green"), (2, "red")],
        ),
        Row("Traffic and latency along the path"),
        timeseries_panel(
            "HAProxy: requests and 5xx",
            "HTTP requests per second at the frontends, and 5xx responses of the app backends.",
            "reqps",
            [
                q(f"sum(rate(haproxy_frontend_http_requests_total{{{HA}}}[{RI}]))", "requests"),
                q(f'sum(rate(haproxy_backend_http_responses_total{{{APP}, code="5xx"}}[{RI}]))', "5xx"),
            ],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "App: response time",
            "Average response time of each application backend, as HAProxy measures it.",
            "s",
            [q(f"max by (proxy) (haproxy_backend_response_time_average_seconds{{{APP}}})", "{{proxy}}")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "PgBouncer: waiting clients",
            "Clients waiting for a PostgreSQL connection, over all pools.",
            "short",
            [
                q(
                    f'sum by (target) (pgbouncer_pools_client_waiting_connections{{job="pgbouncer", {C}}})',
                    "{{target}}",
                )
            ],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "PgBouncer: longest wait",
            "Age of the oldest client waiting for a server connection.",
            "s",
            [
                q(
                    f'max by (target) (pgbouncer_pools_client_maxwait_seconds{{job="pgbouncer", {C}}})',
                    "{{target}}",
                )
            ],
            width=8,
            min=0,
            thresholds=[(None, "green"), (1, "orange"), (5, "red")],
        ),
        timeseries_panel(
            "PostgreSQL: replication lag",
            "Replay lag of each replica (warning above 100 ms, critical above 1 s).",
            "s",
            [q('patroni_member:replay_lag_seconds:measured_or_estimate{cluster=~"$cluster"}', "{{member}}")],
            width=8,
            min=0,
            thresholds=[(None, "green"), (0.1, "orange"), (1, "red")],
        ),
        Row("Health"),
        stat_panel(
            "Firing alerts",
            "Alerts firing in the cluster by severity (the Watchdog heartbeat excluded).",
            "none",
            [
                q(
                    'sum by (severity) (ALERTS{alertstate="firing", alertname!="Watchdog", '
                    'cluster=~"$cluster"}) or on () vector(0)',
                    "{{severity}}",
                )
            ],
            width=8,
            thresholds=[(None, "green"), (1, "red")],
        ),
        stat_panel(
            "etcd leader",
            "1 when every etcd member sees a leader (Patroni needs it to keep its primary).",
            "none",
            [q(f'min(etcd_server_has_leader{{job="etcd", {C}}})')],
            width=8,
            mappings=value_map((0, "NO LEADER", "red"), (1, "OK", "green")),
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Targets down",
            "Scrape targets of the cluster that Prometheus cannot reach.",
            "none",
            [q(f"count(up{{{C}}} == 0) or on () vector(0)")],
            width=8,
            thresholds=[(None, "green"), (1, "red")],
        ),
    ]
    return board(
        "nines-overview",
        "nines / Stack overview",
        "Follows a request through the stack (HAProxy -> app -> PgBouncer -> PostgreSQL primary) "
        "with the state of each hop; links to the per-component dashboards.",
        items,
        variables=[
            CLUSTER,
            query_variable(
                "instance",
                "Instance",
                'label_values(up{cluster=~"$cluster"}, instance)',
                multi=True,
                include_all=True,
            ),
        ],
        annotations=[*ANNOTATIONS, VIP_MOVES],
        tags=["overview"],
    )
