"""Builds the FastAPI app: `create_app(settings)`; `app` for ASGI servers (`sloapi.main:app`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from sloapi.api.errors import install_error_handlers
from sloapi.api.routes import admin, health, metrics, slos
from sloapi.api.telemetry import RequestMetrics
from sloapi.config import Settings, get_settings
from sloapi.prometheus import PromClient
from sloapi.reports import app as reports_app
from sloapi.service import ServiceContext, utcnow
from sloapi.storage.db import mask_url
from sloapi.storage.migrate import upgrade

log = logging.getLogger("sloapi")

#: Modules whose `install(app)` adds routes / start-up work.
APP_EXTENSIONS = (reports_app,)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    prom: PromClient | None = None,
) -> FastAPI:
    """Build the app. Specs are loaded and migrations run at start-up (lifespan); an invalid
    spec or setting stops the start with a message naming it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg = settings or get_settings()
        ctx = ServiceContext.build(cfg, clock=clock, prom=prom)
        ctx.extras["request_metrics"] = telemetry
        log.info(
            "sloapi: %d SLOs from %s, Prometheus %s, database %s",
            len(ctx.specs),
            cfg.slos_dir,
            cfg.prometheus_url,
            mask_url(cfg.database_url),
        )
        upgrade(ctx.db_engine)
        app.state.ctx = ctx
        try:
            async with _run_hooks(app):
                yield
        finally:
            ctx.close()

    app = FastAPI(
        title="nines SLO service",
        version="0.1.0",
        description="Error budgets, burn rates and time to exhaustion for SLO specs.",
        lifespan=lifespan,
    )
    app.state.startup_hooks = []
    telemetry = RequestMetrics()
    telemetry.install(app)
    install_error_handlers(app)
    for router in (slos.router, admin.router, health.router, metrics.router):
        app.include_router(router)
    for extension in APP_EXTENSIONS:
        extension.install(app)
    return app


@asynccontextmanager
async def _run_hooks(app: FastAPI) -> AsyncIterator[None]:
    """Run the async context managers extensions put in `app.state.startup_hooks`."""
    hooks = list(app.state.startup_hooks)
    entered = []
    try:
        for hook in hooks:
            manager = hook(app)
            await manager.__aenter__()
            entered.append(manager)
        yield
    finally:
        for manager in reversed(entered):
            await manager.__aexit__(None, None, None)


def __getattr__(name: str) -> FastAPI:
    """`sloapi.main:app` builds the app lazily from the environment."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
