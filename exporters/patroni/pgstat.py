"""Read `pg_stat_replication` on the current leader (psycopg 3) for lag in seconds.

The leader's host and port come from `/cluster` (what Patroni stored in the DCS); user, database
and TLS settings come from the configured monitoring DSN; the password from the DSN, a file or
an environment variable. A role in `pg_monitor` is enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from exporters.core.errors import ConfigError, TargetError
from exporters.patroni.lag import StandbyLag

QUERY = """
SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),
       extract(epoch FROM write_lag)::float8,
       extract(epoch FROM flush_lag)::float8,
       extract(epoch FROM replay_lag)::float8
FROM pg_catalog.pg_stat_replication
ORDER BY 1
"""


def monitoring_password(options: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The password from `monitoring_password_file` or `monitoring_password_env`, if set.

    `password_file` / `password_env` are accepted as short forms (as the PgBouncer exporter's).

    Raises:
        ConfigError: the file cannot be read or the variable is not set.
    """
    path = options.get("monitoring_password_file") or options.get("password_file")
    if path:
        try:
            return Path(str(path)).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"monitoring_password_file: cannot read {path}: {e.strerror}") from None
    var = options.get("monitoring_password_env") or options.get("password_env")
    if var:
        value = env.get(str(var))
        if value is None:
            raise ConfigError(f"monitoring_password_env: variable {var} is not set")
        return value
    return None


def read_replication(
    dsn: str, host: str, port: int | None, password: str | None, timeout: float
) -> tuple[list[StandbyLag], bool]:
    """Query the leader; return its standbys and whether it really is a primary.

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
            in_recovery = conn.execute("SELECT pg_catalog.pg_is_in_recovery()").fetchone()
            rows = conn.execute(QUERY).fetchall()
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TargetError(f"pg_stat_replication on {host}:{port}: {first}") from None
    primary = in_recovery is not None and in_recovery[0] is False
    return [StandbyLag(str(a), str(s), str(y), w, f, r) for a, s, y, w, f, r in rows], primary
