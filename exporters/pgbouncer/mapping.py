"""Declarative column-to-metric tables for PgBouncer's admin console views.

Every metric is described once: its full name, type, help text and the console columns it
comes from. A column is found by name, trying aliases in order, so the same table reads
PgBouncer 1.8 through 1.25 (`reserve_pool` became `reserve_pool_size` in 1.24, STATS_TOTALS
drops the `total_` prefix SHOW STATS has, cancel columns appear in 1.16/1.18, ...). Values
given in microseconds are converted to seconds with the part's divisor.

Names and labels follow prometheus-community/pgbouncer_exporter so existing dashboards keep
working; the additions are documented in docs/exporters/pgbouncer.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporters.core.metrics import MetricType

PREFIX = "pgbouncer"
MICRO = 1_000_000  # microseconds per second


@dataclass(frozen=True)
class Part:
    """One source of a metric's value: the first of `names` present, divided by `divisor`."""

    names: tuple[str, ...]
    divisor: float = 1.0


@dataclass(frozen=True)
class Metric:
    """A metric computed from one row: the sum of its parts that are present.

    The metric is exported when at least one part's column exists in the view; a view that
    lacks every part (an older PgBouncer) simply does not export it.
    """

    name: str
    type: MetricType
    help: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Label:
    """A label taken from a column (first alias present); `required` labels must exist."""

    name: str
    names: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class View:
    """A tabular console view: labels from some columns, one metric per value column.

    `key` names the label holding the PgBouncer database name, used by include/exclude.
    """

    command: str
    labels: tuple[Label, ...]
    metrics: tuple[Metric, ...]
    key: str = "database"


def _m(name: str, type_: MetricType, help_: str, *parts: Part) -> Metric:
    return Metric(f"{PREFIX}_{name}", type_, help_, parts)


def _p(*names: str, divisor: float = 1.0) -> Part:
    return Part(tuple(names), divisor)


POOLS = View(
    command="SHOW POOLS",
    labels=(
        Label("database", ("database",), required=True),
        Label("user", ("user",), required=True),
    ),
    metrics=(
        _m(
            "pools_client_active_connections",
            "gauge",
            "Client connections linked to a server connection and able to process queries.",
            _p("cl_active"),
        ),
        _m(
            "pools_client_waiting_connections",
            "gauge",
            "Client connections that have sent queries but have not yet got a server connection.",
            _p("cl_waiting"),
        ),
        _m(
            "pools_client_active_cancel_connections",
            "gauge",
            "Client connections that have forwarded query cancellations to the server and "
            "are waiting for the server response.",
            _p("cl_active_cancel_req", "cl_cancel_req"),
        ),
        _m(
            "pools_client_waiting_cancel_connections",
            "gauge",
            "Client connections that have not forwarded query cancellations to the server yet.",
            _p("cl_waiting_cancel_req"),
        ),
        _m(
            "pools_server_active_connections",
            "gauge",
            "Server connections linked to a client connection.",
            _p("sv_active"),
        ),
        _m(
            "pools_server_active_cancel_connections",
            "gauge",
            "Server connections currently forwarding a cancel request.",
            _p("sv_active_cancel"),
        ),
        _m(
            "pools_server_being_canceled_connections",
            "gauge",
            "Server connections waiting for in-flight cancel requests before becoming idle.",
            _p("sv_being_canceled"),
        ),
        _m(
            "pools_server_idle_connections",
            "gauge",
            "Server connections idle and ready for a client query.",
            _p("sv_idle"),
        ),
        _m(
            "pools_server_used_connections",
            "gauge",
            "Server connections idle for more than server_check_delay, needing server_check_query.",
            _p("sv_used"),
        ),
        _m(
            "pools_server_testing_connections",
            "gauge",
            "Server connections running server_reset_query or server_check_query.",
            _p("sv_tested"),
        ),
        _m(
            "pools_server_login_connections",
            "gauge",
            "Server connections in the process of logging in.",
            _p("sv_login"),
        ),
        _m(
            "pools_client_maxwait_seconds",
            "gauge",
            "Age of the oldest unserved client connection, in seconds (maxwait + maxwait_us).",
            _p("maxwait"),
            _p("maxwait_us", divisor=MICRO),
        ),
    ),
)

STATS = View(
    command="SHOW STATS_TOTALS",
    labels=(Label("database", ("database",), required=True),),
    metrics=(
        _m(
            "stats_queries_pooled_total",
            "counter",
            "Total number of SQL queries pooled by PgBouncer.",
            _p("query_count", "total_query_count", "total_requests"),
        ),
        _m(
            "stats_queries_duration_seconds_total",
            "counter",
            "Total seconds spent by PgBouncer actively connected to PostgreSQL, executing queries.",
            _p("query_time", "total_query_time", divisor=MICRO),
        ),
        _m(
            "stats_received_bytes_total",
            "counter",
            "Total volume in bytes of network traffic received by PgBouncer.",
            _p("bytes_received", "total_received"),
        ),
        _m(
            "stats_sent_bytes_total",
            "counter",
            "Total volume in bytes of network traffic sent by PgBouncer.",
            _p("bytes_sent", "total_sent"),
        ),
        _m(
            "stats_client_wait_seconds_total",
            "counter",
            "Total seconds clients spent waiting for a server connection.",
            _p("wait_time", "total_wait_time", divisor=MICRO),
        ),
        _m(
            "stats_sql_transactions_pooled_total",
            "counter",
            "Total number of SQL transactions pooled by PgBouncer.",
            _p("xact_count", "total_xact_count"),
        ),
        _m(
            "stats_server_in_transaction_seconds_total",
            "counter",
            "Total seconds spent by PgBouncer connected to PostgreSQL in a transaction, "
            "either idle in transaction or executing queries.",
            _p("xact_time", "total_xact_time", divisor=MICRO),
        ),
        _m(
            "stats_server_assignments_total",
            "counter",
            "Total number of times a server connection was assigned to a client (1.23+).",
            _p("server_assignment_count", "total_server_assignment_count"),
        ),
        _m(
            "stats_client_parses_total",
            "counter",
            "Total number of prepared statement Parse messages received from clients (1.24+).",
            _p("client_parse_count", "total_client_parse_count"),
        ),
        _m(
            "stats_server_parses_total",
            "counter",
            "Total number of prepared statement Parse messages sent to PostgreSQL (1.24+).",
            _p("server_parse_count", "total_server_parse_count"),
        ),
        _m(
            "stats_binds_total",
            "counter",
            "Total number of prepared statements readied for execution with Bind (1.24+).",
            _p("bind_count", "total_bind_count"),
        ),
    ),
)

DATABASES = View(
    command="SHOW DATABASES",
    key="name",
    labels=(
        Label("name", ("name",), required=True),
        Label("host", ("host",)),
        Label("port", ("port",)),
        Label("database", ("database",)),
        Label("force_user", ("force_user",)),
        Label("pool_mode", ("pool_mode",)),
    ),
    metrics=(
        _m(
            "databases_pool_size",
            "gauge",
            "Maximum number of server connections per pool of this database.",
            _p("pool_size"),
        ),
        _m(
            "databases_min_pool_size",
            "gauge",
            "Minimum number of server connections kept per pool of this database.",
            _p("min_pool_size"),
        ),
        _m(
            "databases_reserve_pool",
            "gauge",
            "Maximum number of additional connections for this database.",
            _p("reserve_pool_size", "reserve_pool"),
        ),
        _m(
            "databases_max_connections",
            "gauge",
            "Maximum number of allowed server connections for this database (0: unlimited).",
            _p("max_connections"),
        ),
        _m(
            "databases_current_connections",
            "gauge",
            "Current number of server connections for this database.",
            _p("current_connections"),
        ),
        _m(
            "databases_max_client_connections",
            "gauge",
            "Maximum number of allowed client connections for this database (1.24+).",
            _p("max_client_connections"),
        ),
        _m(
            "databases_current_client_connections",
            "gauge",
            "Current number of client connections for this database (1.24+).",
            _p("current_client_connections"),
        ),
        _m(
            "databases_paused",
            "gauge",
            "1 if this database is currently paused, else 0.",
            _p("paused"),
        ),
        _m(
            "databases_disabled",
            "gauge",
            "1 if this database is currently disabled, else 0.",
            _p("disabled"),
        ),
    ),
)

# SHOW LISTS: one row per list (`list`, `items`); list name -> (metric, help).
LISTS: dict[str, tuple[str, str]] = {
    "databases": (f"{PREFIX}_databases", "Count of databases."),
    "users": (f"{PREFIX}_users", "Count of users."),
    "peers": (f"{PREFIX}_peers", "Count of configured peers (1.19+)."),
    "pools": (f"{PREFIX}_pools", "Count of pools."),
    "peer_pools": (f"{PREFIX}_peer_pools", "Count of peer pools (1.19+)."),
    "free_clients": (f"{PREFIX}_free_clients", "Count of free client slots."),
    "used_clients": (f"{PREFIX}_used_clients", "Count of used client slots."),
    "login_clients": (f"{PREFIX}_login_clients", "Count of clients in login state."),
    "free_servers": (f"{PREFIX}_free_servers", "Count of free server slots."),
    "used_servers": (f"{PREFIX}_used_servers", "Count of used server slots."),
    "dns_names": (f"{PREFIX}_cached_dns_names", "Count of DNS names in the cache."),
    "dns_zones": (f"{PREFIX}_cached_dns_zones", "Count of DNS zones in the cache."),
    "dns_queries": (f"{PREFIX}_in_flight_dns_queries", "Count of in-flight DNS queries."),
    "dns_pending": (f"{PREFIX}_pending_dns_queries", "Count of pending DNS queries."),
}

# SHOW CONFIG: one row per setting (`key`, `value`, [`default`,] `changeable`).
CONFIG: dict[str, tuple[str, str]] = {
    "max_client_conn": (
        f"{PREFIX}_config_max_client_connections",
        "Config maximum number of client connections (max_client_conn).",
    ),
    "max_user_connections": (
        f"{PREFIX}_config_max_user_connections",
        "Config maximum number of server connections per user (0: unlimited).",
    ),
    "max_db_connections": (
        f"{PREFIX}_config_max_db_connections",
        "Config maximum number of server connections per database (0: unlimited).",
    ),
    "default_pool_size": (
        f"{PREFIX}_config_default_pool_size",
        "Config default number of server connections per pool.",
    ),
    "min_pool_size": (
        f"{PREFIX}_config_min_pool_size",
        "Config minimum number of server connections kept per pool.",
    ),
    "reserve_pool_size": (
        f"{PREFIX}_config_reserve_pool_size",
        "Config number of additional connections a pool may use when clients wait.",
    ),
}

VERSION_METRIC = f"{PREFIX}_version_info"
CLIENTS_METRIC = f"{PREFIX}_client_connections"
SERVERS_METRIC = f"{PREFIX}_server_connections"
UTILIZATION_METRIC = f"{PREFIX}_pools_server_utilization_ratio"
VIEW_UP_METRIC = f"{PREFIX}_exporter_view_up"
