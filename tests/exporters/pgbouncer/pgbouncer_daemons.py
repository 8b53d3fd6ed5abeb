"""A throwaway PostgreSQL 15 cluster and real PgBouncer 1.18 instances for the exporter tests.

PostgreSQL refuses to run as root, so both daemons run as the `postgres` system user in a
directory it owns under the system temp dir; everything listens on 127.0.0.1 on free ports.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from stack.throwaway import as_postgres, chown_postgres, free_port, stop, wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORDS = {"app": "app-secret", "nines_stats": "stats-secret", "nines_admin": "admin-secret"}


@dataclass
class Postgres:
    """A running PostgreSQL cluster (trust auth on 127.0.0.1)."""

    dir: Path
    port: int
    proc: subprocess.Popen[bytes]

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"


@dataclass
class Bouncer:
    """A running PgBouncer; `start()` / `stop()` restart it on the same port and config."""

    dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ini(self) -> Path:
        return self.dir / "pgbouncer.ini"

    def start(self) -> None:
        log = open(self.dir / "pgbouncer.out", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            ["pgbouncer", str(self.ini)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **as_postgres(),  # type: ignore[arg-type]
        )
        log.close()
        wait_for(self._ready, what=f"pgbouncer on {self.port}", ignore=(Exception,))

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError((self.dir / "pgbouncer.log").read_text()[-2000:])
        with psycopg.connect(self.dsn("nines_admin"), autocommit=True, connect_timeout=2) as c:
            c.pgconn.exec_(b"SHOW VERSION")
        return True

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, 15)
            self.proc = None

    def dsn(self, user: str, dbname: str = "pgbouncer", password: bool = True) -> str:
        pw = f" password={PASSWORDS[user]}" if password else ""
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}{pw}"

    def url(self, user: str = "nines_stats") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/pgbouncer"


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """A directory owned by the postgres user (pytest's tmp dirs are root-only)."""
    path = Path(tempfile.mkdtemp(prefix="pb-"))
    path.chmod(0o755)
    chown_postgres(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(workdir: Path) -> Iterator[Postgres]:
    """PostgreSQL 15 with databases `app` (owned by role `app`) and `postgres`."""
    data = workdir / "pg"
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        **as_postgres(),  # type: ignore[arg-type]
    )
    port = free_port()
    log = open(workdir / "pg.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            str(PG_BIN / "postgres"),
            "-D", str(data),
            "-p", str(port),
            "-k", str(workdir),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=300",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "shared_buffers=32MB",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        **as_postgres(),  # type: ignore[arg-type]
    )  # fmt: skip
    log.close()
    pg = Postgres(workdir, port, proc)
    try:
        wait_for(lambda: bool(psycopg.connect(pg.dsn(), connect_timeout=2).close() or True),
                 timeout=60, what="postgres", ignore=(Exception,))  # fmt: skip
        with psycopg.connect(pg.dsn(), autocommit=True) as c:
            c.execute("CREATE ROLE app LOGIN")
            c.execute("CREATE DATABASE app OWNER app")
        yield pg
    finally:
        stop(proc, 60)


def write_bouncer(
    dir: Path, pg: Postgres, port: int, databases: str | None = None, extra: str = ""
) -> Bouncer:
    """Write pgbouncer.ini and userlist.txt into `dir` (owned by postgres) and return a Bouncer."""
    dir.mkdir(exist_ok=True)
    dir.chmod(0o700)
    chown_postgres(dir)
    users = dir / "userlist.txt"
    users.write_text("".join(f'"{u}" "{p}"\n' for u, p in PASSWORDS.items()))
    users.chmod(0o600)
    chown_postgres(users)
    if databases is None:
        databases = (
            f"app = host=127.0.0.1 port={pg.port} dbname=app pool_size=2\n"
            f"postgres = host=127.0.0.1 port={pg.port} dbname=postgres\n"
        )
    ini = dir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{databases}"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = scram-sha-256\n"
        f"auth_file = {users}\n"
        "admin_users = nines_admin\n"
        "stats_users = nines_stats\n"
        "pool_mode = transaction\n"
        "max_client_conn = 500\n"
        "default_pool_size = 5\n"
        f"logfile = {dir / 'pgbouncer.log'}\n"
        f"pidfile = {dir / 'pgbouncer.pid'}\n"
        f"{extra}"
    )
    chown_postgres(ini)
    return Bouncer(dir, port)


@pytest.fixture(scope="session")
def bouncer(workdir: Path, postgres: Postgres) -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling; database `app` has pool_size=2."""
    b = write_bouncer(workdir / "bouncer", postgres, free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def spare_bouncer(workdir: Path, postgres: Postgres) -> Iterator[Bouncer]:
    """A PgBouncer of its own, for tests that stop it."""
    b = write_bouncer(workdir / f"spare-{free_port()}", postgres, free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()


@contextmanager
def exhaust_pool(
    dsn: str, holders: int, waiters: int, cl_waiting: Callable[[], str | None]
) -> Iterator[None]:
    """Hold `holders` transactions open through PgBouncer at `dsn` and queue `waiters` more clients.

    Enters once `cl_waiting()` (the pool's `SHOW POOLS` column) counts the waiters.
    """
    conns: list[psycopg.Connection] = []
    try:
        for _ in range(holders):
            c = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
            conns.append(c)
            c.execute("BEGIN")
            c.execute("SELECT 1")
        for _ in range(waiters):
            c = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
            conns.append(c)
            c.pgconn.send_query(b"SELECT 1")
        wait_for(lambda: cl_waiting() == str(waiters), what="waiting clients", ignore=(Exception,))
        yield
    finally:
        for c in conns:
            c.close()
