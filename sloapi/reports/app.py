"""Hooks the reports into the SLO service's app: the routes and the scheduler's life cycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sloapi.api.routes.reports import router
from sloapi.reports.scheduler import ReportScheduler
from sloapi.reports.service import ReportService
from sloapi.service import ServiceContext

log = logging.getLogger(__name__)


def report_service(ctx: ServiceContext) -> ReportService:
    """A ReportService over the app's shared objects (specs as currently loaded)."""
    return ReportService(
        settings=ctx.settings,
        specs=list(ctx.specs.values()),
        prom=ctx.prom,
        sessions=ctx.sessions,
        clock=ctx.clock,
    )


@asynccontextmanager
async def scheduler_hook(app: FastAPI) -> AsyncIterator[None]:
    """Run the monthly report job while the app runs, when the report has any recipient."""
    ctx: ServiceContext = app.state.ctx
    service = report_service(ctx)
    if not service.recipients():
        log.info("reports: no recipients configured, monthly mail not scheduled")
        yield
        return
    scheduler = ReportScheduler(service, ctx.db_engine)
    scheduler.start()
    ctx.extras["report_scheduler"] = scheduler
    try:
        yield
    finally:
        scheduler.shutdown()


def install(app: FastAPI) -> None:
    """Add the report routes and the scheduler hook to the app."""
    app.include_router(router)
    app.state.startup_hooks.append(scheduler_hook)
