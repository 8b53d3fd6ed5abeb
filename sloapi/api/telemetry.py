"""The service's own request metrics (prometheus_client, one registry per app)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


class RequestMetrics:
    """`sloapi_http_requests_total` and `sloapi_http_request_duration_seconds` by route."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "sloapi_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "sloapi_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )

    def install(self, app: FastAPI) -> None:
        """Add the middleware that records every request."""

        @app.middleware("http")
        async def _record(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            started = time.perf_counter()
            code = 500
            try:
                response = await call_next(request)
                code = response.status_code
                return response
            finally:
                route = request.scope.get("route")
                template = getattr(route, "path", "unmatched")
                self.requests.labels(request.method, template, str(code)).inc()
                self.duration.labels(request.method, template).observe(time.perf_counter() - started)
