"""Read `pg_stat_replication` on the current leader (psycopg 3) for lag in seconds and bytes.

The leader's host and port come from `/cluster` (what Patroni stored in the DCS); user, database
and TLS settings come from the configured monitoring DSN; the password from the DSN, a file or
an environment variable. A role in `pg_monitor` is enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from exporters.core.errors import ConfigError, TargetError
from exporters.patroni.client import secret
from exporters.patroni.lag import LeaderReading, StandbyLag

# The leader's clock and, on a primary only, its current WAL location in bytes.
LEADER_QUERY = """
SELECT pg_catalog.pg_is_in_recovery(),
       extract(epoch FROM pg_catalog.clock_timestamp())::float8,
       CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
            ELSE pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), '0/0')::float8 END
"""
QUERY = """
SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),
       extract(epoch FROM write_lag)::float8,
       extract(epoch FROM flush_lag)::float8,
       extract(epoch FROM replay_lag)::float8,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn)::float8
FROM pg_catalog.pg_stat_replication
ORDER BY 1
"""


DEFAULT_PG_PORT = 5432


def dsn_port(dsn: object) -> int:
    """The port a monitoring DSN names (its first one), else PostgreSQL's default 5432."""
    if not dsn:
        return DEFAULT_PG_PORT
    try:
        raw = str(conninfo_to_dict(str(dsn)).get("port") or "")
    except psycopg.Error:
        return DEFAULT_PG_PORT
    first = raw.split(",", maxsplit=1)[0].strip()
    return int(first) if first.isdigit() else DEFAULT_PG_PORT


def host_port(entry: str, default_port: int) -> tuple[str, int]:
    """Split `host`, `host:port` or `[v6]:port` (a bare host gets `default_port`).

    Raises:
        ConfigError: a port that is not a number in 1..65535.
    """
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:  # a bare name, IPv4 or IPv6 address
        host, port = entry, ""
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"monitoring_hosts: {entry!r} is not host or host:port")
    return host, int(port)


def monitoring_password(options: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The password from `monitoring_password_file` or `monitoring_password_env`, if set.

    `password_file` / `password_env` are accepted as short forms (as the PgBouncer exporter's).

    Raises:
        ConfigError: the file cannot be read or the variable is not set.
    """
    for prefix in ("monitoring_password", "password"):
        if options.get(f"{prefix}_file") or options.get(f"{prefix}_env"):
            return secret(options, prefix, env)
    return None


def read_replication(
    dsn: str, host: str, port: int | None, password: str | None, timeout: float
) -> LeaderReading:
    """Query the leader: its clock and location, and its standbys when it really is a primary.

    Raises:
        TargetError: cannot connect or query (the message never holds the password).
    """
    kwargs: dict[str, Any] = {
        "host": host,
        "connect_timeout": max(1, int(timeout)),
        "application_name": "nines-patroni-exporter",
        "options": f"-c statement_timeout={int(timeout * 1000)}",
        "autocommit": True,
    }
    if port is not None:
        kwargs["port"] = port
    if password is not None:
        kwargs["password"] = password
    try:
        with psycopg.connect(dsn, **kwargs) as conn:
            head = conn.execute(LEADER_QUERY).fetchone()
            primary = head is not None and head[0] is False
            rows = conn.execute(QUERY).fetchall() if primary else []
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TargetError(f"pg_stat_replication on {host}:{port}: {first}") from None
    return LeaderReading(
        primary=primary,
        clock=None if head is None else head[1],
        location=None if head is None else head[2],
        standbys=[StandbyLag(str(r[0]), str(r[1]), str(r[2]), *r[3:7]) for r in rows],
    )
