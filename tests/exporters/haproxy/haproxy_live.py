"""A throwaway real HAProxy 2.6 with a generated config and small HTTP backends, for tests."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from exporters.haproxy.parse import parse_stat, split_answers
from exporters.haproxy.source import parse_address, run_commands
from stack.throwaway import free_port, stop, wait_for
from stack.tls import combined_pem, self_signed


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_backend(status: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server answering every GET with `status`, served from a daemon thread."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.status = status  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


CONFIG = """\
global
    stats socket {sock} mode 600 level admin
    stats socket ipv4@127.0.0.1:{stats_port} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend prom
    bind 127.0.0.1:{promex_port}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    stats enable
    stats uri /stats
    stats auth nines:{stats_password}
frontend web
    bind 127.0.0.1:{web_port}
    bind 127.0.0.1:{tls_port} ssl crt {cert}
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /health
    default-server check inter 200 fall 3 rise 1
    server a1 127.0.0.1:{ok_port} weight 100
    server a2 127.0.0.1:{ok_port} weight 50
    server bad 127.0.0.1:{bad_port}
    server spare 127.0.0.1:{ok_port} backup
"""


@dataclass
class HAProxy:
    """A running haproxy; `admin(cmd)` talks to its socket, `stop()` ends it."""

    dir: Path
    ports: dict[str, int]
    stats_password: str
    proc: subprocess.Popen[bytes] | None = None
    backends: list[http.server.ThreadingHTTPServer] = field(default_factory=list)

    @property
    def sock(self) -> Path:
        return self.dir / "haproxy.sock"

    @property
    def address(self) -> str:
        return f"unix:{self.sock}"

    def start(self) -> None:
        ok, bad = start_backend(200), start_backend(503)
        self.backends = [ok, bad]
        cert = self.dir / "site.pem"
        if not cert.exists():
            key = self.dir / "key.pem"
            crt = self.dir / "crt.pem"
            self_signed(key, crt, "/CN=web.nines.test", 30)
            combined_pem(key, crt, cert)
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(
            CONFIG.format(
                sock=self.sock,
                cert=cert,
                ok_port=ok.server_address[1],
                bad_port=bad.server_address[1],
                stats_password=self.stats_password,
                **self.ports,
            )
        )
        log = open(self.dir / "haproxy.log", "wb")  # noqa: SIM115 - kept open for the daemon
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        wait_for(
            lambda: self.sock.exists() and self.try_admin("show info") is not None, 30, "haproxy's socket"
        )
        # every checked server has its first check result
        wait_for(lambda: self.status("app", "bad").startswith("DOWN"), 30, "the first health checks")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, 15)
        for b in self.backends:
            b.shutdown()
            b.server_close()
        self.backends = []

    def admin(self, command: str) -> str:
        return run_commands(parse_address(self.address), [command], 10)

    def try_admin(self, command: str) -> str | None:
        try:
            return self.admin(command)
        except OSError:
            return None

    def stat(self) -> dict[tuple[str, str], dict[str, str]]:
        """`show stat` as {(proxy, server): {column: field}}."""
        table = parse_stat(split_answers(self.admin("show stat"), 1)[0], keep=None)
        return {(r[0], r[1]): dict(zip(table.columns, r, strict=True)) for r in table.rows}

    def status(self, proxy: str, server: str) -> str:
        return self.stat()[(proxy, server)]["status"]


def make_haproxy(folder: Path) -> HAProxy:
    """Configure (not start) an HAProxy in `folder` on free ports."""
    names = ("stats_port", "promex_port", "web_port", "tls_port")
    return HAProxy(folder, {n: free_port() for n in names}, os.urandom(6).hex())
