"""The last line of the request deadline: an answer by the deadline even when a wait inside a
route cannot be cut (a database that accepted the connection, then froze).

Prometheus reads end by the request's deadline themselves and answer their own 503. A database
driver call cannot be interrupted from outside its thread, so this ASGI middleware runs each HTTP
request as a task and, when no response has started `GRACE_SECONDS` after the deadline, answers
503 itself. The route's thread goes on until its wait ends; what it sends then is dropped (its
effects, such as a report mailed, still happen once: delivery is idempotent). Stuck threads are
bounded by the server's thread pool; requests queued behind them get this 503 too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sloapi")

#: After the deadline, the time left to a route to answer its own (more precise) 503.
GRACE_SECONDS = 1.0


def _deadline_of(scope: Scope) -> float | None:
    ctx = getattr(getattr(scope.get("app"), "state", None), "ctx", None)
    return None if ctx is None else float(ctx.settings.request_deadline_seconds)


def _late(task: asyncio.Task[None], path: str) -> None:
    """Log how an abandoned request ended (its answer went nowhere)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.warning("request %s ended after its 503 with %s: %s", path, type(exc).__name__, exc)
    else:
        log.info("request %s ended after its 503 (its answer was dropped)", path)


class RequestDeadlineGuard:
    """ASGI middleware: 503 when no response started within the request deadline plus grace;
    an answer already started is let finish."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = _deadline_of(scope) if scope["type"] == "http" else None
        if seconds is None:
            await self.app(scope, receive, send)
            return
        state: dict[str, bool] = {"started": False, "abandoned": False}

        async def guarded_send(message: Message) -> None:
            if state["abandoned"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        path = str(scope.get("path", ""))
        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds + GRACE_SECONDS)
        except asyncio.CancelledError:  # the client went away or the server stops
            state["abandoned"] = True
            task.add_done_callback(lambda t: _late(t, path))
            raise
        if task in done or state["started"]:
            # An answer that has started is on its way (the routes send their bodies at once):
            # it is finished, not cut, so its length and its status stay true.
            await task
            return
        state["abandoned"] = True
        task.add_done_callback(lambda t: _late(t, path))
        log.warning("request %s had no answer %g s after its deadline: 503", path, GRACE_SECONDS)
        await _send_503(send, seconds)


async def _send_503(send: Send, seconds: float) -> None:
    detail = (
        f"request deadline of {seconds:g} s (SLOAPI_REQUEST_DEADLINE_SECONDS) passed: no answer "
        "from the database or Prometheus in time; work already under way (a report being mailed) "
        "still finishes, once"
    )
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"5"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 503, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
