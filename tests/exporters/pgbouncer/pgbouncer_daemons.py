"""A throwaway PostgreSQL 15 cluster and real PgBouncer 1.18 instances for the exporter tests.

PostgreSQL refuses to run as root, so both daemons run as the `postgres` system user in a
directory it owns under the system temp dir; everything listens on 127.0.0.1 on free ports.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORDS = {"app": "app-secret", "nines_stats": "stats-secret", "nines_admin": "admin-secret"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll `check` until it returns True or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _as_postgres() -> dict[str, object]:
    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _chown(path: Path) -> None:
    pw = pwd.getpwnam("postgres")
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _stop(proc: subprocess.Popen[bytes], sig_timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(sig_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(sig_timeout)


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
            **_as_postgres(),  # type: ignore[arg-type]
        )
        log.close()
        wait_for(self._ready, what=f"pgbouncer on {self.port}")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError((self.dir / "pgbouncer.log").read_text()[-2000:])
        with psycopg.connect(self.dsn("nines_admin"), autocommit=True, connect_timeout=2) as c:
            c.pgconn.exec_(b"SHOW VERSION")
        return True

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
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
    _chown(path)
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
        **_as_postgres(),  # type: ignore[arg-type]
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
        **_as_postgres(),  # type: ignore[arg-type]
    )  # fmt: skip
    log.close()
    pg = Postgres(workdir, port, proc)
    try:
        wait_for(lambda: bool(psycopg.connect(pg.dsn(), connect_timeout=2).close() or True),
                 timeout=60, what="postgres")  # fmt: skip
        with psycopg.connect(pg.dsn(), autocommit=True) as c:
            c.execute("CREATE ROLE app LOGIN")
            c.execute("CREATE DATABASE app OWNER app")
        yield pg
    finally:
        _stop(proc, 60)


def write_bouncer(
    dir: Path, pg: Postgres, port: int, databases: str | None = None, extra: str = ""
) -> Bouncer:
    """Write pgbouncer.ini and userlist.txt into `dir` (owned by postgres) and return a Bouncer."""
    dir.mkdir(exist_ok=True)
    dir.chmod(0o700)
    _chown(dir)
    users = dir / "userlist.txt"
    users.write_text("".join(f'"{u}" "{p}"\n' for u, p in PASSWORDS.items()))
    users.chmod(0o600)
    _chown(users)
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
    _chown(ini)
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
