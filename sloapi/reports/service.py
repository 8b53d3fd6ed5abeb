"""The report service: compute or serve a month, keep snapshots, mail the report once."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from sloapi.config import Settings
from sloapi.deadline import Deadline
from sloapi.engine.exclusions import Exclusion
from sloapi.prometheus import PromClient
from sloapi.reports.charts import render_charts
from sloapi.reports.compute import ReportOptions
from sloapi.reports.delivery import (
    ALREADY_SENT,
    SENT,
    Claim,
    Outcome,
    RetryPolicy,
    claim,
    delivery_counts,
    due_retries,
    list_deliveries,
    send_claimed,
)
from sloapi.reports.errors import AlreadyDeliveredError, MonthError
from sloapi.reports.exclusions import exclusions_added
from sloapi.reports.mail import Mailer, SMTPMailer, build_message
from sloapi.reports.model import MonthReport, PolicyOverride
from sloapi.reports.month import Month, last_closed_month, parse_month
from sloapi.reports.source import judge_month
from sloapi.reports.summary import assemble_report, summarise
from sloapi.specs.model import SLOSpec
from sloapi.storage import report_snapshots as store
from sloapi.storage.audit import list_overrides, override_json
from sloapi.storage.outage import read_with_retry
from sloapi.storage.report_tables import ReportDelivery

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def mailer_from_settings(settings: Settings) -> SMTPMailer:
    """The SMTP mailer the settings describe."""
    return SMTPMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_secret(),
        timeout=settings.smtp_timeout_seconds,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    """The SMTP retry policy the settings describe."""
    return RetryPolicy(
        lease_seconds=settings.report_claim_lease_seconds,
        unconfirmed_copies=settings.report_unconfirmed_copies,
        unconfirmed_seconds=settings.report_unconfirmed_retry_seconds,
    )


def restrict(report: MonthReport, slo_ids: Iterable[str]) -> MonthReport:
    """The report limited to ``slo_ids`` (summary recomputed), for per-SLO recipients."""
    wanted = set(slo_ids)
    slos = [slo for slo in report.slos if slo.id in wanted]
    return report.model_copy(update={"slos": slos, "summary": summarise(slos)})


@dataclass
class ReportService:
    """Everything the CLI, the API and the scheduler do with monthly reports.

    Attributes:
        settings: Service settings (time zone, grace, SMTP, recipients, incident knobs).
        specs: The SLOs.
        prom: Prometheus client (None: only stored snapshots can be served).
        sessions: Database sessions (tables of migration ``0002_reports``).
        clock: Current time, aware.
        mailer: Sends mail (default: SMTP from the settings).
        retry: SMTP retry policy.
        owner: This instance's name in delivery claims.
        exclusions: The maintenance windows declared now (file and API), left out of the SLIs.
        deadline: When Prometheus reads must end (one per API request; None: each read by the
            client's timeout).
    """

    settings: Settings
    specs: Sequence[SLOSpec]
    prom: PromClient | None
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = _utcnow
    mailer: Mailer | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    exclusions: Callable[[], Sequence[Exclusion]] = tuple
    deadline: Deadline | None = None

    @property
    def grace(self) -> timedelta:
        """How long after its end a month becomes final."""
        return timedelta(seconds=self.settings.report_grace_seconds)

    def parse(self, text: str) -> Month:
        """Parse ``YYYY-MM`` in the report time zone; refuses malformed or future months."""
        return parse_month(text, self.settings.report_timezone, now=self.clock())

    def options(self, now: datetime) -> ReportOptions:
        """Report maths options from the settings."""
        retention = self.prom.retention_start(now, self.deadline) if self.prom is not None else None
        return ReportOptions(
            step=timedelta(seconds=self.settings.raw_step_seconds),
            incident_burn_rate=self.settings.report_incident_burn_rate,
            incident_merge_gap=timedelta(seconds=self.settings.report_incident_merge_gap_seconds),
            retention_start=retention,
            exclusions=tuple(self.exclusions()),
        )

    def compute(self, month: Month) -> MonthReport:
        """Compute ``month`` from Prometheus now (no snapshot involved)."""
        if self.prom is None:
            raise MonthError(f"no snapshot of {month.key} and no Prometheus to compute it from")
        now = self.clock()
        options = self.options(now)
        before = read_with_retry(
            self.sessions, lambda session: store.latest_snapshot(session, month.previous().key, month.tz)
        )
        overrides = read_with_retry(
            self.sessions,
            lambda session: [override_json(row) for row in list_overrides(session, month.start, month.end)],
        )
        previous = {slo.id: slo for slo in MonthReport.model_validate(before[1]).slos} if before else {}
        judged = judge_month(self.prom.batch(self.deadline), self.specs, month, now, options, previous)
        report = assemble_report(month, judged.slos, now, options, warnings=judged.warnings)
        return report.model_copy(update={"overrides": [PolicyOverride(**o) for o in overrides]})

    def report(
        self, month: Month, refresh: bool = False, keep: bool = True
    ) -> tuple[MonthReport, int | None]:
        """The month's report and its snapshot id.

        A closed month (end + grace passed) is served from its newest snapshot; without one it is
        computed, and kept when ``keep`` (mailing keeps it; reads do not, so a read has no side
        effect and the id is None). ``refresh`` computes a new snapshot and keeps the old ones. A
        month not yet final is computed live and never kept (snapshot id None). An exclusion
        window declared after the snapshot recomputes an unsent month (kept under the same rule);
        a sent one stays as sent and lists the windows in ``changes_since_sent``.
        """
        now = self.clock()
        if not month.is_closed(now, self.grace):
            return self.compute(month), None
        found = None
        if not refresh:
            found = read_with_retry(
                self.sessions, lambda session: store.latest_snapshot(session, month.key, month.tz)
            )
        if found is not None:
            kept = MonthReport.model_validate(found[1])
            added = exclusions_added(kept, self.exclusions(), month)
            if not added:
                return kept, found[0]
            if any(row.status == SENT for row in self.deliveries(month)):
                return kept.model_copy(update={"changes_since_sent": added}), found[0]
        report = self.compute(month)
        if not keep and not refresh:
            return report, None
        with self.sessions() as session:
            snapshot_id = store.save_snapshot(
                session,
                month=report.month,
                timezone=report.timezone,
                generated_at=report.generated_at,
                partial=report.partial,
                payload=report.model_dump(mode="json"),
            )
        return report, snapshot_id

    def recipients(self, to: Sequence[str] = ()) -> dict[str, set[str] | None]:
        """Address -> SLO ids it gets (None: all). ``to`` overrides the configured recipients."""
        if to:
            return {address: None for address in to}
        wanted: dict[str, set[str] | None] = {a: None for a in self.settings.report_recipients}
        teams = self.settings.team_recipients
        for spec in self.specs:
            for address in (*spec.recipients, *teams.get(spec.labels.get("team", ""), ())):
                current = wanted.setdefault(address, set())
                if current is not None:
                    current.add(spec.id)
        return wanted

    def send(self, month: Month, to: Sequence[str] = (), force: bool = False) -> list[Outcome]:
        """Mail the month's report to each recipient at most once (``force`` sends again).

        Raises:
            MonthError: The month is not final yet.
        """
        now = self.clock()
        if not month.is_closed(now, self.grace):
            final = month.end + self.grace
            raise MonthError(f"{month.key} is not final before {final:%Y-%m-%d %H:%M} UTC; not sending")
        return self._send_to(month, self.recipients(to), force)

    def _send_to(self, month: Month, wanted: dict[str, set[str] | None], force: bool) -> list[Outcome]:
        """Claim every recipient's copy first (committed), then send the claimed ones: an
        instance dying half-way leaves claims that another instance retries after the lease."""
        report, snapshot_id = self.report(month)
        claims = {address: self._claim(month.key, address, snapshot_id, force) for address in wanted}
        charts = render_charts(report.slos)
        outcomes = []
        for address, slo_ids in wanted.items():
            claimed = claims[address]
            if isinstance(claimed, Outcome):
                outcomes.append(claimed)
                continue
            copy = report if slo_ids is None else restrict(report, slo_ids)
            outcomes.append(self._send_claimed(copy, charts, address, claimed))
        return outcomes

    def _claim(self, month: str, address: str, snapshot_id: int | None, force: bool) -> Claim | Outcome:
        try:
            return claim(
                self.sessions,
                month,
                address,
                now=self.clock(),
                owner=self.owner,
                snapshot_id=snapshot_id,
                force=force,
                policy=self.retry,
            )
        except AlreadyDeliveredError as exc:
            return Outcome(address, ALREADY_SENT, str(exc))

    def _send_claimed(
        self, report: MonthReport, charts: dict[str, bytes], address: str, claimed: Claim
    ) -> Outcome:
        def build(msg_id: str) -> EmailMessage:
            return build_message(
                report, charts, sender=self.settings.mail_from, recipient=address, msg_id=msg_id
            )

        mailer = self.mailer or mailer_from_settings(self.settings)
        return send_claimed(self.sessions, claimed, build, mailer, now=self.clock, policy=self.retry)

    def scheduled(self) -> list[Outcome]:
        """The cron job: mail the month just closed to everyone who has not had it."""
        month = last_closed_month(self.clock(), self.settings.report_timezone)
        try:
            outcomes = self.send(month)
        except MonthError as exc:
            log.warning("scheduled report: %s", exc)
            return []
        sent = [o for o in outcomes if o.status == "sent"]
        log.info("scheduled report %s: %d sent of %d recipients", month.key, len(sent), len(outcomes))
        return outcomes

    def retry_failed(self) -> list[Outcome]:
        """Retry every failed, unconfirmed or orphaned copy whose time has come (same snapshot
        and Message-ID as the first try)."""
        outcomes = []
        for row in due_retries(self.sessions, self.clock(), self.retry):
            with self.sessions() as session:
                payload = store.load_snapshot(session, row.snapshot_id) if row.snapshot_id else None
            if payload is None:
                payload = self.report(self.parse(row.month))[0].model_dump(mode="json")
            report = MonthReport.model_validate(payload)
            slo_ids = self.recipients().get(row.recipient)
            copy = report if slo_ids is None else restrict(report, slo_ids)
            claimed = self._claim(row.month, row.recipient, row.snapshot_id, False)
            if isinstance(claimed, Outcome):
                outcomes.append(claimed)
                continue
            outcomes.append(self._send_claimed(copy, render_charts(copy.slos), row.recipient, claimed))
        return outcomes

    def deliveries(self, month: Month) -> list[ReportDelivery]:
        """Delivery rows of ``month``."""
        return list_deliveries(self.sessions, month.key)

    def delivery_counts(self) -> dict[str, int]:
        """Delivery rows per status, every month (``sending``, ``sent``, ``failed``, ``unconfirmed``)."""
        return delivery_counts(self.sessions)
