"""`/api/v1/slos/{id}/policy` and `/api/v1/gate`: the error-budget policy and the deploy gate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import AtDep, CtxDep, DeadlineDep, SessionDep, SettingsDep, get_at, require_token
from sloapi.api.schemas_policy import GateAnswer, GateRequest, OverrideList, SLOPolicy
from sloapi.deadline import Deadline
from sloapi.engine.durations import parse_time
from sloapi.service import ServiceContext
from sloapi.specs import SLOSpec
from sloapi.status.policy import decision_json, policy_json, service_gate
from sloapi.storage.audit import list_overrides, override_json, record_override

router = APIRouter(prefix="/api/v1", tags=["policy"])


def _status_of(ctx: ServiceContext, at: Any, deadline: Deadline) -> Any:
    def status_of(spec: SLOSpec) -> dict[str, Any]:
        return ctx.status(spec.id, None, at, deadline)

    return status_of


@router.get("/slos/{slo_id}/policy", response_model=SLOPolicy)
async def get_policy(slo_id: str, ctx: CtxDep, at: AtDep, deadline: DeadlineDep) -> dict[str, Any]:
    """`ok`, `warn` or `freeze` from the budget left over the SLO's window, with the reason.

    Statuses: 200; 404 unknown id; 422 bad time; 503 Prometheus unreachable.
    """
    spec = ctx.spec(slo_id)
    status_json = await run_in_threadpool(ctx.status, slo_id, None, at, deadline)
    return policy_json(spec, status_json)


@router.post(
    "/gate",
    response_model=GateAnswer,
    responses={409: {"model": GateAnswer, "description": "refused by the error-budget policy"}},
)
async def post_gate(
    body: GateRequest,
    ctx: CtxDep,
    settings: SettingsDep,
    session: SessionDep,
    deadline: DeadlineDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Any:
    """May a change of kind `change` go to `service` now? Every SLO of the service is judged
    over its own window by its own policy.

    An `override` (who, why) needs the API token; it lets a refused change through and is
    recorded in the audit (never deleted), listed in the month's report.

    Statuses: 200 go ahead (or overridden); 409 refused, with the reasons; 401/403 override
    without a valid token; 404 no SLO of the service; 422 bad body; 503 Prometheus unreachable.
    """
    if body.override is not None:
        require_token(settings, authorization)
    at = get_at(ctx)
    decision = await run_in_threadpool(
        service_gate, list(ctx.specs.values()), body.service, body.change, _status_of(ctx, at, deadline)
    )
    answer = decision_json(body.service, body.change, decision)
    if decision.allowed:
        return answer
    if body.override is None:
        return JSONResponse(
            GateAnswer(**answer).model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT
        )
    row = record_override(
        session,
        at=ctx.clock(),
        actor=body.override.by,
        reason=body.override.reason,
        service=body.service,
        change=body.change,
        state=decision.state,
        refusals=decision.reasons,
    )
    return {**answer, "overridden": True, "override_id": row.id}


@router.get("/gate/overrides", response_model=OverrideList)
def get_overrides(
    ctx: CtxDep,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or unix seconds")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or unix seconds")] = None,
) -> dict[str, Any]:
    """The recorded overrides, oldest first (at most 1,000). Statuses: 200; 422 bad time."""
    now = ctx.clock()
    lo = parse_time(start, now) if start else None
    hi = parse_time(end, now) if end else None
    rows = [override_json(r) for r in list_overrides(session, lo, hi)]
    return {"overrides": [{**r, "at": r["at"].isoformat()} for r in rows]}
