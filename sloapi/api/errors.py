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
    UnknownSLOError,
    WindowError,
)
from sloapi.reports.errors import MonthError

log = logging.getLogger("sloapi")

_STATUS: list[tuple[type[Exception], int]] = [
    (UnknownSLOError, 404),
    (WindowError, 422),
    (PrometheusUnavailableError, 503),
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
    """Register handlers: 404 unknown SLO, 422 bad window/time, 503 Prometheus down, 500 JSON."""

    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        code = status_code(exc)
        return _answer(code, str(exc) if code != 500 else "internal error")

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s: %s", type(exc).__name__, exc)
        return _answer(500, "internal error")

    app.add_exception_handler(SloapiError, domain_error)
    app.add_exception_handler(Exception, unexpected)
