"""The objects one running service shares: settings, specs, Prometheus client, database."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sloapi.config import Settings
from sloapi.deadline import Deadline
from sloapi.engine.exclusions import Exclusion
from sloapi.errors import UnknownSLOError, WindowError
from sloapi.prometheus import PromClient, QueryBatch
from sloapi.reports.scheduler import ReportScheduler
from sloapi.reports.service import ReportService, retry_policy
from sloapi.specs import SLOSpec, Window, load_dir, parse_window
from sloapi.specs.exclusions import load_dir_exclusions
from sloapi.status import StatusOptions, compute_explain, compute_status, recorded_statuses
from sloapi.status.limits import check_window_bounds, check_window_start
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.exclusions import list_exclusions


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
    file_exclusions: list[Exclusion] = field(default_factory=list)
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
            file_exclusions=load_dir_exclusions(settings.slos_dir, set(specs)),
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
            retry=retry_policy(self.settings),
            owner=f"{self.settings.instance_name}:{os.getpid()}",
            exclusions=self.all_exclusions,
            deadline=deadline,
        )

    def start_report_scheduler(self) -> None:
        """Run the monthly report job while the service runs, when the report has a recipient."""
        self.report_scheduler = ReportScheduler.start_for(self.reports(), self.db_engine)

    def reload(self) -> int:
        """Re-read the spec directory (all or nothing); returns the number of SLOs."""
        specs = {spec.id: spec for spec in load_dir(self.settings.slos_dir)}
        exclusions = load_dir_exclusions(self.settings.slos_dir, set(specs))
        with self._lock:
            self.specs = specs
            self.file_exclusions = exclusions
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

    def stored_exclusions(self) -> list[Exclusion]:
        """The exclusion windows declared through the API."""
        with self.sessions() as session:
            return list_exclusions(session)

    def all_exclusions(self) -> list[Exclusion]:
        """Every exclusion window: declared in the spec directory or through the API."""
        return [*self.file_exclusions, *self.stored_exclusions()]

    def exclusions(self, slo_id: str) -> tuple[Exclusion, ...]:
        """The exclusion windows of one SLO."""
        return tuple(item for item in self.all_exclusions() if item.applies_to(slo_id))

    def exclusions_changed(self) -> None:
        """A window was declared: forget the statuses cached for `/metrics` (reports recompute
        unsent months when next asked, see `ReportService.report`)."""
        with self._lock:
            self._recent = None

    def options(self, slo_id: str | None = None) -> StatusOptions:
        """Computation options from the settings (with `slo_id`'s exclusion windows)."""
        return StatusOptions(
            step_seconds=self.settings.raw_step_seconds,
            missing=self.settings.missing_data,
            exclusions=self.exclusions(slo_id) if slo_id else (),
        )

    def deadline(self) -> Deadline:
        """A new request's deadline (`request_deadline_seconds` from now)."""
        return Deadline.after(self.settings.request_deadline_seconds)

    def window_for(
        self, spec: SLOSpec, window: str | None, at: datetime | None = None, deadline: Deadline | None = None
    ) -> Window:
        """The window asked for (calendar windows in the report time zone unless named), or the
        spec's own.

        A window asked for must fit `max_window` and, when `at` is given, Prometheus's retention
        (the spec's own window is always computed: its coverage shows what the retention lacks).

        Raises:
            WindowError: invalid window text, or a window beyond a limit (named).
        """
        if window is None or window == "":
            if at is not None:
                check_window_start(spec.window, at)
            return spec.window
        parsed = parse_window(window, self.settings.report_timezone)
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
        return compute_status(self.prom.batch(deadline), spec, win, at, self.options(spec.id))

    def explain(
        self, slo_id: str, window: str | None, at: datetime, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        """Where one SLO's budget went over the window (`compute_explain`), by `deadline`."""
        spec = self.spec(slo_id)
        win = self.window_for(spec, window, at, deadline)
        return compute_explain(self.prom.batch(deadline), spec, win, at, self.options(spec.id))

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
        # and know nothing of exclusion windows: an SLO with one in its window is computed raw
        every = self.all_exclusions()
        own = {spec.id: overlapping(every, spec.id, windows[spec.id], at) for spec in specs}
        rolling = [
            spec
            for spec in specs
            if windows[spec.id].kind == "rolling" and windows[spec.id] == spec.window and not own[spec.id]
        ]
        by_id: dict[str, dict[str, Any]] = {}
        if mode != "never" and rolling:
            by_id = recorded_statuses(batch, rolling, at, require_rules=mode == "auto")
        for spec in specs:
            if spec.id not in by_id:
                options = replace(self.options(), exclusions=own[spec.id])
                by_id[spec.id] = compute_status(batch, spec, windows[spec.id], at, options)
        return [by_id[spec.id] for spec in specs]


def declared_exclusions(
    slos_dir: Path, sessions: sessionmaker[Session], known: set[str]
) -> Callable[[], list[Exclusion]]:
    """For commands: the exclusion files of `slos_dir` read now (raises SpecError) and a function
    giving them with those stored through the API."""
    declared = load_dir_exclusions(slos_dir, known)

    def every() -> list[Exclusion]:
        with sessions() as session:
            return [*declared, *list_exclusions(session)]

    return every


def overlapping(every: list[Exclusion], slo_id: str, window: Window, at: datetime) -> tuple[Exclusion, ...]:
    """The exclusions of `slo_id` that overlap `window` at `at`."""
    start, _end = window.bounds(at)
    return tuple(item for item in every if item.applies_to(slo_id) and item.end > start and item.start < at)


def check_window_text(window: str | None) -> None:
    """Validate a window query parameter early (raises WindowError)."""
    if window is not None:
        parse_window(window)


__all__ = ["QueryBatch", "ServiceContext", "WindowError", "check_window_text", "utcnow"]
