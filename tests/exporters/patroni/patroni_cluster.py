"""A throwaway real Patroni cluster for the exporter's tests, built from the stack's own components.

`stack.components.etcd.Etcd` and `stack.components.patroni.Patroni` write the configuration, give
the command line, the user (`postgres`) and the environment; `stack.process` starts and stops them
by pid file, as `python -m stack` does. What differs from the stack: the state lives in a fresh
temporary folder, every port is a free one picked now (clear of every stack offset), there is one
etcd member, and with `tls=True` the REST API speaks HTTPS and requires a client certificate.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack import process, throwaway
from stack.components.etcd import Etcd, etcd_names
from stack.components.patroni import Patroni, rest_name
from stack.layout import POSTGRES_USER, Layout
from stack.ports import ETCD_PEER_SHIFT, HOST
from stack.throwaway import free_port

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


def _free_pair() -> int:
    """A free port whose successor is free too (an etcd member's client and peer ports)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + ETCD_PEER_SHIFT))
            except OSError:
                continue
        return port
    raise OSError("no free pair of ports")


@dataclass
class FreePortLayout(Layout):
    """The stack's layout with a free port for each name, picked on first use."""

    ports: dict[str, int] = field(default_factory=dict)

    @property
    def service_host(self) -> str:
        """No bridge here: Patroni, its REST API and PostgreSQL listen on 127.0.0.1 only."""
        return HOST

    def port(self, name: str) -> int:
        if name not in self.ports:
            self.ports[name] = _free_pair() if name.startswith("etcd-") else free_port()
        return self.ports[name]


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

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pt-ca",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        for who, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
            run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=pt-{who}",
                "-keyout", f"{who}.key", "-out", f"{who}.csr")  # fmt: skip
            run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{who}.pem", *ext)  # fmt: skip
        for f in folder.iterdir():
            shutil.chown(f, POSTGRES_USER, POSTGRES_USER)
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


class TlsPatroni(Patroni):
    """The stack's Patroni node with an HTTPS REST API that requires a client certificate."""

    def __init__(self, layout: Layout, name: str, tls: Tls) -> None:
        super().__init__(layout, name)
        self.tls = tls

    @property
    def rest(self) -> str:
        return f"https://{self.layout.addr(rest_name(self.name))}"

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        t = self.tls
        cfg["restapi"].update(
            certfile=str(t.cert), keyfile=str(t.key), cafile=str(t.ca), verify_client="required"
        )
        cfg["ctl"] = {"cacert": str(t.ca), "certfile": str(t.client_cert), "keyfile": str(t.client_key)}
        return cfg

    def ready(self) -> bool:
        try:
            get_json(f"{self.rest}/health", context=self.tls.client_context())
        except (OSError, ValueError):
            return False
        return True


@dataclass
class Member:
    """One Patroni node of the cluster, as the tests see it."""

    node: Patroni

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def url(self) -> str:
        """The node's REST API base URL."""
        return self.node.rest

    @property
    def pg_port(self) -> int:
        return self.node.layout.port(self.node.name)

    @property
    def config(self) -> Path:
        return self.node.home / "patroni.yml"


@dataclass
class PatroniCluster:
    """One etcd member and `size` Patroni nodes under one temporary folder."""

    layout: FreePortLayout
    etcd: Etcd
    members: list[Member]
    tls: Tls | None = None

    @classmethod
    def create(cls, base: Path | None = None, size: int = 3, tls: bool = False) -> PatroniCluster:
        """Lay out the cluster (nothing is started)."""
        root = base or Path(tempfile.mkdtemp(prefix="pt-"))
        layout = FreePortLayout(root=root, etcd_members=1)
        layout.prepare()
        material = Tls.make(root / "tls") if tls else None
        nodes: list[Patroni] = [
            TlsPatroni(layout, f"pg-{i}", material) if material else Patroni(layout, f"pg-{i}")
            for i in range(1, size + 1)
        ]
        etcd = Etcd(layout, etcd_names(layout)[0])
        return cls(layout, etcd, [Member(n) for n in nodes], material)

    @property
    def base(self) -> Path:
        return self.layout.root

    @property
    def superuser_password(self) -> str:
        return self.layout.secret("postgres")

    # -- processes -------------------------------------------------------------------------

    def _spawn(self, comp: Etcd | Patroni) -> None:
        if process.running_pid(self.layout.pidfile(comp.name)) is not None:
            return
        comp.prepare()
        process.spawn(
            comp.argv(),
            log=self.layout.log(comp.name),
            pidfile=self.layout.pidfile(comp.name),
            env=comp.env(),
            cwd=comp.cwd(),
            user=comp.user,
        )

    def _terminate(self, comp: Etcd | Patroni, timeout: float) -> None:
        pid = process.running_pid(self.layout.pidfile(comp.name))
        if pid is not None:
            process.terminate(pid, timeout=timeout)
        comp.after_stop()

    def start(self, timeout: float = 120.0) -> None:
        """Start etcd and every node; wait for a leader and all replicas streaming."""
        self._spawn(self.etcd)
        wait_for(self.etcd.ready, 30, "etcd health")
        for m in self.members:
            self.start_member(m.name)
        self.wait_healthy(timeout)

    def member(self, name: str) -> Member:
        """The member called `name`."""
        return next(m for m in self.members if m.name == name)

    def start_member(self, name: str) -> None:
        """Start one node's Patroni (as the postgres user) unless it runs."""
        self._spawn(self.member(name).node)

    def stop_member(self, name: str, timeout: float = 60.0) -> None:
        """Stop one node's Patroni gracefully (it stops its PostgreSQL first)."""
        self._terminate(self.member(name).node, timeout)

    def stop(self) -> None:
        """Stop every node and etcd; remove the folder."""
        for m in self.members:
            self.stop_member(m.name)
        self._terminate(self.etcd, 15)
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

    def dsn(self, port: int, user: str = "postgres", password: str | None = None) -> str:
        """A libpq DSN for one node over TCP (the superuser by default)."""
        password = self.superuser_password if password is None else password
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
