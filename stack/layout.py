"""Where the stack keeps its state: one directory (default `.stack/`), and the repo it serves."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stack.network import Plan
from stack.ports import HOST, port

REPO = Path(__file__).resolve().parent.parent
POSTGRES_USER = "postgres"


@dataclass
class Layout:
    """Paths, ports and secrets of one stack instance.

    Args:
        root: the state directory; everything the stack writes lives under it.
        offset: added to every port of the table.
        etcd_members: 1 (tests) or 3 (demo).
        tsdb: `prometheus` (default) or `victoriametrics` (see `stack.components.victoria`).
        sloapi_instances: 1 (sloapi on its embedded SQLite) or 2 (both on the HA PostgreSQL
            through the PgBouncer VIP, see `stack.components.nines`).
    """

    root: Path
    offset: int = 0
    etcd_members: int = 3
    tsdb: str = "prometheus"
    sloapi_instances: int = 1
    python: str = field(default_factory=lambda: sys.executable)

    def port(self, name: str) -> int:
        """The shifted port of `name` from the port table."""
        return port(name, self.offset)

    @property
    def net(self) -> Plan:
        """Names and addresses of the stack's own network (bridge, namespaces, VIPs)."""
        return Plan(self.offset)

    @property
    def service_host(self) -> str:
        """Where root-namespace services (apps, Patroni, PostgreSQL) listen for the namespaces'
        processes: the bridge's address."""
        return self.net.bridge_ip

    def host(self, name: str) -> str:
        """The address `name` listens on: a VIP, a namespace's or the bridge's address, else 127.0.0.1."""
        base = name.split(".", 1)[0]
        net = self.net
        if base == "haproxy":
            return net.vip("frontdoor")
        if base == "pgbouncer":
            return net.vip("pgbouncer")
        if base in ("haproxy-a", "haproxy-b"):
            return net.node_ip("lb-" + base[-1])
        if base.split("-")[0] in ("app", "patroni") and base.split("-")[-1].isdigit():
            return self.service_host
        return HOST

    def addr(self, name: str) -> str:
        """`HOST:PORT` of `name` (see `host`)."""
        return f"{self.host(name)}:{self.port(name)}"

    def path(self, *parts: str) -> Path:
        """A path under the state directory."""
        return self.root.joinpath(*parts)

    def log(self, name: str) -> Path:
        """The log file of component `name`."""
        return self.path("logs", f"{name}.log")

    def pidfile(self, name: str) -> Path:
        """The pid file of component `name`."""
        return self.path("run", f"{name}.pid")

    def secret(self, name: str) -> str:
        """A generated secret, created on first use and kept (mode 600) under `secrets/`."""
        path = self.secret_file(name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(18))
        return path.read_text().strip()

    def secret_file(self, name: str) -> Path:
        """The file holding secret `name`."""
        return self.path("secrets", name)

    def prepare(self) -> None:
        """Create the state directory, traversable by the `postgres` user (PostgreSQL never runs as root)."""
        for sub in ("logs", "run"):
            self.path(sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.path("run").chmod(0o755)
        # PostgreSQL, Patroni and PgBouncer run as `postgres`: it must be able to traverse to its dirs.
        for parent in [self.root.resolve(), *self.root.resolve().parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
                print(
                    f"note: made {parent} traversable by other users (o+x, no read) so PostgreSQL "
                    "can reach its data as `postgres`",
                    file=sys.stderr,
                )

    def env(self) -> dict[str, str]:
        """Environment for the stack's Python processes (this interpreter's venv on PATH)."""
        env = dict(os.environ)
        bindir = str(Path(self.python).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def script(self, name: str) -> str | None:
        """Path of a console script installed next to this interpreter (our exporters), or None."""
        candidate = Path(self.python).parent / name
        if candidate.exists():
            return str(candidate)
        return shutil.which(name)


def default_layout(
    root: str | os.PathLike[str] | None = None,
    offset: int | None = None,
    etcd_members: int | None = None,
    tsdb: str | None = None,
) -> Layout:
    """The layout from arguments, else NINES_STACK_DIR / NINES_PORT_OFFSET / NINES_TSDB, else
    `.stack/`, 0 and `prometheus`."""
    root_path = Path(root or os.environ.get("NINES_STACK_DIR") or REPO / ".stack")
    off = offset if offset is not None else int(os.environ.get("NINES_PORT_OFFSET", "0"))
    chosen = tsdb or os.environ.get("NINES_TSDB") or "prometheus"
    return Layout(root=root_path.absolute(), offset=off, etcd_members=etcd_members or 3, tsdb=chosen)
