"""A tiny reverse proxy for the tests: a path prefix and required headers in front of a
Prometheus-compatible API, as Mimir, Thanos or a VictoriaMetrics cluster's vmselect present it.

It listens on 127.0.0.1 (a free port), forwards `GET <prefix>/api/v1/...` to the upstream with
the prefix removed, answers 401 without the required headers and 404 outside the prefix, and
records the parameters of every forwarded request. With `refuse`, it answers a query containing
that text as Prometheus answers a query it rejects (400, `bad_data`).
"""

from __future__ import annotations

import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from stack.throwaway import free_port


@dataclass
class ProxyLog:
    """What the proxy saw: forwarded requests (path, parameters) and refusals."""

    forwarded: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    refused: int = 0

    def ranges(self) -> list[tuple[float, float, float]]:
        """(start, end, step) of every forwarded `query_range` request."""
        return [
            (float(p["start"]), float(p["end"]), float(p["step"]))
            for path, p in self.forwarded
            if path.endswith("/query_range")
        ]


REJECTED = b'{"status": "error", "errorType": "bad_data", "error": "query refused by the test proxy"}'


def _handler(
    upstream: str, prefix: str, required: Mapping[str, str], log: ProxyLog, refuse: str | None = None
) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            """Check, forward, record."""
            parts = urlsplit(self.path)
            if any(self.headers.get(k) != v for k, v in required.items()):
                log.refused += 1
                self._answer(401, b"missing tenant or credentials")
                return
            if not parts.path.startswith(prefix + "/"):
                self._answer(404, b"not under the prefix")
                return
            path = parts.path[len(prefix) :]
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if refuse is not None and refuse in params.get("query", ""):
                log.refused += 1
                self._answer(400, REJECTED)
                return
            log.forwarded.append((path, params))
            url = f"{upstream}{path}" + (f"?{parts.query}" if parts.query else "")
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    self._answer(response.status, response.read())
            except urllib.error.HTTPError as exc:
                self._answer(exc.code, exc.read())

    return Handler


@contextmanager
def query_proxy(
    upstream: str,
    prefix: str,
    required: Mapping[str, str],
    tls: tuple[Path, Path] | None = None,
    refuse: str | None = None,
) -> Iterator[tuple[str, ProxyLog]]:
    """Run the proxy (over TLS with `tls` = (certificate, key) files; rejecting the queries that
    contain `refuse`); yields (its base URL including the prefix, its log)."""
    log = ProxyLog()
    port = free_port()
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), _handler(upstream.rstrip("/"), prefix, required, log, refuse)
    )
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{port}{prefix}", log
    finally:
        server.shutdown()
        server.server_close()
