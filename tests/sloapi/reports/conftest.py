"""Fixtures of the report tests: a Prometheus with two known months, services on SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import report_history as hist
from report_history import Clock

from sloapi.config import Settings
from sloapi.prometheus import PromClient
from sloapi.reports.delivery import RetryPolicy
from sloapi.reports.mail import Mailer
from sloapi.reports.service import ReportService
from sloapi.specs import load_dir
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade


@pytest.fixture(scope="session")
def known_history() -> hist.History:
    """The history's ground truth."""
    return hist.build()


@pytest.fixture(scope="session")
def report_prometheus(prometheus_history, known_history):  # type: ignore[no-untyped-def]
    """A real Prometheus serving the known history."""
    return prometheus_history("reports", hist.series(known_history))


@pytest.fixture(scope="session")
def specs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the history's Sloth specs."""
    path = tmp_path_factory.mktemp("report-specs")
    (path / "slos.yml").write_text(hist.SPECS, encoding="utf-8")
    return path


@pytest.fixture
def make_service(
    tmp_path: Path, report_prometheus, specs_dir: Path
) -> Iterator[Callable[..., ReportService]]:  # type: ignore[no-untyped-def]
    """Factory of ReportService on one SQLite database per test (migrated to head)."""
    db_url = f"sqlite:///{tmp_path / 'sloapi.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    clients: list[PromClient] = []

    def make(
        clock: Callable[[], datetime] | None = None,
        mailer: Mailer | None = None,
        retry: RetryPolicy | None = None,
        owner: str = "test-1",
        **overrides: object,
    ) -> ReportService:
        values: dict[str, object] = {
            "prometheus_url": report_prometheus.url,
            "database_url": db_url,
            "slos_dir": specs_dir,
            "report_timezone": "Europe/Paris",
            "report_recipients": ["ops@example.com"],
            "mail_from": "nines@example.com",
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        prom = PromClient.from_settings(settings)
        clients.append(prom)
        return ReportService(
            settings=settings,
            specs=load_dir(specs_dir),
            prom=prom,
            sessions=make_session_factory(engine),
            clock=clock or Clock(),
            mailer=mailer,
            retry=retry or RetryPolicy(attempts=2, backoff_seconds=0.01),
            owner=owner,
        )

    yield make
    for client in clients:
        client.close()
    engine.dispose()
