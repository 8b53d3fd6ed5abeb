"""The HTTP side: `/metrics`, `/probe?target=NAME`, `/` and `/-/healthy` on a threading server.

Statuses: 200 for metrics (a failed target is `up 0`, not an HTTP error), 400 for `/probe`
without a configured target name (nothing is contacted), 401 without valid basic auth (when
`--web.config.file` names users), 404 for other paths, 503 beyond `--web.max-requests`
concurrent scrapes. A request's line and headers must arrive within `--web.read-timeout` (one
deadline, not one per read); a request cut short by its client runs no scrape.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import io
import logging
import select
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from exporters.core.collect import Collector
from exporters.core.deadline import DeadlineReader
from exporters.core.metrics import Family, exposition_chunks
from exporters.core.webconfig import WebConfigFile

log = logging.getLogger("exporters.http")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Prometheus sends its scrape timeout; answer a little before it gives up.
_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
_TIMEOUT_MARGIN = 0.5
DEFAULT_MAX_REQUESTS = 40
DEFAULT_READ_TIMEOUT = 10.0
LISTEN_BACKLOG = 1024


@dataclass(frozen=True)
class ServerOptions:
    """How the server guards itself.

    Args:
        max_requests: concurrent scrapes (`/metrics`, `/probe`) served; beyond, 503. 0: no limit.
        read_timeout: seconds for a request's line and headers (and the TLS handshake) to arrive.
        web_config: TLS and basic auth (`--web.config.file`); None: plain HTTP, no auth.
        extra: the exporter's own families, added to `/metrics` (build info, process metrics).
    """

    max_requests: int = DEFAULT_MAX_REQUESTS
    read_timeout: float = DEFAULT_READ_TIMEOUT
    web_config: WebConfigFile | None = None
    extra: Callable[[], list[Family]] | None = None


class ExporterServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its collector."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        collector: Collector,
        telemetry_path: str,
        title: str,
        options: ServerOptions | None = None,
    ) -> None:
        self.collector = collector
        self.telemetry_path = telemetry_path
        self.title = title
        self.options = options or ServerOptions()
        limit = self.options.max_requests
        self.slots = threading.BoundedSemaphore(limit) if limit > 0 else None
        web = self.options.web_config
        self.tls = web is not None and web.current().tls is not None
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        """Accept a connection; with TLS, wrap it (the handshake runs in the handler's thread)."""
        sock, addr = super().get_request()
        web = self.options.web_config
        if self.tls and web is not None:
            ctx = web.current().tls
            if ctx is not None:
                try:
                    return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr
                except (OSError, ValueError):
                    sock.close()
                    raise
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request through the logger (never a bare traceback on stderr)."""
        exc = sys.exc_info()[1]
        fields = {"client": client_address[0] if client_address else "", "error": exc}
        if isinstance(exc, OSError | ValueError):  # resets, broken pipes, timeouts, TLS failures
            log.debug("connection dropped", extra={"fields": fields})
        else:
            log.error("request failed", exc_info=True, extra={"fields": fields})


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        srv = self.server
        sock = self.request
        if isinstance(sock, ssl.SSLSocket):
            _handshake(sock, time.monotonic() + srv.options.read_timeout)
        sock.settimeout(srv.options.read_timeout)
        super().setup()
        self.rfile.close()
        self._reader = DeadlineReader(sock)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.options.read_timeout
        super().handle_one_request()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http " + format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        if len(body) > 4096 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            gz = True
        else:
            gz = False
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if gz:
            self.send_header("Content-Encoding", "gzip")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _max_timeout(self) -> float | None:
        raw = self.headers.get(_TIMEOUT_HEADER)
        try:
            return max(0.1, float(raw) - _TIMEOUT_MARGIN) if raw else None
        except ValueError:
            return None

    def _metrics(self, families: list[Family]) -> None:
        if self.request_version == "HTTP/1.0":
            self._send(200, b"".join(exposition_chunks(families, False)), CONTENT_TYPE)
            return
        # Stream with chunked encoding: the whole text never exists twice in memory.
        gz = "gzip" in self.headers.get("Accept-Encoding", "")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in exposition_chunks(families, gz):
            self.wfile.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
        self.wfile.write(b"0\r\n\r\n")

    def do_HEAD(self) -> None:
        self.do_GET()

    def _authorized(self) -> bool:
        web = self.server.options.web_config
        if web is None:
            return True
        config = web.current()
        if not config.users:
            return True
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        user = password = ""
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
        return bool(user) and web.authorized(config, user, password)

    def _scrape(self, collect: Callable[[], list[Family] | None]) -> None:
        slots = self.server.slots
        if slots is not None and not slots.acquire(blocking=False):
            self._send(503, b"too many concurrent scrapes (--web.max-requests)\n")
            return
        try:  # the slot is held while the answer is rendered and written, too
            families = collect()
            if families is None:
                self._send(400, b"target must name one configured target\n")
            else:
                self._metrics(families)
        finally:
            if slots is not None:
                slots.release()

    def _all(self) -> list[Family]:
        srv = self.server
        families = srv.collector.collect(self._max_timeout())
        return families + srv.options.extra() if srv.options.extra is not None else families

    def do_GET(self) -> None:
        if self._reader.eof:  # the client closed before its request was complete: nothing to do
            self.close_connection = True
            return
        self.connection.settimeout(self.server.options.read_timeout)  # each write from here on
        if not self._authorized():
            self._send(401, b"unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="exporter"'})
            return
        url = urlsplit(self.path)
        srv = self.server
        if url.path == srv.telemetry_path:
            self._scrape(self._all)
        elif url.path == "/probe":
            names = parse_qs(url.query).get("target", [])
            if len(names) != 1:
                self._send(400, b"target must name one configured target\n")
                return
            self._scrape(lambda: srv.collector.collect_one(names[0], self._max_timeout()))
        elif url.path == "/-/healthy":
            self._send(200, b"OK\n")
        elif url.path == "/":
            self._send(200, self._landing().encode(), "text/html; charset=utf-8")
        else:
            self._send(404, b"not found\n")

    def _landing(self) -> str:
        srv = self.server
        title = html.escape(srv.title)
        path = html.escape(srv.telemetry_path)
        items = "".join(
            f'<li><a href="/probe?target={html.escape(quote(n, safe=""))}">{html.escape(n)}</a></li>'
            for n in srv.collector.targets
        )
        return (
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f'<h1>{title}</h1><p><a href="{path}">Metrics</a></p>'
            f"<p>Targets (probe one):</p><ul>{items}</ul></body></html>\n"
        )


def _handshake(sock: ssl.SSLSocket, deadline: float) -> None:
    """Run the TLS handshake, all of it by `deadline` (a client dripping its hello is cut).

    Raises:
        TimeoutError: the deadline passed. ssl.SSLError: the handshake failed.
    """
    sock.setblocking(False)
    want: tuple[list[ssl.SSLSocket], list[ssl.SSLSocket]]
    try:
        while True:
            try:
                sock.do_handshake()
                return
            except ssl.SSLWantReadError:
                want = ([sock], [])
            except ssl.SSLWantWriteError:
                want = ([], [sock])
            left = deadline - time.monotonic()
            if left <= 0 or not any(select.select(*want, [], left)[:2]):
                raise TimeoutError("TLS handshake not done in time")
    finally:
        sock.setblocking(True)


def parse_listen(address: str) -> tuple[str, int]:
    """Split `host:port` (`[::1]:9101`; `:9101` means every interface, as in Go exporters).

    Raises:
        ValueError: no valid port.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"not host:port: {address!r}")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - only when the user asks for ":port"
    return host, int(port)


def make_server(
    collector: Collector,
    listen: str,
    telemetry_path: str = "/metrics",
    title: str = "exporter",
    options: ServerOptions | None = None,
) -> ExporterServer:
    """Bind the HTTP server (not yet serving); `listen` is `host:port` (port 0 picks one)."""
    host, port = parse_listen(listen)
    cls = _ExporterServer6 if ":" in host else ExporterServer
    return cls((host, port), collector, telemetry_path, title, options)


class _ExporterServer6(ExporterServer):
    address_family = socket.AF_INET6
