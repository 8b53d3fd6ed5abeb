"""The monthly mail on a schedule: APScheduler 3 cron job kept in the database.

The job store is the ``report_scheduler_jobs`` table, so a job's next run time survives
restarts: a service that was down when the report was due finds the job overdue on start and
runs it once (``misfire_grace_time=None``: however late; ``coalesce``: once for all missed
runs). Deliveries are claimed per (month, recipient), so a run after the mail went out, or a
second instance running the same job, sends nothing.
"""

from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from sloapi.reports.service import ReportService
from sloapi.storage.report_tables import SCHEDULER_JOBS_TABLE

log = logging.getLogger(__name__)

MONTHLY_JOB = "monthly-report"
RETRY_JOB = "report-retries"
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
    """Runs the monthly report job (and retries) for one ReportService.

    Args:
        service: The report service.
        engine: Database engine holding the job table.
        name: Registry name of the service (one per process is the norm).
        retry_seconds: How often failed copies are looked at.
    """

    def __init__(
        self, service: ReportService, engine: Engine, name: str = "default", retry_seconds: int = 300
    ) -> None:
        """Prepare (does not start)."""
        self.service = service
        self.name = name
        self.timezone = service.settings.report_timezone
        self.scheduler = make_scheduler(engine, self.timezone)
        self.retry_seconds = retry_seconds

    def monthly_trigger(self) -> CronTrigger:
        """The cron trigger of the monthly mail (``SLOAPI_REPORT_CRON`` in the report zone)."""
        return CronTrigger.from_crontab(self.service.settings.report_cron, timezone=self.timezone)

    def start(self) -> None:
        """Start; overdue stored jobs run now, once."""
        _SERVICES[self.name] = self.service
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
        """Stop, waiting for a running job to finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        _SERVICES.pop(self.name, None)
