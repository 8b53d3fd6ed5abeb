"""Two sloapi processes on one real PostgreSQL, one real SMTP server: one mail per recipient.

Both instances mail at the same moment; the scheduler-lease holder is killed in the middle of a
send; the database restarts in the middle of a send (what a Patroni failover looks like from
sloapi: connections fail, then a primary answers again). The sink receives exactly one copy per
recipient each time, with the Message-ID of the first claim.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from report_history import SMTPSink

from sloapi.reports.mail import message_id
from sloapi.reports.scheduler import LEASE, MONTHLY_JOB, make_scheduler
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade
from sloapi.storage.report_lease import lease_holder
from sloapi.storage.report_tables import SCHEDULER_JOBS_TABLE, ReportDelivery
from stack.throwaway import as_postgres, chown_postgres, free_port, stop, wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN = "instances-token"
RECIPIENTS = ("dba@example.com", "ops@example.com")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Postgres:
    """A throwaway PostgreSQL 15 on 127.0.0.1 that a test can stop and start again."""

    dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.dir / "pg.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.dir / "data"), "-p", str(self.port),
             "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "max_connections=200"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
            **as_postgres(),  # type: ignore[arg-type]
        )  # fmt: skip
        log.close()
        wait_for(lambda: bool(psycopg.connect(self.url("postgres"), connect_timeout=2).close() or True),
                 timeout=60, what="postgres", ignore=(Exception,))  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are cut off, as when a primary goes away)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            stop(self.proc, 60)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> str:
        name = f"sloapi_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    path = Path(tempfile.mkdtemp(prefix="sloapi-pg-"))
    path.chmod(0o755)
    chown_postgres(path)
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(path / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=path,
        **as_postgres(),  # type: ignore[arg-type]
    )  # fmt: skip
    pg = Postgres(path)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Instance:
    """One `sloapi serve` process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def owner(self) -> str:
        return f"{self.name}:{self.proc.pid}"


class Cluster:
    """sloapi instances sharing one database, Prometheus and SMTP server."""

    def __init__(self, db_url: str, env: dict[str, str], logs: Path) -> None:
        self.db_url = db_url
        self.env = env
        self.logs = logs
        self.instances: list[Instance] = []

    def start(self, name: str) -> Instance:
        port = free_port()
        env = {**os.environ, **self.env, "SLOAPI_INSTANCE_NAME": name}
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            [sys.executable, "-m", "sloapi", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        instance = Instance(name, port, proc)
        self.instances.append(instance)
        wait_for(lambda: httpx.get(f"{instance.url}/healthz", timeout=2).status_code == 200,
                 timeout=60, what=f"sloapi {name}", ignore=(httpx.HTTPError,))  # fmt: skip
        return instance

    def stop(self) -> None:
        for instance in self.instances:
            stop(instance.proc, 30)


@pytest.fixture
def cluster(postgres: Postgres, report_prometheus, specs_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    sink = SMTPSink(hold_first=True).start()
    env = {
        "SLOAPI_PROMETHEUS_URL": report_prometheus.url,
        "SLOAPI_DATABASE_URL": postgres.create(),
        "SLOAPI_SLOS_DIR": str(specs_dir),
        "SLOAPI_REPORT_TIMEZONE": "Europe/Paris",
        "SLOAPI_REPORT_RECIPIENTS": "ops@example.com",
        "SLOAPI_MAIL_FROM": "nines@example.com",
        "SLOAPI_SMTP_PORT": str(sink.port),
        "SLOAPI_API_TOKEN": TOKEN,
        "SLOAPI_REPORT_CRON": "0 6 1 1 *",  # not during the test: runs are started by the test
        "SLOAPI_REPORT_SCHEDULER_LEASE_SECONDS": "3",
        "SLOAPI_REPORT_CLAIM_LEASE_SECONDS": "8",
        "SLOAPI_REPORT_RETRY_SECONDS": "1",
    }
    group = Cluster(env["SLOAPI_DATABASE_URL"], env, tmp_path)
    engine = make_engine(group.db_url)
    upgrade(engine)
    try:
        yield group, sink, engine
    finally:
        group.stop()
        sink.stop()
        engine.dispose()


def rows(engine) -> dict[str, ReportDelivery]:  # type: ignore[no-untyped-def]
    with make_session_factory(engine)() as session:
        from sqlalchemy import select

        return {row.recipient: row for row in session.scalars(select(ReportDelivery)).all()}


def claimants(engine) -> set[str]:  # type: ignore[no-untyped-def]
    """The instances holding the claims (a claim's holder is the instance plus a token)."""
    return {(row.claimed_by or "").rsplit("/", 1)[0] for row in rows(engine).values()}


def holder(engine) -> str | None:  # type: ignore[no-untyped-def]
    with make_session_factory(engine)() as session:
        found = lease_holder(session, LEASE)
    return None if found is None else found[0]


def assert_one_copy_each(sink: SMTPSink, month: str) -> None:
    for address in RECIPIENTS:
        assert sink.message_ids(address) == [message_id(month, address, 1)], address


def test_both_instances_send_at_once(cluster) -> None:  # type: ignore[no-untyped-def]
    group, sink, engine = cluster
    sink.hold_first = False
    a, b = group.start("a"), group.start("b")
    wait_for(lambda: holder(engine) in (a.owner, b.owner), 30, "a scheduler lease holder")
    # the API answers from either instance, the same figures
    reports = [httpx.get(f"{i.url}/api/v1/reports/2026-09", timeout=60).json() for i in (a, b)]
    assert reports[0]["slos"] == reports[1]["slos"]
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def send(instance: Instance) -> None:
        barrier.wait()
        answers.append(httpx.post(f"{instance.url}/api/v1/reports/2026-09/send", headers=AUTH, timeout=120))

    threads = [threading.Thread(target=send, args=(i,)) for i in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(answers) == 2
    statuses: dict[str, list[str]] = {address: [] for address in RECIPIENTS}
    for answer in answers:
        if answer.status_code == 409:  # every copy was already sent by the other one
            continue
        assert answer.status_code == 200, answer.text
        for outcome in answer.json()["outcomes"]:
            statuses[outcome["recipient"]].append(outcome["status"])
    for address, seen in statuses.items():
        assert seen.count("sent") == 1 and set(seen) <= {"sent", "delayed", "already_sent"}, address
    assert_one_copy_each(sink, "2026-09")
    time.sleep(3)  # retry jobs on both: nothing more goes out
    assert_one_copy_each(sink, "2026-09")
    for instance in (a, b):
        listed = httpx.get(f"{instance.url}/api/v1/reports/2026-09/deliveries", headers=AUTH, timeout=30)
        assert {d["recipient"]: d["status"] for d in listed.json()["deliveries"]} == dict.fromkeys(
            RECIPIENTS, "sent"
        )


def seed_overdue_monthly_job(engine) -> None:  # type: ignore[no-untyped-def]
    """The job store as a scheduler leaves it when the monthly run is due now."""
    scheduler = make_scheduler(engine, "Europe/Paris")
    store = SQLAlchemyJobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)
    store.start(scheduler, "default")
    from apscheduler.triggers.cron import CronTrigger

    store.add_job(
        Job(
            scheduler, id=MONTHLY_JOB, func="sloapi.reports.scheduler:run_monthly",
            trigger=CronTrigger.from_crontab("0 6 1 1 *", timezone="Europe/Paris"), executor="default",
            args=(), kwargs={"name": "default"}, name="run_monthly", misfire_grace_time=None,
            coalesce=True, max_instances=1, next_run_time=datetime.now(UTC) - timedelta(minutes=1),
        )
    )  # fmt: skip


def last_closed_month() -> str:
    from sloapi.reports.month import last_closed_month as closed

    return closed(datetime.now(UTC), "Europe/Paris").key


def test_lease_holder_killed_mid_send(cluster) -> None:  # type: ignore[no-untyped-def]
    group, sink, engine = cluster
    seed_overdue_monthly_job(engine)
    a = group.start("a")
    wait_for(lambda: holder(engine) == a.owner, 30, "a holds the scheduler lease")
    b = group.start("b")
    assert sink.held.wait(120), "a's monthly run reached the SMTP server"
    month = last_closed_month()
    assert claimants(engine) == {a.owner}  # a claimed both before sending
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)
    sink.release.set()
    wait_for(lambda: all(r.status == "sent" for r in rows(engine).values()) and len(rows(engine)) == 2,
             90, "b finishes the run")  # fmt: skip
    assert holder(engine) == b.owner
    # the copy a was sending when it died is finished by b (any copy a's run had not reached
    # yet may have been retaken by a's own retry job before it died: its claim lapsed)
    assert (rows(engine)[sink.held_address].claimed_by or "").startswith(f"{b.owner}/")
    assert_one_copy_each(sink, month)
    time.sleep(3)
    assert_one_copy_each(sink, month)


def test_database_restart_mid_send(cluster, postgres: Postgres) -> None:  # type: ignore[no-untyped-def]
    group, sink, engine = cluster
    seed_overdue_monthly_job(engine)
    a = group.start("a")
    wait_for(lambda: holder(engine) == a.owner, 30, "a holds the scheduler lease")
    group.start("b")
    assert sink.held.wait(120), "a's monthly run reached the SMTP server"
    month = last_closed_month()
    engine.dispose()
    postgres.stop()  # the primary goes away while the first copy is in the SMTP conversation
    sink.release.set()  # the server takes the copy; recording it has no database now
    wait_for(lambda: len(sink.messages) >= 1, 30, "the held copy delivered")
    time.sleep(3)
    postgres.start()
    wait_for(lambda: len(rows(engine)) == 2 and all(r.status == "sent" for r in rows(engine).values()),
             120, "every copy recorded as sent")  # fmt: skip
    assert_one_copy_each(sink, month)
    time.sleep(10)  # past the claim lease: nobody sends a copy again
    assert_one_copy_each(sink, month)


def test_instances_migrate_at_the_same_moment(postgres: Postgres) -> None:
    """Two instances starting together on an empty database: one migrates, the other waits."""
    url = postgres.create()
    engines = [make_engine(url) for _ in range(2)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def migrate(engine) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        with engines[0].connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SELECT count(*) FROM report_scheduler_lease")).scalar() == 0
    finally:
        for engine in engines:
            engine.dispose()
