"""HAProxy: frontends, backends and servers of both HAProxy nodes, from the nines exporter."""

from __future__ import annotations

from builders import (
    RATE_INTERVAL,
    Item,
    Row,
    board,
    q,
    stat_panel,
    state_timeline_panel,
    timeseries_panel,
    value_map,
)
from common import ANNOTATIONS, CLUSTER, UP_DOWN, VIP_MOVES, instance, label_var
from grafana_foundation_sdk.models.dashboard import Dashboard

SEL = 'job="haproxy", cluster=~"$cluster", instance=~"$instance", target=~"$target"'
BE = f'{SEL}, proxy=~"$backend"'
RI = RATE_INTERVAL

SERVER_STATE = value_map(
    (0, "DOWN", "red"),
    (1, "UP", "green"),
    (2, "MAINT", "blue"),
    (3, "DRAIN", "yellow"),
    (4, "NOLB", "purple"),
)


def build() -> Dashboard:
    """The HAProxy dashboard."""
    items: list[Item] = [
        Row("Overview"),
        stat_panel(
            "HAProxy nodes",
            "Whether the exporter reads each HAProxy node's stats socket (haproxy_up).",
            "none",
            [q(f"haproxy_up{{{SEL}}}", "{{target}}")],
            width=6,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Backends without a server up",
            "Backends (other than the PostgreSQL primary one) with no active or backup server UP.",
            "none",
            [
                q(f"""count((haproxy_backend_active_servers{{{SEL}, proxy!~".*pg_primary.*"}}
                + on (cluster, instance, job, target, proxy)
                haproxy_backend_backup_servers{{{SEL}, proxy!~".*pg_primary.*"}}) == 0) or vector(0)""")
            ],
            width=6,
            thresholds=[(None, "green"), (1, "red")],
        ),
        stat_panel(
            "HTTP requests",
            "HTTP requests per second received by all frontends.",
            "reqps",
            [q(f"sum(rate(haproxy_frontend_http_requests_total{{{SEL}}}[{RI}]))")],
            width=6,
        ),
        stat_panel(
            "5xx ratio",
            "Share of backend HTTP responses with a 5xx status over the selected backends.",
            "percentunit",
            [
                q(f"""sum(rate(haproxy_backend_http_responses_total{{{BE}, code="5xx"}}[{RI}]))
                / sum(rate(haproxy_backend_http_responses_total{{{BE}}}[{RI}]))""")
            ],
            width=6,
            thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
        ),
        Row("Frontends"),
        timeseries_panel(
            "Frontend requests",
            "HTTP requests per second per frontend and HAProxy node.",
            "reqps",
            [
                q(
                    f"sum by (target, proxy) (rate(haproxy_frontend_http_requests_total{{{SEL}}}[{RI}]))",
                    "{{target}} {{proxy}}",
                )
            ],
            width=8,
        ),
        timeseries_panel(
            "Frontend sessions / maxconn",
            "Current sessions of each frontend as a share of its maxconn (alerts at 80 % and 95 %).",
            "percentunit",
            [q(f"haproxy_frontend:sessions:utilisation_ratio{{{SEL}}}", "{{target}} {{proxy}}")],
            width=8,
            min=0,
            max=1,
            thresholds=[(None, "green"), (0.8, "orange"), (0.95, "red")],
        ),
        timeseries_panel(
            "Frontend traffic",
            "Bytes per second received from and sent to clients, per HAProxy node.",
            "Bps",
            [
                q(f"sum by (target) (rate(haproxy_frontend_bytes_in_total{{{SEL}}}[{RI}]))", "{{target}} in"),
                q(
                    f"sum by (target) (rate(haproxy_frontend_bytes_out_total{{{SEL}}}[{RI}]))",
                    "{{target}} out",
                ),
            ],
            width=8,
        ),
        Row("Backends"),
        timeseries_panel(
            "Backend responses by status class",
            "HTTP responses per second of the selected backends by status class.",
            "reqps",
            [
                q(
                    f"sum by (proxy, code) (rate(haproxy_backend_http_responses_total{{{BE}}}[{RI}]))",
                    "{{proxy}} {{code}}",
                )
            ],
            width=12,
            stack=True,
        ),
        timeseries_panel(
            "Backend 5xx ratio (5m)",
            "Share of 5xx responses per backend over 5 minutes (alerts at 5 % and 25 %).",
            "percentunit",
            [
                q(
                    'haproxy_backend:http_responses_5xx:ratio_rate5m{cluster=~"$cluster", '
                    'target=~"$target", proxy=~"$backend"}',
                    "{{target}} {{proxy}}",
                )
            ],
            width=12,
            min=0,
            thresholds=[(None, "green"), (0.05, "orange"), (0.25, "red")],
        ),
        timeseries_panel(
            "Backend average response time",
            "Average response time of the last 1024 requests per backend, as HAProxy reports it.",
            "s",
            [q(f"haproxy_backend_response_time_average_seconds{{{BE}}}", "{{target}} {{proxy}}")],
            width=8,
        ),
        timeseries_panel(
            "Backend queue",
            "Requests waiting for a free server per backend (alerts above 0 and 20 for 2 minutes).",
            "short",
            [q(f"haproxy_backend_current_queue{{{BE}}}", "{{target}} {{proxy}}")],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Backend connection errors",
            "Failed connection attempts to servers per second, per backend.",
            "ops",
            [
                q(
                    f"sum by (target, proxy) (rate(haproxy_backend_connection_errors_total{{{BE}}}[{RI}]))",
                    "{{target}} {{proxy}}",
                )
            ],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Servers up per backend",
            "Active and backup servers UP in each backend.",
            "short",
            [
                q(f"haproxy_backend_active_servers{{{BE}}}", "{{target}} {{proxy}} active"),
                q(f"haproxy_backend_backup_servers{{{BE}}}", "{{target}} {{proxy}} backup"),
            ],
            width=24,
            min=0,
        ),
        Row("Servers"),
        state_timeline_panel(
            "Server state",
            "State of each server over time: UP, DOWN (failed checks), MAINT, DRAIN or NOLB.",
            "none",
            [
                q(
                    f"""max by (target, proxy, server) (
                  (haproxy_server_status{{{BE}, state="UP"}} == 1)
                  or 2 * (haproxy_server_status{{{BE}, state="MAINT"}} == 1)
                  or 3 * (haproxy_server_status{{{BE}, state="DRAIN"}} == 1)
                  or 4 * (haproxy_server_status{{{BE}, state="NOLB"}} == 1)
                  or 0 * (haproxy_server_status{{{BE}, state="DOWN"}} == 1))""",
                    "{{target}} {{proxy}}/{{server}}",
                )
            ],
            width=24,
            height=10,
            mappings=SERVER_STATE,
        ),
        timeseries_panel(
            "Health check failures",
            "Failed health checks per second per server.",
            "ops",
            [
                q(
                    f"rate(haproxy_server_check_failures_total{{{BE}}}[{RI}]) > 0",
                    "{{target}} {{proxy}}/{{server}}",
                )
            ],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Server weight",
            "Effective weight of each server (lower while a fresh server warms its caches).",
            "short",
            [q(f"haproxy_server_weight{{{BE}}}", "{{target}} {{proxy}}/{{server}}")],
            width=8,
            min=0,
        ),
        timeseries_panel(
            "Server sessions",
            "Current sessions per server.",
            "short",
            [q(f"haproxy_server_current_sessions{{{BE}}}", "{{target}} {{proxy}}/{{server}}")],
            width=8,
            min=0,
        ),
        stat_panel(
            "TLS certificates: time left",
            "Time until each certificate loaded by HAProxy expires (alerts under 14 and 3 days).",
            "s",
            [q(f"haproxy_ssl_certificate_expiry_timestamp_seconds{{{SEL}}} - time()", "{{target}} {{file}}")],
            width=24,
            height=5,
            thresholds=[(None, "red"), (3 * 86400, "orange"), (14 * 86400, "green")],
        ),
    ]
    return board(
        "nines-haproxy",
        "nines / HAProxy",
        "Frontends, backends and servers of the HAProxy pair, from the nines HAProxy exporter.",
        items,
        variables=[
            CLUSTER,
            instance("haproxy_up"),
            label_var("target", "HAProxy node", "haproxy_up", "target"),
            label_var("backend", "Backend", "haproxy_backend_active_servers", "proxy"),
        ],
        annotations=[*ANNOTATIONS, VIP_MOVES],
        tags=["haproxy"],
    )
