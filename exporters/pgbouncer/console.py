"""Thin I/O to PgBouncer's admin console over libpq (psycopg's `pq` layer).

The console speaks only the simple query protocol, so queries go out with `PQsendQuery`
(one `Query` message), never Parse/Bind/Execute. No startup parameter is added beyond those
in the DSN (PgBouncer rejects unknown ones such as `extra_float_digits`). Connecting and
every query are bounded by one deadline, enforced here with `select` on the socket.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from exporters.core.errors import ConfigError, TargetError

Table = tuple[list[str], list[list[str | None]]]


class QueryError(TargetError):
    """The console answered a query with an error (the connection stays usable)."""


def resolve_dsn(
    address: str,
    password_file: str | None = None,
    password_env: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Return the conninfo to connect with: the DSN plus a password from a file or env var.

    Raises:
        ConfigError: the DSN does not parse, the file cannot be read or the variable is unset.
    """
    try:
        params = conninfo_to_dict(address)
    except Exception:
        raise ConfigError("invalid DSN (expected postgresql://user@host:port/pgbouncer)") from None
    if "@" in str(params.get("host") or ""):
        # libpq ends a URL's password at its first `@`: the rest would become the host (and be
        # echoed in every connection error)
        raise ConfigError("invalid DSN: its password holds a raw '@'; write it as %40, or use password_file")
    password: str | None = None
    if password_file:
        try:
            password = Path(password_file).read_text().strip("\r\n")
        except OSError as e:
            raise ConfigError(f"password_file {password_file}: {e.strerror}") from None
    elif password_env:
        password = (env or {}).get(password_env)
        if password is None:
            raise ConfigError(f"password_env: environment variable {password_env} is not set")
    if password is not None:
        params["password"] = password
    return make_conninfo("", **params)


def safe_dsn(conninfo: str) -> str:
    """The DSN with its password removed, for logs and error messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        return "<invalid DSN>"
    params.pop("password", None)
    return make_conninfo("", **params)


def _wait(pgconn: pq.abc.PGconn, write: bool, deadline: float, what: str) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError(f"{what}: timed out")
    fd = pgconn.socket
    ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
    if not ready[0] and not ready[1]:
        raise TimeoutError(f"{what}: timed out")


def _error(pgconn: pq.abc.PGconn) -> str:
    return pgconn.error_message.decode("utf-8", "replace").strip() or "connection failed"


class Console:
    """One connection to a PgBouncer console; `query` runs one SHOW command.

    Args:
        conninfo: libpq DSN (URL or key=value), password included; never shown.
        deadline: `time.monotonic()` value by which connecting and all queries must end.
    """

    def __init__(self, conninfo: str, deadline: float) -> None:
        self.deadline = deadline
        try:
            pgconn = pq.PGconn.connect_start(conninfo.encode())
        except Exception as e:  # libpq refuses the conninfo itself
            raise TargetError(f"cannot connect: {type(e).__name__}") from None
        self._pgconn = pgconn
        try:
            self._connect()
        except BaseException:
            pgconn.finish()
            raise

    def _connect(self) -> None:
        pgconn = self._pgconn
        if pgconn.status == pq.ConnStatus.BAD:
            raise TargetError(f"cannot connect: {_error(pgconn)}")
        while True:
            try:
                status = pgconn.connect_poll()
            except psycopg.Error:
                raise TargetError(f"cannot connect: {_error(pgconn)}") from None
            if status == pq.PollingStatus.OK:
                return
            if status == pq.PollingStatus.FAILED:
                raise TargetError(f"cannot connect: {_error(pgconn)}")
            _wait(pgconn, status == pq.PollingStatus.WRITING, self.deadline, "connect")

    def close(self) -> None:
        """Close the connection."""
        self._pgconn.finish()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str) -> Table:
        """Send `sql` as one simple-protocol Query message; return (columns, text rows).

        Raises:
            QueryError: the console answered with an error (e.g. an unknown command).
            TargetError: the connection broke.
            TimeoutError: the deadline passed (the connection is then unusable).
        """
        pgconn = self._pgconn
        try:
            pgconn.send_query(sql.encode())
            while pgconn.flush() == 1:
                _wait(pgconn, True, self.deadline, sql)
            while pgconn.is_busy():
                _wait(pgconn, False, self.deadline, sql)
                pgconn.consume_input()
        except psycopg.Error:
            raise TargetError(f"{sql}: {_error(pgconn)}") from None
        table: Table | None = None
        error: str | None = None
        while (res := pgconn.get_result()) is not None:
            if res.status == pq.ExecStatus.TUPLES_OK and table is None:
                table = _table(res)
            elif res.status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = (res.error_message or b"").decode("utf-8", "replace").strip()
            try:
                while pgconn.is_busy():
                    _wait(pgconn, False, self.deadline, sql)
                    pgconn.consume_input()
            except psycopg.Error:
                raise TargetError(f"{sql}: {_error(pgconn)}") from None
        if pgconn.status == pq.ConnStatus.BAD:
            raise TargetError(f"{sql}: {_error(pgconn)}")
        if error is not None:
            raise QueryError(f"{sql}: {error}")
        if table is None:
            raise QueryError(f"{sql}: no rows returned")
        return table


def _table(res: pq.abc.PGresult) -> Table:
    nfields, ntuples = res.nfields, res.ntuples
    columns = [(res.fname(i) or b"").decode("utf-8", "replace") for i in range(nfields)]
    get = res.get_value
    rows: list[list[str | None]] = []
    for r in range(ntuples):
        row: list[str | None] = []
        for c in range(nfields):
            v = get(r, c)
            row.append(None if v is None else v.decode("utf-8", "replace"))
        rows.append(row)
    return columns, rows


Run = Callable[[str], Table]
