"""`/api/v1/exclusions`: planned maintenance windows excluded from the SLI and the budget."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from sloapi.api.deps import CtxDep, SessionDep, require_token
from sloapi.api.schemas import ExclusionIn, ExclusionList, ExclusionOut
from sloapi.engine.durations import MAX_DURATION_SECONDS, parse_time
from sloapi.engine.exclusions import Exclusion
from sloapi.errors import WindowError
from sloapi.storage.exclusions import add_exclusion, to_exclusion

router = APIRouter(prefix="/api/v1/exclusions", tags=["exclusions"])


@router.get("", response_model=ExclusionList)
def list_all(
    ctx: CtxDep, slo_id: Annotated[str | None, Query(description="only those of this SLO")] = None
) -> dict[str, Any]:
    """Every exclusion window (spec directory and API), by start. Statuses: 200, 404."""
    if slo_id is not None:
        ctx.spec(slo_id)
        items = list(ctx.exclusions(slo_id))
    else:
        items = ctx.all_exclusions()
    items.sort(key=lambda item: (item.start, item.end, item.source))
    return {"exclusions": [item.as_json() for item in items]}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_token)],
    response_model=ExclusionOut,
)
def declare(body: ExclusionIn, ctx: CtxDep, session: SessionDep) -> dict[str, Any]:
    """Declare a window (retroactive: statuses and unsent reports computed after it exclude it).

    Statuses: 201; 401/403 token; 404 unknown SLO; 422 bad times or end not after start.
    """
    if body.slo_id is not None:
        ctx.spec(body.slo_id)
    now = ctx.clock()
    try:
        start, end = parse_time(body.start, now, "start"), parse_time(body.end, now, "end")
    except WindowError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if not start < end or (end - start).total_seconds() > MAX_DURATION_SECONDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "end must be after start, at most 100y later"
        )
    row = add_exclusion(
        session, Exclusion(start, end, body.reason.strip(), body.who.strip(), body.slo_id), now
    )
    ctx.exclusions_changed()
    return to_exclusion(row).as_json()
