"""`/healthz` (alive) and `/readyz` (Prometheus, specs and database reachable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import CtxDep
from sloapi.api.schemas import Alive, Readiness
from sloapi.service import ServiceContext

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Alive)
def healthz() -> dict[str, str]:
    """The process is alive. Status: 200."""
    return {"status": "ok"}


def _checks(ctx: ServiceContext) -> dict[str, Any]:
    checks: dict[str, Any] = {"specs": len(ctx.specs) > 0, "prometheus": ctx.prom.ready()}
    try:
        with ctx.db_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        checks["database"] = False
    return checks


@router.get(
    "/readyz",
    response_class=JSONResponse,
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
)
async def readyz(ctx: CtxDep) -> JSONResponse:
    """Ready when Prometheus answers, specs are loaded and the database answers.

    Statuses: 200 ready, 503 not ready (the body says which check failed).
    """
    checks = await run_in_threadpool(_checks, ctx)
    ready = all(checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not ready", "checks": checks},
    )
