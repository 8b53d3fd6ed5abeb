"""`/api/v1/backtest`: the generated burn-rate alerts replayed over the recorded history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import CtxDep, DeadlineDep
from sloapi.api.schemas_policy import BacktestAnswer, BacktestRequest
from sloapi.deadline import Deadline
from sloapi.engine.durations import parse_time
from sloapi.service import ServiceContext
from sloapi.status.backtest import BacktestOptions, compute_backtest

router = APIRouter(prefix="/api/v1", tags=["backtest"])


def _run(
    ctx: ServiceContext, start: str, end: str, slos: list[str] | None, deadline: Deadline
) -> dict[str, Any]:
    now = ctx.clock()
    lo, hi = parse_time(start, now), parse_time(end, now)
    specs = [ctx.spec(i) for i in slos] if slos else list(ctx.specs.values())
    options = BacktestOptions.from_settings(ctx.settings)
    batch = ctx.prom.batch(deadline)
    return {"slos": [compute_backtest(batch, spec, lo, hi, options) for spec in specs]}


@router.get("/backtest", response_model=BacktestAnswer)
async def get_backtest(
    ctx: CtxDep,
    deadline: DeadlineDep,
    start: Annotated[str, Query(alias="from", description="RFC 3339 or unix seconds")],
    end: Annotated[str, Query(alias="to", description="RFC 3339 or unix seconds")],
    slo: Annotated[list[str] | None, Query(description="SLO id (repeatable; default: all)")] = None,
) -> dict[str, Any]:
    """Per SLO and tier: incidents caught and their detection delay, missed incidents, alerts
    without an incident, time spent firing (at most 100 days).

    Statuses: 200; 404 unknown SLO; 422 bad range or time; 503 Prometheus unreachable.
    """
    return await run_in_threadpool(_run, ctx, start, end, slo, deadline)


@router.post("/backtest", response_model=BacktestAnswer)
async def post_backtest(body: BacktestRequest, ctx: CtxDep, deadline: DeadlineDep) -> dict[str, Any]:
    """The same as `GET /api/v1/backtest` with a JSON body `{"from", "to", "slos"}`; nothing is
    stored. Statuses: 200, 404, 422, 503."""
    return await run_in_threadpool(_run, ctx, body.start, body.end, body.slos, deadline)
