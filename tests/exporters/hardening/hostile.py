"""Real exporter processes and the hostile peers they meet: dripping servers, fake Patroni and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stack.throwaway import free_port, stop, wait_for

REPO = Path(__file__).resolve().parents[3]


@dataclass
class ExporterProcess:
    """An exporter run as `python -m exporters.<name>`, its log in a file."""

    name: str
    args: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ExporterProcess:
        self.port = self.port or free_port()
        argv = [sys.executable, "-m", f"exporters.{self.name}", f"--web.listen-address=127.0.0.1:{self.port}"]
        env = {**os.environ, "PYTHONPATH": str(REPO), **self.env}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*argv, *self.args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        if wait:
            wait_for(self._listening, 30, f"{self.name} exporter listening", step=0.05)
        return self

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"exporter exited: {self.log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def threads(self) -> int:
        """Threads of the exporter process now."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        raise AssertionError("no Threads line")

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def get(url: str, timeout: float = 30, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    """GET `url`: (status, body), also for error statuses."""
    req = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(body: str, sample: str) -> float | None:
    """The value of the sample line starting with `sample ` (name and labels as written)."""
    for line in body.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


class DripServer:
    """A TCP server that sends `head` and then one byte every `interval` seconds, for ever.

    Records each connection's accept and close times (the close seen by the server).
    """

    def __init__(self, head: bytes = b"", interval: float = 0.2) -> None:
        self.head = head
        self.interval = interval
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.sock.getsockname()[1]
        self.connections: list[dict[str, float | None]] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            record: dict[str, float | None] = {"opened": time.monotonic(), "closed": None}
            self.connections.append(record)
            threading.Thread(target=self._drip, args=(conn, record), daemon=True).start()

    def _drip(self, conn: socket.socket, record: dict[str, float | None]) -> None:
        with conn:
            try:
                conn.sendall(self.head)
                while not self._stop.is_set():
                    conn.sendall(b"x")
                    time.sleep(self.interval)
            except OSError:
                pass
            record["closed"] = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


class TcpServer:
    """A TCP server on 127.0.0.1 that counts connections and hands each to `handle` in a thread."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        """Close at once (override)."""
        conn.close()

    def close(self) -> None:
        self.sock.close()


class CountingServer(TcpServer):
    """A TCP server that counts connections and closes each at once."""


class FakePatroni:
    """An HTTP server answering Patroni's endpoints with the JSON documents given."""

    def __init__(self, docs: Mapping[str, Any]) -> None:
        docs = dict(docs)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                doc = docs.get(self.path)
                body = json.dumps(doc).encode()
                self.send_response(200 if doc is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakePostgres(TcpServer):
    """Speaks just enough of PostgreSQL's protocol to ask for a cleartext password and record it."""

    SSL_REQUEST = 80877103
    GSS_REQUEST = 80877104

    def __init__(self) -> None:
        self.passwords: list[str] = []
        super().__init__()

    @property
    def connections(self) -> int:
        return self.count

    @staticmethod
    def _exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                while True:  # SSL / GSS requests first: refuse them, then the startup packet
                    length, code = struct.unpack("!ii", self._exact(conn, 8))
                    self._exact(conn, length - 8)
                    if code in (self.SSL_REQUEST, self.GSS_REQUEST):
                        conn.sendall(b"N")
                        continue
                    break
                conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
                kind = self._exact(conn, 1)
                (length,) = struct.unpack("!i", self._exact(conn, 4))
                payload = self._exact(conn, length - 4)
                if kind == b"p":
                    self.passwords.append(payload.rstrip(b"\0").decode())
                error = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
                conn.sendall(b"E" + struct.pack("!i", len(error) + 4) + error)
            except OSError:
                pass


def run_exporter(
    name: str, args: Sequence[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an exporter that is expected to exit (bad flags, --version)."""
    return subprocess.run(
        [sys.executable, "-m", f"exporters.{name}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        check=False,
    )
