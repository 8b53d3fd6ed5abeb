"""A small demo app server: what HAProxy balances and health-checks in the demo stack.

Routes: `/health` (200, or 503 while the file `<name>.unhealthy` exists in the flag dir, so a
drill can fail a health check without stopping the process), `/`, `/api/...`, `/admin/...`
(a short text answer), `/db` (one transaction through PgBouncer) and `/metrics`.

Metrics: `http_request_duration_seconds{route, code}`, a histogram of the time each request took
to answer (`route`: `root`, `api`, `admin`, `db`, `health`; `/metrics` itself is not timed).
The latency SLO `app-request-latency` (slos/app-latency.yml) reads it.
"""

from __future__ import annotations

import argparse
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ROUTES = {"": "root", "api": "api", "admin": "admin", "db": "db", "health": "health"}


def route_of(path: str) -> str:
    """The `route` label of a request path (its first segment; unknown ones count as `root`)."""
    return ROUTES.get(path.strip("/").split("/", 1)[0], "root")


def request_histogram(registry: CollectorRegistry) -> Histogram:
    """`http_request_duration_seconds{route, code}` registered in `registry`."""
    return Histogram(
        "http_request_duration_seconds",
        "Time the demo app took to answer a request, by route and status code.",
        ["route", "code"],
        buckets=BUCKETS,
        registry=registry,
    )


class Handler(BaseHTTPRequestHandler):
    """Answers the demo routes."""

    server_version = "nines-demo-app"
    name = "app"
    flag_dir = Path(".")
    dsn = ""
    registry = CollectorRegistry()
    durations = request_histogram(registry)
    _code = 0

    def log_message(self, format: str, *args: object) -> None:
        return  # keep the log quiet: health checks arrive every 2 s

    def _send(self, code: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self._code = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(self.registry).decode(), CONTENT_TYPE_LATEST)
            return
        started = time.perf_counter()
        try:
            self._answer(path)
        finally:
            elapsed = time.perf_counter() - started
            self.durations.labels(route=route_of(path), code=str(self._code or 500)).observe(elapsed)

    def _answer(self, path: str) -> None:
        if path == "/health":
            if (self.flag_dir / f"{self.name}.unhealthy").exists():
                self._send(503, "unhealthy\n")
            else:
                self._send(200, "ok\n")
        elif path == "/db":
            self._db()
        else:
            self._send(200, f"{self.name}: {path}\n")

    def _db(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.dsn, connect_timeout=3, prepare_threshold=None) as conn:
                row = conn.execute("SELECT 1").fetchone()
            self._send(200, f"{self.name}: db {row[0] if row else '?'}\n")
        except psycopg.Error as exc:
            self._send(503, f"{self.name}: db error {type(exc).__name__}\n")


def main(argv: list[str] | None = None) -> None:
    """Run one app server until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--listen", default="127.0.0.1:8101")
    parser.add_argument("--flag-dir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    Handler.name = args.name
    Handler.flag_dir = args.flag_dir
    Handler.dsn = os.environ.get("NINES_APP_DSN", "")
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
