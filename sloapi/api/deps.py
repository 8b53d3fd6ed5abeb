"""FastAPI dependencies: the service context, settings, sessions, token check."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from sqlalchemy.orm import Session

from sloapi.config import Settings
from sloapi.deadline import Deadline
from sloapi.engine.durations import parse_time
from sloapi.errors import WindowError
from sloapi.prometheus import PromClient
from sloapi.reports.service import ReportService
from sloapi.service import ServiceContext, check_window_text
from sloapi.status import pin


def get_ctx(request: Request) -> ServiceContext:
    """The app's `ServiceContext` (built at start-up)."""
    return request.app.state.ctx


CtxDep = Annotated[ServiceContext, Depends(get_ctx)]


def get_app_settings(ctx: CtxDep) -> Settings:
    """The settings the app was built with."""
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_prom(ctx: CtxDep) -> PromClient:
    """The app's Prometheus client."""
    return ctx.prom


PromDep = Annotated[PromClient, Depends(get_prom)]


def get_deadline(ctx: CtxDep) -> Deadline:
    """The request's one deadline (`SLOAPI_REQUEST_DEADLINE_SECONDS` from its start): every
    Prometheus read of the request ends by it, then the answer is 503."""
    return ctx.deadline()


DeadlineDep = Annotated[Deadline, Depends(get_deadline)]


def get_reports(ctx: CtxDep, deadline: DeadlineDep) -> ReportService:
    """The report service over the app's shared objects, reading by the request's deadline."""
    return ctx.reports(deadline)


ReportsDep = Annotated[ReportService, Depends(get_reports)]


def get_session(ctx: CtxDep) -> Iterator[Session]:
    """A database session for one request."""
    with ctx.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_at(
    ctx: CtxDep,
    at: Annotated[
        str | None,
        Query(
            description="evaluation time, RFC 3339 with an offset or unix seconds, "
            "from 2000-01-01T00:00:00Z to now; default now"
        ),
    ] = None,
) -> datetime:
    """The pinned evaluation time of a request (422 when unparsable or in the future)."""
    now = ctx.clock()
    try:
        value = parse_time(at, now)
    except WindowError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if (value - now).total_seconds() > 60:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at is in the future")
    return pin(value, now)


AtDep = Annotated[datetime, Depends(get_at)]


def get_window(
    window: Annotated[
        str | None,
        Query(
            description="rolling `30d`-style duration (at most `SLOAPI_MAX_WINDOW`), or calendar "
            "`week`, `month` or `quarter` in the report time zone (or `@Area/City`)"
        ),
    ] = None,
) -> str | None:
    """The window query parameter, validated (422 when invalid)."""
    try:
        check_window_text(window)
    except WindowError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return window


WindowDep = Annotated[str | None, Depends(get_window)]


def require_token(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Guard of mutating endpoints: `Authorization: Bearer <token>`, compared in constant time.

    403 when no token is configured (mutations disabled), 401 when missing or wrong.
    """
    expected = settings.token()
    if not expected:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "mutating endpoints are disabled")
    scheme, _, given = (authorization or "").partition(" ")
    ok = hmac.compare_digest(given.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not ok:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
