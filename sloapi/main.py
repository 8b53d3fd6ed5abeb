"""Builds the FastAPI app: `create_app(settings)`; `app` for ASGI servers (`sloapi.main:app`)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from sloapi.api.errors import install_error_handlers
from sloapi.api.guard import RequestDeadlineGuard
from sloapi.api.routes import admin, backtest, exclusions, health, metrics, policy, reports, slos
from sloapi.api.telemetry import RequestMetrics
from sloapi.config import Settings, get_settings
from sloapi.prometheus import PromClient
from sloapi.prometheus.access import mask_http_url
from sloapi.service import ServiceContext, utcnow
from sloapi.site.app import router as site_router
from sloapi.storage.db import mask_url
from sloapi.storage.migrate import upgrade

log = logging.getLogger("sloapi")

ROUTERS = (
    slos.router,
    exclusions.router,
    policy.router,
    backtest.router,
    reports.router,
    admin.router,
    health.router,
    metrics.router,
    site_router,
)


def settle_heap() -> None:
    """Keep what start-up built (modules, specs, the app: some 200,000 objects) out of the
    cyclic collector's passes until shutdown (`gc.freeze`; `gc.unfreeze` at shutdown).

    A request that builds many objects (1,000 statuses) otherwise sets off a full pass every
    few requests, and each walks all of them: 0.1 s, as long as building the statuses. Start-up
    garbage in cycles, if any, waits for the shutdown (no collection first: 0.1 s per start).
    """
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    prom: PromClient | None = None,
) -> FastAPI:
    """Build the app. At start-up (lifespan) the specs are loaded, migrations run and the
    monthly report scheduler starts; an invalid spec or setting stops the start with a message
    naming it. At shutdown the scheduler stops and the clients close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg = settings or get_settings()
        ctx = ServiceContext.build(cfg, clock=clock, prom=prom)
        log.info(
            "sloapi: %d SLOs from %s, Prometheus %s (%s), database %s",
            len(ctx.specs),
            cfg.slos_dir,
            mask_http_url(cfg.prometheus_url),
            ctx.prom.access.describe(),
            mask_url(cfg.database_url),
        )
        try:
            upgrade(ctx.db_engine)
            ctx.start_report_scheduler()
            app.state.ctx = ctx
            settle_heap()
            yield
        finally:
            gc.unfreeze()
            ctx.close()

    app = FastAPI(
        title="nines SLO service",
        version="0.1.0",
        description="Error budgets, burn rates and time to exhaustion for SLO specs.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: sloapi.site.docs, with local assets
        redoc_url=None,
    )
    app.add_middleware(RequestDeadlineGuard)  # inside the telemetry, which counts its 503s
    app.state.telemetry = RequestMetrics()
    app.state.telemetry.install(app)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def __getattr__(name: str) -> FastAPI:
    """`sloapi.main:app` builds the app lazily from the environment."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
