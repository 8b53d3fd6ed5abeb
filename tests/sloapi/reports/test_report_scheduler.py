"""The monthly job: persisted in the database, a missed run happens once on start."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from report_history import SMTPSink

from sloapi.reports.scheduler import MONTHLY_JOB, ReportScheduler, make_scheduler
from sloapi.storage.report_tables import SCHEDULER_JOBS_TABLE
from stack.throwaway import wait_for


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    sink = SMTPSink().start()
    yield sink
    sink.stop()


def test_missed_run_sends_once_on_start(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    service = make_service(smtp_port=smtp.port)
    engine = service.sessions.kw["bind"]
    # The job store as a service left it that was down at 06:00 on 1 October (Paris).
    due = datetime(2026, 10, 1, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))
    runner = ReportScheduler(service, engine)
    store = SQLAlchemyJobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)
    store.start(make_scheduler(engine, "Europe/Paris"), "default")
    store.add_job(
        Job(
            runner.scheduler, id=MONTHLY_JOB, func="sloapi.reports.scheduler:run_monthly",
            trigger=runner.monthly_trigger(), executor="default", args=(),
            kwargs={"name": "default"}, name="run_monthly", misfire_grace_time=None,
            coalesce=True, max_instances=1, next_run_time=due,
        )
    )  # fmt: skip

    runner.start()
    try:
        wait_for(lambda: len(smtp.messages) == 2, 120, "the two report mails")
        job = runner.scheduler.get_job(MONTHLY_JOB)
        assert job is not None and job.next_run_time > datetime.now(ZoneInfo("UTC"))
        assert (job.next_run_time.day, job.next_run_time.hour) == (1, 6)
    finally:
        runner.shutdown()
    assert sorted(rcpts[0] for rcpts, _ in smtp.messages) == ["dba@example.com", "ops@example.com"]

    # a restart finds the job scheduled in the future: nothing runs, nothing is sent
    again = ReportScheduler(make_service(smtp_port=smtp.port, owner="restarted"), engine)
    again.start()
    try:
        time.sleep(1.0)
        assert again.scheduler.get_job(MONTHLY_JOB).next_run_time == job.next_run_time
    finally:
        again.shutdown()
    # and the job itself, run again, sends nothing
    assert {o.status for o in service.scheduled()} == {"already_sent"}
    assert len(smtp.messages) == 2
