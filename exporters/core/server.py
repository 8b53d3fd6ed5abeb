"""The HTTP side: `/metrics`, `/probe?target=NAME`, `/` and `/-/healthy` on a threading server.

Statuses: 200 for metrics (a failed target is `up 0`, not an HTTP error), 400 for `/probe`
without a configured target name (nothing is contacted), 404 for other paths.
"""

from __future__ import annotations

import gzip
import html
import logging
import socket
import zlib
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from exporters.core.collect import Collector
from exporters.core.metrics import Family, iter_parts

log = logging.getLogger("exporters.http")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Prometheus sends its scrape timeout; answer a little before it gives up.
_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
_TIMEOUT_MARGIN = 0.5
_CHUNK = 1 << 18


class ExporterServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its collector."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], collector: Collector, telemetry_path: str, title: str
    ) -> None:
        self.collector = collector
        self.telemetry_path = telemetry_path
        self.title = title
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http " + format, *args)

    def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
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
            self._send(200, "".join(iter_parts(families)).encode(), CONTENT_TYPE)
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
        for chunk in _chunks(iter_parts(families), gz):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        srv = self.server
        if url.path == srv.telemetry_path:
            self._metrics(srv.collector.collect(self._max_timeout()))
        elif url.path == "/probe":
            names = parse_qs(url.query).get("target", [])
            families = None
            if len(names) == 1:
                families = srv.collector.collect_one(names[0], self._max_timeout())
            if families is None:
                self._send(400, b"target must name one configured target\n")
                return
            self._metrics(families)
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
            f'<li><a href="/probe?target={html.escape(n)}">{html.escape(n)}</a></li>'
            for n in srv.collector.targets
        )
        return (
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f'<h1>{title}</h1><p><a href="{path}">Metrics</a></p>'
            f"<p>Targets (probe one):</p><ul>{items}</ul></body></html>\n"
        )


def _chunks(parts: Iterable[str], gz: bool) -> Iterator[bytes]:
    """Encode (and gzip) text pieces, rendered as they are consumed, into chunks of ~`_CHUNK`."""
    comp = zlib.compressobj(1, zlib.DEFLATED, 31) if gz else None
    buf: list[bytes] = []
    size = 0
    for part in parts:
        data = part.encode()
        if comp is not None:
            data = comp.compress(data)
        buf.append(data)
        size += len(data)
        if size >= _CHUNK:
            yield b"".join(buf)
            buf, size = [], 0
    if comp is not None:
        buf.append(comp.flush())
    tail = b"".join(buf)
    if tail:
        yield tail


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
    collector: Collector, listen: str, telemetry_path: str = "/metrics", title: str = "exporter"
) -> ExporterServer:
    """Bind the HTTP server (not yet serving); `listen` is `host:port` (port 0 picks one)."""
    host, port = parse_listen(listen)
    cls = _ExporterServer6 if ":" in host else ExporterServer
    return cls((host, port), collector, telemetry_path, title)


class _ExporterServer6(ExporterServer):
    address_family = socket.AF_INET6
