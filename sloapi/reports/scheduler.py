"""The monthly mail on a schedule: APScheduler 3 cron job kept in the database.

The job store is the ``report_scheduler_jobs`` table, so a job's next run time survives
restarts: a service that was down when the report was due finds the job overdue on start and
runs it once (``misfire_grace_time=None``: however late; ``coalesce``: once for all missed
runs). Deliveries are claimed per (month, recipient), so a run after the mail went out, or a
second instance running the same job, sends nothing.

Several instances on one database: the scheduler runs only on the holder of the lease row
``reports`` (``report_scheduler_lease``). Every instance tries to take or renew it every third of
``SLOAPI_REPORT_SCHEDULER_LEASE_SECONDS``; the holder starts the jobs, an instance that loses it
stops them, and when the holder dies its lease runs out and another instance takes over. A
clean shutdown releases the lease at once.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from sloapi.reports.service import ReportService
from sloapi.storage.report_lease import release_lease, take_lease
from sloapi.storage.report_tables import SCHEDULER_JOBS_TABLE

log = logging.getLogger(__name__)

MONTHLY_JOB = "monthly-report"
RETRY_JOB = "report-retries"
LEASE = "reports"
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}

# Jobs are stored by reference, so they find their service here by name.
_SERVICES: dict[str, ReportService] = {}


def run_monthly(name: str) -> None:
    """Job: mail the month just closed (a job runs this by its textual reference)."""
    service = _SERVICES.get(name)
    if service is None:
        log.warning("monthly report job: no report service %r in this process", name)
        return
    service.scheduled()


def run_retries(name: str) -> None:
    """Job: retry failed copies whose time has come."""
    service = _SERVICES.get(name)
    if service is not None:
        service.retry_failed()


def make_scheduler(engine: Engine, timezone: str) -> BackgroundScheduler:
    """A background scheduler whose jobs persist in the reports' job table."""
    store = SQLAlchemyJobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)
    return BackgroundScheduler(jobstores={"default": store}, job_defaults=JOB_DEFAULTS, timezone=timezone)


def _ensure(scheduler: BackgroundScheduler, job_id: str, func: str, trigger: BaseTrigger, name: str) -> None:
    """Add the job unless the store has it; keep its stored next run (that is what makes a
    missed run happen on start); reschedule only when the trigger itself changed."""
    job = scheduler.get_job(job_id)
    if job is None:
        scheduler.add_job(func, trigger, id=job_id, kwargs={"name": name})
    elif str(job.trigger) != str(trigger):
        job.reschedule(trigger)


class ReportScheduler:
    """Runs the monthly report job (and retries) for one ReportService, while holding the lease.

    Args:
        service: The report service.
        engine: Database engine holding the job and lease tables.
        name: Registry name of the service (one per process is the norm).
        retry_seconds: How often failed copies are looked at (default from the settings).
        lease_seconds: Lease time (default from the settings).
    """

    def __init__(
        self,
        service: ReportService,
        engine: Engine,
        name: str = "default",
        retry_seconds: float | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        """Prepare (does not start)."""
        settings = service.settings
        self.service = service
        self.engine = engine
        self.name = name
        self.timezone = settings.report_timezone
        self.scheduler = make_scheduler(engine, self.timezone)
        self.retry_seconds = retry_seconds or settings.report_retry_seconds
        self.lease = timedelta(seconds=lease_seconds or settings.report_scheduler_lease_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._held_until = datetime.min.replace(tzinfo=UTC)

    @property
    def leading(self) -> bool:
        """Whether this instance holds the lease and runs the jobs."""
        return self.scheduler.running

    def monthly_trigger(self) -> CronTrigger:
        """The cron trigger of the monthly mail (``SLOAPI_REPORT_CRON`` in the report zone)."""
        return CronTrigger.from_crontab(self.service.settings.report_cron, timezone=self.timezone)

    def start(self) -> None:
        """Take part in the lease; the jobs run (overdue stored jobs now, once) while it is held."""
        _SERVICES[self.name] = self.service
        self._stop.clear()
        self._tick()
        self._thread = threading.Thread(target=self._loop, name="report-lease", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            self._tick()

    def _tick(self) -> None:
        """Take or renew the lease; start or stop the jobs accordingly.

        While the store cannot be reached (a failover), the holder keeps its jobs until its
        own lease would have run out, then stops them: by then another instance may hold it.
        """
        now = datetime.now(UTC)
        try:
            with self.service.sessions() as session:
                held = take_lease(session, LEASE, self.service.owner, now, self.lease)
        except Exception as exc:  # a store outage must not end the lease loop
            log.warning("report scheduler lease: %s", exc)
            held = now < self._held_until
        else:
            self._held_until = now + self.lease if held else now
        if held and not self.scheduler.running:
            log.info("report scheduler: %s holds the lease, jobs start", self.service.owner)
            self._start_jobs()
        elif not held and self.scheduler.running:
            log.info("report scheduler: %s lost the lease, jobs stop", self.service.owner)
            self.scheduler.shutdown(wait=False)
            self.scheduler = make_scheduler(self.engine, self.timezone)

    def _start_jobs(self) -> None:
        self.scheduler.start()
        _ensure(self.scheduler, MONTHLY_JOB, f"{__name__}:run_monthly", self.monthly_trigger(), self.name)
        _ensure(
            self.scheduler,
            RETRY_JOB,
            f"{__name__}:run_retries",
            IntervalTrigger(seconds=self.retry_seconds, timezone=self.timezone),
            self.name,
        )

    @classmethod
    def start_for(cls, service: ReportService, engine: Engine) -> ReportScheduler | None:
        """Start the jobs of `service` when its report has any recipient (else None)."""
        if not service.recipients():
            log.info("reports: no recipients configured, monthly mail not scheduled")
            return None
        scheduler = cls(service, engine)
        scheduler.start()
        return scheduler

    def shutdown(self) -> None:
        """Stop, waiting for a running job to finish, and release the lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
            try:
                with self.service.sessions() as session:
                    release_lease(session, LEASE, self.service.owner)
            except Exception as exc:
                log.warning("report scheduler: lease not released: %s", exc)
        _SERVICES.pop(self.name, None)
