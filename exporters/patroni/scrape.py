"""Scrape one Patroni target: `/patroni`, `/cluster` and `/history` at once, then parse.

`/patroni` is required (its failure fails the target: `patroni_up 0`). `/cluster`, `/history`
and the optional `pg_stat_replication` query only add series; when one of them fails the node
series are still served and `patroni_exporter_source_up{source}` says which part is missing.
With a monitoring DSN, `/patroni` is read after `/cluster` and the leader's query, so that the
replay lag of the target's own replica compares it with what the leader had already written
(see `exporters.patroni.lag`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx

from exporters.core.config import Target
from exporters.core.errors import ExporterError
from exporters.core.logs import mask
from exporters.core.metrics import Family
from exporters.patroni import client as http
from exporters.patroni.cluster import ClusterView, cluster_families, parse_cluster
from exporters.patroni.history import history_families, parse_history
from exporters.patroni.lag import (
    LeaderReading,
    behind_leader,
    estimate_families,
    replication_families,
    stall_replay_lag,
)
from exporters.patroni.node import member_name, node_families, parse_node
from exporters.patroni.pgstat import (
    DEFAULT_PG_PORT,
    dsn_port,
    host_port,
    monitoring_password,
    read_replication,
)

log = logging.getLogger("exporters.patroni")
SOURCES = ("/cluster", "/history", "pg_stat_replication")


class PatroniScraper:
    """Reads Patroni targets; keeps one keep-alive HTTP client per target.

    Args:
        env: environment for `*_env` secrets (a parameter for tests).
        clock: wall clock, seconds since the epoch (for the lag estimate).
        max_workers: threads for the side requests of all targets.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        max_workers: int = 64,
    ) -> None:
        self._env = os.environ if env is None else env
        self._clock = clock
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="patroni-get")
        self._warned: dict[tuple[str, str], str] = {}
        self.monitoring_hosts: set[tuple[str, int]] = set()

    def allow_hosts(self, targets: Iterable[Target]) -> None:
        """Where the monitoring DSN may be sent: `(host, port)` pairs the configuration names.

        Each target's own host at the monitoring DSN's port (5432 without one), and each entry of
        its `monitoring_hosts` (`host`, `host:port`, `[v6]:port`; a bare host at the DSN's port).
        The leader's address comes from `/cluster`, i.e. from an answer: the password is only
        ever sent to a host and port the configuration names.

        Raises:
            ConfigError: an entry of `monitoring_hosts` is not `host` or `host:port`.
        """
        for t in targets:
            self.monitoring_hosts |= monitoring_endpoints(t)

    def close(self) -> None:
        """Close the HTTP clients and the thread pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for c in self._clients.values():
                c.close()
            self._clients.clear()

    def _client(self, target: Target) -> httpx.Client:
        with self._lock:
            c = self._clients.get(target.name)
            if c is None:
                https = target.address.lower().startswith("https:")
                c = http.make_client(target.options, target.timeout, self._env, tls=https)
                self._clients[target.name] = c
            return c

    def scrape(self, target: Target) -> list[Family]:
        """Scrape one target (the framework's `scrape`); raises on failure of `/patroni`."""
        client = self._client(target)
        base = target.address.rstrip("/")
        until = time.monotonic() + target.timeout
        side: dict[str, Future[object]] = {
            p: self._pool.submit(http.get_json, client, base, p, until) for p in ("/cluster", "/history")
        }
        ok: dict[str, bool] = {}
        leader, offset = None, 0.0
        dsn = bool(target.options.get("monitoring_dsn"))
        if dsn:
            # The leader first, then /patroni: a replica that has not replayed by then what the
            # leader had written is really behind, not merely asked a moment earlier.
            cluster_doc, view = self._side(target, side["/cluster"], "/cluster", parse_cluster)
            leader = self._read_leader(target, view, ok)
            if leader is not None and leader.clock is not None:
                offset = leader.clock - self._clock()  # "now" on the leader's clock
        node = parse_node(http.get_json(client, base, "/patroni", until))
        now = self._clock() + offset
        if not dsn:
            cluster_doc, view = self._side(target, side["/cluster"], "/cluster", parse_cluster)
        _, history = self._side(target, side["/history"], "/history", parse_history)
        netloc = urlsplit(base).netloc.rsplit("@", 1)[-1]
        name = (
            member_name(node, cluster_doc if isinstance(cluster_doc, dict) else None, netloc) or target.name
        )
        scope = node.scope
        out = node_families(node, name)
        ok.update({"/cluster": view is not None, "/history": history is not None})
        if view is not None:
            out += cluster_families(view, scope)
        if history is not None:
            out += history_families(history, scope)
        own = next((m for m in view.members if m.name == name), None) if view is not None else None
        stall = stall_replay_lag(node, behind_leader(node, leader, own), now)
        if leader is not None and leader.primary:
            stalled = {name: stall} if stall is not None else None
            out += replication_families(leader.standbys, scope, stalled)
        if stall is not None:
            out += estimate_families(scope, name, stall)
        out.append(_source_up(ok))
        return out

    def _side(
        self, target: Target, fut: Future[object], path: str, parse: Callable[[object], Any]
    ) -> tuple[object, Any]:
        try:
            doc = fut.result(timeout=target.timeout)
            return doc, parse(doc)
        except (ExporterError, TimeoutError, OSError) as e:
            self._warn(target, path, str(e) or type(e).__name__)
            return None, None
        except Exception as e:
            self._warn(target, path, f"{type(e).__name__}: {e}")
            return None, None

    def _read_leader(
        self, target: Target, view: ClusterView | None, ok: dict[str, bool]
    ) -> LeaderReading | None:
        dsn = target.options.get("monitoring_dsn")
        if not dsn:
            return None
        leader = view.leader if view is not None else None
        if leader is None or not leader.host:
            ok["pg_stat_replication"] = False
            return None
        port = leader.port if leader.port is not None else DEFAULT_PG_PORT
        if (leader.host, port) not in self.monitoring_hosts:
            self._warn(
                target,
                "pg_stat_replication",
                f"leader {leader.host}:{port} is neither a target's host at the monitoring DSN's "
                "port nor in monitoring_hosts: not connecting",
            )
            ok["pg_stat_replication"] = False
            return None
        try:
            password = monitoring_password(target.options, self._env)
            reading = read_replication(str(dsn), leader.host, port, password, target.timeout)
        except ExporterError as e:
            self._warn(target, "pg_stat_replication", str(e))
            ok["pg_stat_replication"] = False
            return None
        ok["pg_stat_replication"] = reading.primary
        return reading

    def _warn(self, target: Target, source: str, message: str) -> None:
        message = mask(message)
        key = (target.name, source)
        with self._lock:
            changed = self._warned.get(key) != message
            self._warned[key] = message
        log.log(
            logging.WARNING if changed else logging.DEBUG,
            "part of a scrape failed",
            extra={"fields": {"target": target.name, "source": source, "error": message}},
        )


def monitoring_endpoints(target: Target) -> set[tuple[str, int]]:
    """The `(host, port)` pairs a target lets the monitoring DSN reach (see `allow_hosts`).

    Raises:
        ConfigError: an entry of `monitoring_hosts` is not `host` or `host:port`.
    """
    port = dsn_port(target.options.get("monitoring_dsn"))
    out: set[tuple[str, int]] = set()
    host = urlsplit(target.address).hostname
    if host:
        out.add((host, port))
    extra = target.options.get("monitoring_hosts") or []
    if isinstance(extra, str):
        extra = extra.split(",")
    out.update(host_port(str(e).strip(), port) for e in extra if str(e).strip())
    return out


def _source_up(ok: dict[str, bool]) -> Family:
    fam = Family(
        "patroni_exporter_source_up",
        "gauge",
        "1 if the last scrape read this optional source of the target (/cluster, /history, "
        "pg_stat_replication when a monitoring DSN is set), else 0.",
        ("source",),
    )
    for s in SOURCES:
        if s in ok:
            fam.add((s,), float(ok[s]))
    return fam
