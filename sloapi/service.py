"""The objects one running service shares: settings, specs, Prometheus client, database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sloapi.config import Settings
from sloapi.deadline import Deadline
from sloapi.engine.durations import parse_duration
from sloapi.errors import UnknownSLOError, WindowError
from sloapi.prometheus import PromClient, QueryBatch
from sloapi.reports.scheduler import ReportScheduler
from sloapi.reports.service import ReportService
from sloapi.specs import SLOSpec, Window, load_dir, parse_window
from sloapi.status import StatusOptions, compute_status, recorded_statuses
from sloapi.status.limits import check_window_bounds, check_window_start
from sloapi.storage.db import make_engine, make_session_factory


def utcnow() -> datetime:
    """The current time, aware, UTC."""
    return datetime.now(UTC)


@dataclass
class ServiceContext:
    """Everything a request or a job of the service needs; built once per app."""

    settings: Settings
    specs: dict[str, SLOSpec]
    prom: PromClient
    db_engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    report_scheduler: ReportScheduler | None = None
    _recent: tuple[datetime, list[dict[str, Any]]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        prom: PromClient | None = None,
    ) -> ServiceContext:
        """Load the specs (raises SpecError on any invalid one) and create the clients."""
        specs = {spec.id: spec for spec in load_dir(settings.slos_dir)}
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            specs=specs,
            prom=prom or PromClient.from_settings(settings),
            db_engine=engine,
            sessions=make_session_factory(engine),
            clock=clock,
        )

    def close(self) -> None:
        """Stop the report scheduler, release the Prometheus client and the database pool."""
        if self.report_scheduler is not None:
            self.report_scheduler.shutdown()
            self.report_scheduler = None
        self.prom.close()
        self.db_engine.dispose()

    def reports(self, deadline: Deadline | None = None) -> ReportService:
        """The report service over the shared objects (specs as currently loaded); its
        Prometheus reads end by `deadline` (none: each by the client's timeout)."""
        return ReportService(
            settings=self.settings,
            specs=list(self.specs.values()),
            prom=self.prom,
            sessions=self.sessions,
            clock=self.clock,
            deadline=deadline,
        )

    def start_report_scheduler(self) -> None:
        """Run the monthly report job while the service runs, when the report has a recipient."""
        self.report_scheduler = ReportScheduler.start_for(self.reports(), self.db_engine)

    def reload(self) -> int:
        """Re-read the spec directory (all or nothing); returns the number of SLOs."""
        specs = {spec.id: spec for spec in load_dir(self.settings.slos_dir)}
        with self._lock:
            self.specs = specs
        return len(specs)

    def spec(self, slo_id: str) -> SLOSpec:
        """The spec with this id.

        Raises:
            UnknownSLOError: no such SLO.
        """
        try:
            return self.specs[slo_id]
        except KeyError:
            raise UnknownSLOError(f"no SLO with id {slo_id!r}") from None

    def options(self) -> StatusOptions:
        """Computation options from the settings."""
        return StatusOptions(step_seconds=self.settings.raw_step_seconds, missing=self.settings.missing_data)

    def deadline(self) -> Deadline:
        """A new request's deadline (`request_deadline_seconds` from now)."""
        return Deadline.after(self.settings.request_deadline_seconds)

    def window_for(
        self, spec: SLOSpec, window: str | None, at: datetime | None = None, deadline: Deadline | None = None
    ) -> Window:
        """The window asked for, or the spec's own.

        A window asked for must fit `max_window` and, when `at` is given, Prometheus's retention
        (the spec's own window is always computed: its coverage shows what the retention lacks).

        Raises:
            WindowError: invalid window text, or a window beyond a limit (named).
        """
        if window is None or window == "":
            if at is not None:
                check_window_start(spec.window, at)
            return spec.window
        parsed = parse_window(window)
        check_window_bounds(parsed, at or self.clock(), self.settings.max_window_seconds())
        if at is not None:
            check_window_start(parsed, at)
            check_window_bounds(
                parsed, at, self.settings.max_window_seconds(), self.prom.retention_start(at, deadline)
            )
        return parsed

    def status(
        self, slo_id: str, window: str | None, at: datetime, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        """Status of one SLO from raw data, by `deadline`."""
        spec = self.spec(slo_id)
        win = self.window_for(spec, window, at, deadline)
        return compute_status(self.prom.batch(deadline), spec, win, at, self.options())

    def recent_statuses(self, max_age_seconds: float) -> list[dict[str, Any]]:
        """Every SLO's current status, reused while younger than `max_age_seconds` (for
        `/metrics`: frequent scrapes must not recompute raw 30-day windows each time)."""
        now = self.clock()
        with self._lock:
            cached = self._recent
        if cached is not None and 0 <= (now - cached[0]).total_seconds() < max_age_seconds:
            return list(cached[1])
        statuses = self.statuses(None, now.replace(microsecond=0), self.deadline())
        with self._lock:
            self._recent = (now, statuses)
        return statuses

    def statuses(
        self, window: str | None, at: datetime, deadline: Deadline | None = None
    ) -> list[dict[str, Any]]:
        """Status of every SLO: from recording rules where they exist (per settings), else raw."""
        specs = list(self.specs.values())
        batch = self.prom.batch(deadline)
        windows = {spec.id: self.window_for(spec, window, at, deadline) for spec in specs}
        mode = self.settings.recording_rules
        # recorded series cover each spec's own rolling window only
        rolling = [
            spec for spec in specs if windows[spec.id].kind == "rolling" and windows[spec.id] == spec.window
        ]
        by_id: dict[str, dict[str, Any]] = {}
        if mode != "never" and rolling:
            by_id = recorded_statuses(batch, rolling, at, require_rules=mode == "auto")
        for spec in specs:
            if spec.id not in by_id:
                by_id[spec.id] = compute_status(batch, spec, windows[spec.id], at, self.options())
        return [by_id[spec.id] for spec in specs]


def check_window_text(window: str | None) -> None:
    """Validate a window query parameter early (raises WindowError)."""
    if window:
        text = window.partition("@")[0]
        if text not in ("month", "week"):
            parse_duration(text)
        parse_window(window)


__all__ = ["QueryBatch", "ServiceContext", "WindowError", "check_window_text", "utcnow"]
