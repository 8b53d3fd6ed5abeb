"""Map the service's exceptions to JSON answers: never a 500 with a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sloapi.errors import (
    PrometheusUnavailableError,
    QueryError,
    SloapiError,
    SpecError,
    StoreUnavailableError,
    UnknownSLOError,
    WindowError,
)
from sloapi.reports.errors import MonthError
from sloapi.storage.outage import OUTAGE_ERRORS, outage_reason

log = logging.getLogger("sloapi")

_STATUS: list[tuple[type[Exception], int]] = [
    (UnknownSLOError, 404),
    (WindowError, 422),
    (PrometheusUnavailableError, 503),
    (StoreUnavailableError, 503),
    (QueryError, 502),
    (SpecError, 422),
    (MonthError, 422),
]


def status_code(exc: Exception) -> int:
    """The HTTP status of one of the service's errors (500 for any other exception)."""
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)


def _answer(code: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=code, content={"detail": detail})


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers: 404 unknown SLO, 422 bad window/time, 503 Prometheus or the store
    down (or the request deadline passed), 500 JSON."""

    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        code = status_code(exc)
        return _answer(code, str(exc) if code != 500 else "internal error")

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s: %s", type(exc).__name__, exc)
        return _answer(500, "internal error")

    async def store_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("store outage: %s", outage_reason(exc))
        return _answer(503, outage_reason(exc))

    app.add_exception_handler(SloapiError, domain_error)
    for kind in OUTAGE_ERRORS:  # a store read or write no code path wrapped: still 503, not 500
        app.add_exception_handler(kind, store_down)
    app.add_exception_handler(Exception, unexpected)
