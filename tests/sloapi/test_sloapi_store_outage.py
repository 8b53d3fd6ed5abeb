"""A store outage is a 503 with a reason, never a 500: the service on a real PostgreSQL behind a
real PgBouncer (transaction pooling), PgBouncer stopped and started again; safe reads are tried
twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from slo_history import History
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from test_sloapi_status import make_settings

from sloapi.api.guard import GRACE_SECONDS
from sloapi.errors import StoreUnavailableError
from sloapi.main import create_app
from sloapi.storage.outage import read_with_retry
from stack.throwaway import as_postgres, chown_postgres, free_port, stop, wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN = "s3cret"


@dataclass
class Bouncer:
    """A PgBouncer in front of a throwaway PostgreSQL; `start()` again after `stop()`."""

    ini: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/sloapi"

    def start(self) -> None:
        with (self.ini.parent / "pgbouncer.log").open("ab") as out:
            self.process = subprocess.Popen(
                ["pgbouncer", str(self.ini)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                **as_postgres(),
            )  # type: ignore[call-overload]
        wait_for(lambda: psycopg.connect(self.url, connect_timeout=2).close() or True, 30, "pgbouncer",
                 ignore=(psycopg.OperationalError,))  # fmt: skip

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, **as_postgres())  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def bouncer() -> Iterator[Bouncer]:
    """PostgreSQL 15 and PgBouncer (transaction pooling) on 127.0.0.1, free ports, trust auth."""
    base = Path(tempfile.mkdtemp(prefix="sloapi-store-"))  # pytest's tree is closed to postgres
    chown_postgres(base)
    data, pg_port = base / "pg", free_port()
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
    with (base / "postgres.log").open("ab") as out:
        postgres = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(pg_port), "-k", str(base),
             "-c", "listen_addresses=127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, **as_postgres(),
        )  # type: ignore[call-overload]  # fmt: skip
    bouncer = Bouncer(base / "pgbouncer.ini", free_port())
    try:
        direct = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
        conn = wait_for(lambda: psycopg.connect(direct, autocommit=True, connect_timeout=2), 60, "postgres",
                        ignore=(psycopg.OperationalError,))  # fmt: skip
        with conn:
            conn.execute("CREATE DATABASE sloapi")
        (base / "users.txt").write_text('"postgres" ""\n', encoding="utf-8")
        bouncer.ini.write_text(
            f"[databases]\nsloapi = host=127.0.0.1 port={pg_port} dbname=sloapi\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {bouncer.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {base / 'users.txt'}\npool_mode = transaction\n",
            encoding="utf-8",
        )
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        stop(postgres)
        shutil.rmtree(base, ignore_errors=True)


def test_pgbouncer_down_gives_503_with_a_reason_then_recovers(
    tmp_path: Path, bouncer: Bouncer, prom_url: str, history: History
) -> None:
    settings = make_settings(tmp_path, prom_url, database_url=bouncer.url, api_token=TOKEN)
    now = datetime.fromtimestamp(history.end, UTC)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    snapshots = "/api/v1/slos/web-availability/snapshots"
    with TestClient(create_app(settings, clock=lambda: now), raise_server_exceptions=False) as client:
        assert client.post(snapshots, params={"at": history.end}, headers=auth).status_code == 201
        assert len(client.get(snapshots).json()["snapshots"]) == 1
        bouncer.stop()
        try:
            for answer in (
                client.get(snapshots),
                client.post(snapshots, params={"at": history.end - 60}, headers=auth),
                client.get(f"/api/v1/reports/{datetime.fromtimestamp(history.end - 40 * 86400, UTC):%Y-%m}"),
            ):
                assert answer.status_code == 503, answer.text
                assert answer.json()["detail"].startswith("database unavailable: "), answer.text
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] is False
        finally:
            bouncer.start()
        assert len(client.get(snapshots).json()["snapshots"]) == 1
        assert client.post(snapshots, params={"at": history.end - 60}, headers=auth).status_code == 201


def test_frozen_pgbouncer_gives_503_by_the_deadline_then_recovers(
    tmp_path: Path, bouncer: Bouncer, prom_url: str, history: History
) -> None:
    """A store that accepts connections and then answers nothing (SIGSTOP: the kernel still
    acknowledges every packet, so no TCP timeout ever fires) gets a 503 naming the deadline by
    the deadline plus the guard's grace, for reads and writes, and the service recovers."""
    deadline = 2.0
    settings = make_settings(
        tmp_path, prom_url, database_url=bouncer.url, api_token=TOKEN, request_deadline_seconds=deadline
    )
    now = datetime.fromtimestamp(history.end, UTC)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    snapshots = "/api/v1/slos/web-availability/snapshots"
    assert bouncer.process is not None
    with TestClient(create_app(settings, clock=lambda: now), raise_server_exceptions=False) as client:
        assert client.post(snapshots, params={"at": history.end}, headers=auth).status_code == 201
        os.kill(bouncer.process.pid, signal.SIGSTOP)
        try:
            for method, path, params in (
                ("GET", snapshots, {}),
                ("POST", snapshots, {"at": history.end - 60}),
                ("GET", "/api/v1/slos/web-availability", {}),  # its exclusions are in the store
            ):
                began = time.monotonic()
                answer = client.request(method, path, params=params, headers=auth)
                took = time.monotonic() - began
                assert answer.status_code == 503, answer.text
                assert "SLOAPI_REQUEST_DEADLINE_SECONDS" in answer.json()["detail"]
                assert deadline <= took < deadline + GRACE_SECONDS + 1.0, took
        finally:
            os.kill(bouncer.process.pid, signal.SIGCONT)
        # The write answered 503 either finishes once the store wakes up or stops at its expired
        # deadline: recorded once or not at all, never twice, and the service writes again.
        before = wait_for(lambda: client.get(snapshots).json().get("snapshots"), 30, "the store again")
        time.sleep(2 * deadline)
        assert len(client.get(snapshots).json()["snapshots"]) in (1, 2)
        after = len(client.get(snapshots).json()["snapshots"])
        assert len(before) <= after
        assert client.get("/api/v1/slos/web-availability").status_code == 200
        assert client.post(snapshots, params={"at": history.end - 120}, headers=auth).status_code == 201
        assert len(client.get(snapshots).json()["snapshots"]) == after + 1


def test_a_safe_read_is_tried_twice(bouncer: Bouncer) -> None:
    engine = create_engine(bouncer.url.replace("postgresql://", "postgresql+psycopg://"))
    sessions = sessionmaker(bind=engine)
    calls: list[int] = []
    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))

    def once_lost(session: Session) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise lost
        return int(session.connection().exec_driver_sql("SELECT 41 + 1").scalar_one())

    def always_lost(_session: Session) -> int:
        calls.append(1)
        raise lost

    try:
        assert read_with_retry(sessions, once_lost) == 42
        assert len(calls) == 2
        calls.clear()
        with pytest.raises(
            StoreUnavailableError, match=r"^database unavailable: server closed the connection$"
        ):
            read_with_retry(sessions, always_lost)
        assert len(calls) == 2
    finally:
        engine.dispose()
