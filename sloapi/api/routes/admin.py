"""`/api/v1/reload`: re-read the spec directory (token required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sloapi.api.deps import CtxDep, require_token
from sloapi.api.schemas import Reloaded

router = APIRouter(prefix="/api/v1", tags=["admin"])


@router.post("/reload", dependencies=[Depends(require_token)], response_model=Reloaded)
def reload_specs(ctx: CtxDep) -> dict[str, Any]:
    """Reload the specs; an invalid spec keeps the old set and answers 422 naming it.

    Statuses: 200; 401/403 token; 422 invalid spec.
    """
    return {"slos": ctx.reload()}
