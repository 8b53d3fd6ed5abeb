"""`/api/v1/slos`: SLOs with their status, budget burn-down and stored snapshots."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import AtDep, CtxDep, DeadlineDep, SessionDep, WindowDep, require_token
from sloapi.api.schemas import (
    BudgetExplain,
    BudgetSeries,
    SLODetail,
    SLOList,
    SLOStatus,
    SnapshotList,
    StoredStatus,
)
from sloapi.engine.durations import parse_duration
from sloapi.specs import EventsSLI, SLOSpec
from sloapi.status import check_step, compute_budget_series, window_span
from sloapi.storage.outage import read_with_retry, store_errors
from sloapi.storage.status_snapshots import keep_status, list_statuses

router = APIRouter(prefix="/api/v1/slos", tags=["slos"])


def spec_json(spec: SLOSpec) -> dict[str, Any]:
    """The spec as JSON."""
    sli: dict[str, Any] = (
        {"events": {k: v for k, v in asdict(spec.sli).items() if v is not None}}
        if isinstance(spec.sli, EventsSLI)
        else {"raw": asdict(spec.sli)}
    )
    return {
        "id": spec.id,
        "service": spec.service,
        "name": spec.name,
        "description": spec.description,
        "objective": spec.objective.ratio,
        "objective_percent": str(spec.objective.percent),
        "window": spec.window.name,
        "labels": spec.labels,
        "sli": sli,
        "recipient_count": len(spec.recipients),  # the addresses only behind the token (deliveries)
        "source": spec.source,
    }


@router.get("", response_class=JSONResponse, response_model=SLOList)
async def list_slos(ctx: CtxDep, at: AtDep, deadline: DeadlineDep, window: WindowDep = None) -> JSONResponse:
    """Every SLO with its current status (from recording rules when present).

    Statuses: 200; 422 bad window or time; 503 Prometheus unreachable or the request deadline passed.
    """
    statuses = await run_in_threadpool(ctx.statuses, window, at, deadline)
    # plain JSON values already (NaN-free): skip the generic encoder, it dominates at 1,000 SLOs
    return JSONResponse({"at": at.isoformat(), "count": len(statuses), "slos": statuses})


@router.get("/{slo_id}", response_model=SLODetail, response_model_exclude_unset=True)
async def get_slo(
    slo_id: str, ctx: CtxDep, at: AtDep, deadline: DeadlineDep, window: WindowDep = None
) -> dict[str, Any]:
    """The spec and status of one SLO. Statuses: 200, 404, 422, 503."""
    spec = ctx.spec(slo_id)
    status_json = await run_in_threadpool(ctx.status, slo_id, window, at, deadline)
    return {"spec": spec_json(spec), "status": status_json}


@router.get("/{slo_id}/status", response_model=SLOStatus, response_model_exclude_unset=True)
async def get_status(
    slo_id: str, ctx: CtxDep, at: AtDep, deadline: DeadlineDep, window: WindowDep = None
) -> dict[str, Any]:
    """Status of one SLO over `window` (default: the spec's) at `at` (default: now).

    Statuses: 200; 404 unknown id; 422 bad window or time; 503 Prometheus unreachable or the
    request deadline passed.
    """
    ctx.spec(slo_id)
    return await run_in_threadpool(ctx.status, slo_id, window, at, deadline)


@router.get("/{slo_id}/budget", response_model=BudgetSeries)
async def get_budget(
    slo_id: str,
    ctx: CtxDep,
    at: AtDep,
    deadline: DeadlineDep,
    window: WindowDep = None,
    step: Annotated[str, Query(description="step of the series, e.g. 1h")] = "1h",
) -> dict[str, Any]:
    """Burn-down series: remaining budget after each step and the ideal line.

    Statuses: 200, 404, 422 (bad window, step or time), 503.
    """
    spec = ctx.spec(slo_id)
    win = await run_in_threadpool(ctx.window_for, spec, window, at, deadline)
    step_seconds = parse_duration(step, "step")
    _start, window_seconds, _span = window_span(win, at)
    check_step(window_seconds, step_seconds)
    exclusions = ctx.exclusions(spec.id)
    return await run_in_threadpool(
        compute_budget_series, ctx.prom.batch(deadline), spec, win, at, step_seconds, exclusions
    )


@router.get("/{slo_id}/budget/explain", response_model=BudgetExplain)
async def explain_budget(
    slo_id: str, ctx: CtxDep, at: AtDep, deadline: DeadlineDep, window: WindowDep = None
) -> dict[str, Any]:
    """Where the budget went: its incidents and, for event SLIs, the error query's label values,
    each with its share of the consumed budget (rows add up to it).

    Statuses: 200, 404, 422 (bad window or time), 503.
    """
    ctx.spec(slo_id)
    return await run_in_threadpool(ctx.explain, slo_id, window, at, deadline)


@router.post(
    "/{slo_id}/snapshots",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_token)],
    response_model=StoredStatus,
    response_model_exclude_unset=True,
)
async def create_snapshot(
    slo_id: str, ctx: CtxDep, session: SessionDep, at: AtDep, deadline: DeadlineDep, window: WindowDep = None
) -> dict[str, Any]:
    """Compute the status at `at` and keep it (the same SLO, window and time is kept once).

    Statuses: 201 stored (or already there); 401/403 token; 404; 422; 503 (Prometheus or the
    database unavailable, or the request deadline passed).
    """
    payload = await run_in_threadpool(ctx.status, slo_id, window, at, deadline)
    with store_errors():
        kept = keep_status(session, slo_id, payload["window"], at, ctx.clock(), payload)
    return {"id": kept.id, "slo_id": slo_id, "at": at.isoformat(), "status": kept.payload}


@router.get("/{slo_id}/snapshots", response_model=SnapshotList, response_model_exclude_unset=True)
def list_snapshots(slo_id: str, ctx: CtxDep) -> dict[str, Any]:
    """Stored snapshots of one SLO, newest first (at most 1,000).

    Statuses: 200, 404, 503 database unavailable (after a second try).
    """
    ctx.spec(slo_id)
    rows = read_with_retry(ctx.sessions, lambda session: list_statuses(session, slo_id))
    return {
        "slo_id": slo_id,
        "snapshots": [
            {"id": r.id, "window": r.window, "at": r.at.isoformat(), "status": r.payload} for r in rows
        ],
    }
