"""Bring the whole stack up in dependency order, report its status, and take it down by pid."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from stack import netops, process
from stack.components.apps import APPS, App
from stack.components.base import Component
from stack.components.etcd import Etcd, etcd_names
from stack.components.haproxy import INSTANCES, HAProxy
from stack.components.keepalived import Keepalived
from stack.components.nines import SLOAPI_DATABASE, nines_services
from stack.components.observability import Alertmanager, Sink
from stack.components.patroni import NODES, Patroni, cluster_ready, leader_port
from stack.components.pgbouncer import INSTANCES as PGBOUNCERS
from stack.components.pgbouncer import PgBouncer
from stack.components.victoria import TSDB_COMPONENTS, tsdb_components
from stack.layout import Layout
from stack.network import PAIRS, NetworkError

READY_TIMEOUT = 120.0


class StackError(RuntimeError):
    """A component failed to start or become ready; the message names it and quotes its log."""


@dataclass
class Status:
    """One line of `status`."""

    name: str
    kind: str
    pid: int | None
    address: str
    healthy: bool | None = None  # for rows without a process (a VIP): held by exactly one node

    @property
    def up(self) -> bool:
        return self.pid is not None if self.healthy is None else self.healthy

    def line(self) -> str:
        state = "up" if self.up else "down"
        return f"{self.name:<20} {state:<5} {self.pid or '-':>8}  {self.address}"


def vip_urls(lay: Layout) -> list[str]:
    """What clients use: the front-door VIP's listeners and the PgBouncer VIP."""
    front = lay.host("haproxy")
    listeners = ", ".join(f"{x} :{lay.port('haproxy.' + x)}" for x in ("http", "api", "admin"))
    pg = f"primary :{lay.port('haproxy.pg-primary')}, replicas :{lay.port('haproxy.pg-replicas')}"
    return [
        f"{'front-door VIP':<20} https://{front}:{lay.port('haproxy.https')}/ ({listeners})",
        f"{'':<20} postgresql://{front} ({pg})",
        f"{'pgbouncer VIP':<20} postgresql://app@{lay.addr('pgbouncer')}/app",
    ]


def _port_owner(port_name: str) -> str:
    """Component owning a port-table entry: `haproxy-a.https` -> haproxy-a, `patroni-2` -> pg-2."""
    base = port_name.split(".", 1)[0]
    if base.startswith("patroni-") and base.split("-")[1].isdigit():
        return "pg-" + base.split("-")[1]
    if base in ("smtp", "webhook"):
        return "sink"
    return base


class Stack:
    """The local HA stack: every component, in start order, under one state directory."""

    def __init__(self, layout: Layout, with_services: bool = True) -> None:
        self.layout = layout
        etcd: list[Component] = [Etcd(layout, n) for n in etcd_names(layout)]
        pg: list[Component] = [Patroni(layout, n) for n in NODES]
        edge: list[Component] = [
            *(App(layout, n) for n in APPS),
            *(HAProxy(layout, n) for n in INSTANCES),
            *(Keepalived(layout, n) for p in PAIRS if p.service == "haproxy" for n in p.nodes),
            Sink(layout),
            Alertmanager(layout),
        ]
        pooling: list[Component] = [
            *(PgBouncer(layout, n) for n in PGBOUNCERS),
            *(Keepalived(layout, n) for p in PAIRS if p.service == "pgbouncer" for n in p.nodes),
        ]
        services: list[Component] = nines_services(layout) if with_services else []
        names = {c.name for c in [*etcd, *pg, *edge, *pooling, *services]} | {"pgbouncer"}
        names |= set(TSDB_COMPONENTS.get(layout.tsdb, ()))
        self.phases: list[list[Component]] = [
            [*etcd, *edge],
            pg,
            pooling,
            [*services, *tsdb_components(layout, lambda port_name: _port_owner(port_name) in names)],
        ]
        self.components = [c for phase in self.phases for c in phase]

    # -- lookup -------------------------------------------------------------------------------
    def component(self, name: str) -> Component:
        """The component called `name`; KeyError lists the known names."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r}; known: {', '.join(c.name for c in self.components)}")

    def port(self, name: str) -> int:
        return self.layout.port(name)

    def addr(self, name: str) -> str:
        return self.layout.addr(name)

    def path(self, *parts: str) -> Path:
        return self.layout.path(*parts)

    def secret(self, name: str) -> str:
        return self.layout.secret(name)

    def pid(self, name: str) -> int | None:
        return process.running_pid(self.layout.pidfile(name))

    # -- lifecycle ----------------------------------------------------------------------------
    def up(self, progress: Callable[[str], None] = print, timeout: float = READY_TIMEOUT) -> None:
        """Start whatever is not running, phase by phase, waiting until each phase is ready."""
        self.layout.prepare()
        started = time.monotonic()
        self.network_up(progress)
        for i, phase in enumerate(self.phases):
            for comp in phase:
                self.start_component(comp.name, wait=False)
            self.wait_ready(phase, timeout, progress)
            self._wait_vips(phase, timeout, progress)
            if phase[0].kind == "patroni":
                self._wait(
                    lambda: cluster_ready(self.layout),
                    "patroni cluster (leader + sync standby)",
                    phase,
                    timeout,
                )
                progress("  patroni: leader and synchronous standby ready")
                self.bootstrap_database()
            progress(
                f"phase {i + 1}/{len(self.phases)} ready ({time.monotonic() - started:.0f}s): "
                + ", ".join(c.name for c in phase)
            )

    def network_up(self, progress: Callable[[str], None] = print) -> None:
        """Create the bridge, namespaces and veths (idempotent); kill what a crashed run left in them."""
        net = self.layout.net
        if self.layout.root.resolve().is_relative_to("/tmp"):  # noqa: S108 - a check, not a use
            raise StackError(
                f"the state directory {self.layout.root} is under /tmp, which each keepalived "
                "replaces with its own dump directory (its private mount namespace): keepalived "
                "could not read its configuration. Choose another --dir / NINES_STACK_DIR."
            )
        try:
            netops.make(net, self.layout.path("network.json"))
            ours = [p for c in self.components if (p := self.pid(c.name))]
            strays = netops.kill_strays(net, ours)
        except NetworkError as exc:
            raise StackError(str(exc)) from exc
        if strays:
            progress(f"  network: stopped {len(strays)} leftover process(es) of an earlier run")
        progress(f"  network: bridge {net.bridge} {net.bridge_ip}/24, namespaces {net.prefix}*")

    def network_down(self) -> list[str]:
        """Remove every namespace, veth and bridge of this stack (recorded or found by name)."""
        try:
            return netops.remove(self.layout.net, self.layout.path("network.json"))
        except NetworkError as exc:
            raise StackError(str(exc)) from exc

    def vip_holders(self) -> dict[str, list[str]]:
        """VRRP instance -> nodes whose interface carries its VIP now."""
        return {p.instance: netops.vip_holders(self.layout.net, p.instance) for p in PAIRS}

    def _wait_vips(self, phase: Sequence[Component], timeout: float, progress: Callable[[str], None]) -> None:
        """After a phase that starts keepalived: wait until each of its VIPs is on the pair's master."""
        net = self.layout.net
        for comp in phase:
            if not isinstance(comp, Keepalived) or comp.node != comp.pair.nodes[0]:
                continue
            instance, node = comp.pair.instance, comp.node

            def on_master(instance: str = instance, node: str = node) -> bool:
                return netops.vip_holders(net, instance) == [node]

            self._wait(on_master, f"VIP {instance} on {node}", [comp], timeout)
            progress(f"  vip {instance}: {net.vip(instance)} on {node}")

    def start_component(self, name: str, wait: bool = True, timeout: float = READY_TIMEOUT) -> int:
        """Start one component unless it already runs; return its pid."""
        comp = self.component(name)
        pid = self.pid(name)
        if pid is None:
            try:
                comp.prepare()
            except Exception as exc:  # a bad config: name the component
                detail = getattr(exc, "stderr", b"") or b""
                raise StackError(
                    f"{name}: preparing failed: {exc}\n"
                    f"{detail.decode(errors='replace') if isinstance(detail, bytes) else detail}"
                ) from exc
            argv, user = comp.command()
            pid = process.spawn(
                argv,
                log=self.layout.log(name),
                pidfile=self.layout.pidfile(name),
                env=comp.env(),
                cwd=comp.cwd(),
                user=user,
            )
        else:
            comp.refresh()
        if wait:
            self.wait_ready([comp], timeout)
        return pid

    def wait_ready(
        self,
        comps: Sequence[Component],
        timeout: float = READY_TIMEOUT,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Poll until every component is ready; fail naming the first that died or never got ready."""
        pending = list(comps)
        deadline = time.monotonic() + timeout
        while pending:
            for comp in list(pending):
                if self.pid(comp.name) is None:
                    raise self._failure(comp, "exited during start")
                if comp.ready():
                    pending.remove(comp)
                    if progress:
                        progress(f"  {comp.name}: ready")
            if pending and time.monotonic() > deadline:
                raise self._failure(pending[0], f"not ready after {timeout:.0f}s")
            if pending:
                time.sleep(0.3)

    def _wait(self, cond: Callable[[], bool], what: str, comps: Sequence[Component], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            dead = [c for c in comps if self.pid(c.name) is None]
            if dead:
                raise self._failure(dead[0], f"exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise self._failure(comps[0], f"{what}: not reached after {timeout:.0f}s")
            time.sleep(0.5)

    def _failure(self, comp: Component, why: str) -> StackError:
        log = self.layout.log(comp.name)
        return StackError(
            f"{comp.name} {why}. Last lines of {log}:\n{process.tail(log)}\n"
            "What started so far keeps running: fix the cause and run `python -m stack up` again, "
            "or `python -m stack down` to stop it."
        )

    def bootstrap_database(self) -> None:
        """Create the app role and database, the monitoring role and, for several sloapi instances,
        sloapi's role and database on the leader (idempotent)."""
        lay = self.layout
        port = leader_port(lay)
        if port is None:
            raise StackError("patroni: no leader to bootstrap the database on")
        roles = {"app": "app", "nines_monitor": "monitor"}
        databases = {"app": "app"}
        if lay.sloapi_instances > 1:
            roles[SLOAPI_DATABASE] = databases[SLOAPI_DATABASE] = SLOAPI_DATABASE
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            dbname="postgres",
            user="postgres",
            password=lay.secret("postgres"),
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            for role, secret_name in roles.items():
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                conn.execute(
                    psycopg.sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                        psycopg.sql.SQL(verb),
                        psycopg.sql.Identifier(role),
                        psycopg.sql.Literal(lay.secret(secret_name)),
                    )
                )
            conn.execute("GRANT pg_monitor TO nines_monitor")
            for db, owner in databases.items():
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                    conn.execute(
                        psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            psycopg.sql.Identifier(db), psycopg.sql.Identifier(owner)
                        )
                    )

    def stop_component(self, name: str, timeout: float | None = None) -> None:
        """Stop one component by its pid (SIGTERM, then SIGKILL), and clean up after it."""
        comp = self.component(name)
        pid = self.pid(name)
        if pid is not None:
            process.terminate(pid, timeout=timeout or comp.stop_timeout)
        comp.after_stop()
        self.layout.pidfile(name).unlink(missing_ok=True)

    def down(self, progress: Callable[[str], None] = print) -> None:
        """Stop every component, in reverse start order, then remove the stack's network."""
        for comp in reversed(self.components):
            if self.pid(comp.name) is not None or comp.kind == "patroni":
                self.stop_component(comp.name)
                progress(f"  {comp.name}: stopped")
        gone = self.network_down()
        if gone:
            progress(f"  network: removed {', '.join(gone)}")

    def purge(self) -> None:
        """Remove the state directory (after `down`)."""
        if any(self.pid(c.name) for c in self.components):
            raise StackError("stack is running: run `python -m stack down` first")
        shutil.rmtree(self.layout.root, ignore_errors=True)

    def status(self) -> list[Status]:
        """One entry per component, then one per VIP (which node holds it)."""
        rows = [Status(c.name, c.kind, self.pid(c.name), c.address) for c in self.components]
        for instance, holders in self.vip_holders().items():
            vip = self.layout.net.vip(instance)
            where = ", ".join(holders) if holders else "no node"
            if len(holders) > 1:
                where += " (split brain)"
            rows.append(Status(f"vip-{instance}", "vip", None, f"{vip} on {where}", len(holders) == 1))
        return rows

    def urls(self) -> Iterable[str]:
        yield from vip_urls(self.layout)
        for comp in self.components:
            for url in comp.urls():
                yield f"{comp.name:<20} {url}"
