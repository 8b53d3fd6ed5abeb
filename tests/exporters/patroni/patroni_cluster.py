"""A throwaway real Patroni cluster for the exporter's tests: one etcd member, three Patroni nodes.

PostgreSQL refuses to run as root, so Patroni runs as the `postgres` system user, with its data
under a fresh folder that user owns. Ports are picked free at start. Everything started here is
stopped by `stop()`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack import throwaway
from stack.throwaway import free_port

PG_BIN = "/usr/lib/postgresql/15/bin"
SCOPE = "nines"
SUPERUSER_PASSWORD = "pt-super-secret"
REPLICATION_PASSWORD = "pt-repl-secret"
MONITOR_USER = "nines_monitor"
MONITOR_PASSWORD = "pt-monitor-secret"


def wait_for(cond: Callable[[], Any], timeout: float, what: str, step: float = 0.3) -> Any:
    """Poll `cond` until it returns a truthy value (errors count as "not yet"); TimeoutError names `what`."""
    return throwaway.wait_for(cond, timeout, what, step=step, ignore=(Exception,))


def get_json(url: str, timeout: float = 3.0, context: ssl.SSLContext | None = None) -> Any:
    """GET a Patroni REST endpoint and return its JSON body, also on 503."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        return json.load(err)


@dataclass
class Member:
    """One Patroni node of the cluster."""

    name: str
    api_port: int
    pg_port: int
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        """The node's REST API base URL."""
        return f"{self.scheme}://127.0.0.1:{self.api_port}"


@dataclass(frozen=True)
class Tls:
    """REST API TLS files: the CA, the server's certificate and key, a client certificate."""

    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def make(cls, folder: Path) -> Tls:
        """Create a CA, a server certificate for 127.0.0.1 and a client certificate (openssl)."""
        folder.mkdir(parents=True, exist_ok=True)

        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

        run(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pt-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        )
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        for who, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
            run(
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                f"/CN=pt-{who}",
                "-keyout",
                f"{who}.key",
                "-out",
                f"{who}.csr",
            )
            run(
                "x509",
                "-req",
                "-in",
                f"{who}.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                f"{who}.pem",
                *ext,
            )
        for f in folder.iterdir():
            shutil.chown(f, "postgres", "postgres")
        return cls(
            folder / "ca.pem",
            folder / "server.pem",
            folder / "server.key",
            folder / "client.pem",
            folder / "client.key",
        )

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the CA and presents the client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return ctx


@dataclass
class PatroniCluster:
    """etcd + three Patroni nodes under one base folder."""

    base: Path
    etcd_port: int = 0
    members: list[Member] = field(default_factory=list)
    etcd: subprocess.Popen[bytes] | None = None
    tls: Tls | None = None

    @classmethod
    def create(cls, base: Path | None = None, size: int = 3, tls: bool = False) -> PatroniCluster:
        """Lay out configs for a cluster of `size` nodes (nothing is started).

        With `tls`, the REST API speaks HTTPS and requires a client certificate.
        """
        base = base or Path(tempfile.mkdtemp(prefix="pt-"))
        base.mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        cluster = cls(base=base, etcd_port=free_port(), tls=Tls.make(base / "tls") if tls else None)
        for i in range(1, size + 1):
            name = f"pg-{i}"
            home = base / name
            home.mkdir(mode=0o700, exist_ok=True)
            (home / "run").mkdir(mode=0o700, exist_ok=True)
            member = Member(name, free_port(), free_port(), home / "patroni.yml", home / "patroni.log")
            member.scheme = "https" if tls else "http"
            member.config.write_text(json.dumps(cluster._config(member, home), indent=1))
            for p in (home, home / "run", member.config):
                shutil.chown(p, "postgres", "postgres")
            cluster.members.append(member)
        return cluster

    def _config(self, m: Member, home: Path) -> dict[str, Any]:
        return {
            "scope": SCOPE,
            "name": m.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": f"127.0.0.1:{m.api_port}",
                "connect_address": f"127.0.0.1:{m.api_port}",
                **self._restapi_tls(),
            },
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_port}"]},
            "ctl": self._ctl(),
            "bootstrap": {
                "dcs": {
                    "ttl": 20,
                    "loop_wait": 2,
                    "retry_timeout": 5,
                    "synchronous_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "shared_buffers": "16MB",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}],
                "pg_hba": [
                    "local all all trust",
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{m.pg_port}",
                "connect_address": f"127.0.0.1:{m.pg_port}",
                "data_dir": str(home / "data"),
                "bin_dir": PG_BIN,
                "pgpass": str(home / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                    "replication": {"username": "replicator", "password": REPLICATION_PASSWORD},
                    "rewind": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                },
                "parameters": {"unix_socket_directories": str(home / "run")},
            },
            "tags": {"nofailover": False, "noloadbalance": False},
        }

    def _restapi_tls(self) -> dict[str, str]:
        if self.tls is None:
            return {}
        t = self.tls
        return {
            "certfile": str(t.cert),
            "keyfile": str(t.key),
            "cafile": str(t.ca),
            "verify_client": "required",
        }

    def _ctl(self) -> dict[str, str]:
        if self.tls is None:
            return {}
        t = self.tls
        return {"cacert": str(t.ca), "certfile": str(t.client_cert), "keyfile": str(t.client_key)}

    # -- processes -------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Start etcd and every node; wait for a leader and all replicas streaming."""
        data = self.base / "etcd"
        url = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{free_port()}"
        with open(self.base / "etcd.log", "ab") as log:
            self.etcd = subprocess.Popen(
                [
                    "etcd",
                    "--name=pt-etcd",
                    f"--data-dir={data}",
                    f"--listen-client-urls={url}",
                    f"--advertise-client-urls={url}",
                    f"--listen-peer-urls={peer}",
                    f"--initial-advertise-peer-urls={peer}",
                    f"--initial-cluster=pt-etcd={peer}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: get_json(f"{url}/health").get("health") == "true", 30, "etcd health")
        for m in self.members:
            self.start_member(m.name)
        self.wait_healthy(timeout)

    def member(self, name: str) -> Member:
        """The member called `name`."""
        return next(m for m in self.members if m.name == name)

    def start_member(self, name: str) -> None:
        """Start one node's Patroni (as the postgres user)."""
        m = self.member(name)
        if m.proc is not None and m.proc.poll() is None:
            return
        with open(m.log, "ab") as log:
            m.proc = subprocess.Popen(
                ["patroni", str(m.config)],
                user="postgres",
                group="postgres",
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop_member(self, name: str, timeout: float = 60.0) -> None:
        """Stop one node's Patroni gracefully (it stops its PostgreSQL first)."""
        m = self.member(name)
        if m.proc is None:
            return
        if m.proc.poll() is None:
            m.proc.send_signal(signal.SIGTERM)
            try:
                m.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(m.proc.pid, signal.SIGKILL)
                m.proc.wait(10)
        m.proc = None
        self._kill_postmaster(m)

    def _kill_postmaster(self, m: Member) -> None:
        pidfile = m.config.parent / "data" / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop every node and etcd; remove the base folder."""
        for m in self.members:
            self.stop_member(m.name)
        if self.etcd is not None:
            self.etcd.terminate()
            try:
                self.etcd.wait(15)
            except subprocess.TimeoutExpired:
                self.etcd.kill()
                self.etcd.wait(5)
            self.etcd = None
        shutil.rmtree(self.base, ignore_errors=True)

    # -- state -----------------------------------------------------------------------------

    def cluster_json(self) -> dict[str, Any]:
        """`/cluster` from the first node that answers."""
        ctx = self.tls.client_context() if self.tls else None
        for m in self.members:
            try:
                return dict(get_json(f"{m.url}/cluster", context=ctx))
            except OSError:
                continue
        raise OSError("no Patroni node answers /cluster")

    def leader(self) -> str | None:
        """Name of the running leader, if any."""
        for mem in self.cluster_json().get("members", []):
            if mem.get("role") == "leader" and mem.get("state") == "running":
                return str(mem["name"])
        return None

    def healthy(self) -> bool:
        """A running leader, all members running/streaming, one sync standby, lag known."""
        members = self.cluster_json().get("members", [])
        if len(members) != len(self.members):
            return False
        roles = sorted(m.get("role") for m in members)
        running = all(m.get("state") in ("running", "streaming") for m in members)
        lag_known = all(isinstance(m.get("lag", 0), int) for m in members)
        sync_ok = len(self.members) == 1 or "sync_standby" in roles
        return running and lag_known and roles.count("leader") == 1 and sync_ok

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Wait until `healthy()` holds."""
        wait_for(self.healthy, timeout, "a healthy Patroni cluster", step=0.5)

    def patronictl(self, *args: str) -> str:
        """Run `patronictl` against the first member's config; return stdout."""
        out = subprocess.run(
            ["patronictl", "-c", str(self.members[0].config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return out.stdout

    def dsn(self, port: int, user: str = "postgres", password: str = SUPERUSER_PASSWORD) -> str:
        """A libpq DSN for one node over TCP."""
        return f"host=127.0.0.1 port={port} user={user} password={password} dbname=postgres"


if __name__ == "__main__":  # pragma: no cover - manual use: start, print URLs, wait for Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    c = PatroniCluster.create()
    try:
        c.start()
        print(json.dumps({m.name: m.url for m in c.members}), flush=True)
        signal.pause()
    finally:
        c.stop()
