"""Drill scenarios: how to inject each fault, how to repair it, and what we expect to happen.

Each expectation is generous on purpose: the drill fails only when something is really wrong
(a failover that never happens, an alert that never fires, a committed row lost).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from stack import netops, process
from stack.components.etcd import etcd_names
from stack.components.nines import SLOAPI_NAMES, instance_name
from stack.components.patroni import NODES, Patroni, cluster_state, rest_name
from stack.drills import sends
from stack.drills.watch import Predicate, Samples, find
from stack.runner import Stack


@dataclass
class Context:
    """What a scenario's steps share: the stack and what `inject` found (e.g. the old leader)."""

    stack: Stack
    facts: dict[str, Any] = field(default_factory=dict)

    def leader(self) -> str | None:
        state = cluster_state(self.stack.layout)
        for m in (state or {}).get("members", []):
            if m.get("role") in ("leader", "master"):
                return str(m["name"])
        return None

    def replicas(self) -> list[dict[str, Any]]:
        state = cluster_state(self.stack.layout) or {}
        return [m for m in state.get("members", []) if m.get("role") in ("replica", "sync_standby")]

    def patroni(self, node: str) -> Patroni:
        comp = self.stack.component(node)
        assert isinstance(comp, Patroni)
        return comp

    def superuser_dsn(self, port: int) -> str:
        return (
            f"host=127.0.0.1 port={port} dbname=postgres user=postgres "
            f"password={self.stack.secret('postgres')}"
        )


@dataclass
class Scenario:
    """A fault, its repair, and what a healthy stack does about it.

    Attributes:
        exporter: which of our exporters shows the fault (its `/metrics` is polled), or None.
        detect: predicate over that exporter's samples, built once `inject` has found its victim.
        alerts: alert names at least one of which should fire (in Prometheus, then Alertmanager).
        alert_within: seconds after T0 for the first of `alerts` to fire (the detection target is
            60 s: scrape and evaluation every 10 s plus each alert's `for`).
        leader_change: a new Patroni leader is expected, within `leader_within` seconds.
        no_leader_change: the leader must stay the same (etcd member loss, server down...).
        max_write_errors_window: the longest acceptable client error window for writes, seconds
            (None: not judged, e.g. when the fault removes the only write path on purpose).
        no_promotion: no member other than the original leader may become leader.
        hold: minimum seconds the fault stays before repair (the drill otherwise repairs as soon
            as what it waits for has happened, or its deadline passed).
        etcd_members: the stack must run at least this many etcd members.
        vip: the VRRP instance (`frontdoor`, `pgbouncer`) whose VIP the fault moves.
        vip_holders: the nodes that must carry that VIP while the fault lasts (two: split brain),
            within `vip_within` seconds of T0 (judged from `ip` in the nodes' namespaces).
        max_http_errors_window: the longest acceptable HTTPS error window through the front-door VIP.
        tolerated: critical alerts the fault legitimately raises besides `alerts` (not false pages).
        keepalived_alerts: `alerts` come from the keepalived exporter; when the stack does not run
            it, the alert expectation is reported as NOT JUDGED instead of failing.
        sloapi_instances: the stack must run at least this many sloapi instances.
        judge: the scenario's own expectations, after settling: (name, held, detail) each.
    """

    name: str
    description: str
    inject: Callable[[Context], None]
    repair: Callable[[Context], None]
    exporter: str | None = None
    detect: Callable[[Context], Predicate] | None = None
    alerts: tuple[str, ...] = ()
    alert_within: float = 60.0
    leader_change: bool = False
    leader_within: float = 30.0
    no_leader_change: bool = False
    no_promotion: bool = False
    max_write_errors_window: float | None = 30.0
    hold: float = 0.0
    etcd_members: int = 1
    vip: str | None = None
    vip_holders: tuple[str, ...] = ()
    vip_within: float = 3.0
    max_http_errors_window: float | None = None
    tolerated: tuple[str, ...] = ()
    keepalived_alerts: bool = False
    quick: bool = False
    sloapi_instances: int = 1
    judge: Callable[[Context], list[tuple[str, bool, str]]] | None = None


# -- Patroni ---------------------------------------------------------------------------------------
def _kill_primary(ctx: Context) -> None:
    leader = ctx.leader()
    assert leader, "no leader to kill"
    ctx.facts["victim"] = leader
    node = ctx.patroni(leader)
    pid, pm = ctx.stack.pid(leader), node.postmaster_pid()
    for p in (pid, pm):
        if p:
            process.kill(p, signal.SIGKILL)


def _restart_victim(ctx: Context) -> None:
    victim = ctx.facts["victim"]
    ctx.stack.stop_component(victim)  # clears the pid file and any orphaned postmaster
    ctx.stack.start_component(victim, timeout=180)


def _switchover(ctx: Context) -> None:
    leader = ctx.leader()
    candidates = [m["name"] for m in ctx.replicas() if m.get("role") == "sync_standby"] or [
        m["name"] for m in ctx.replicas()
    ]
    assert leader and candidates, "switchover needs a leader and a replica"
    ctx.facts["victim"], ctx.facts["candidate"] = leader, candidates[0]
    _patronictl(ctx, "switchover", "--leader", leader, "--candidate", candidates[0], "--force")


def _patronictl(ctx: Context, *args: str) -> None:
    """Run patronictl as postgres with the current leader's (else pg-1's) configuration."""
    cfg = ctx.patroni(ctx.leader() or NODES[0]).home / "patroni.yml"
    subprocess.run(
        ["patronictl", "-c", str(cfg), *args],
        check=True,
        capture_output=True,
        timeout=120,
        user="postgres",
        group="postgres",
    )


def _nothing(ctx: Context) -> None:
    return None


def _target_is(metric: str, value: float, **labels: str) -> Callable[[Context], Predicate]:
    def build(ctx: Context) -> Predicate:
        resolved = {k: ctx.facts.get(v[1:], v) if v.startswith("$") else v for k, v in labels.items()}

        def pred(samples: Samples) -> bool:
            return value in find(samples, metric, **resolved)

        return pred

    return build


# -- HAProxy ---------------------------------------------------------------------------------------
def _fail_health(ctx: Context) -> None:
    ctx.facts["victim"] = "app-2"
    ctx.stack.path("run", "app-2.unhealthy").touch()


def _heal(ctx: Context) -> None:
    ctx.stack.path("run", "app-2.unhealthy").unlink(missing_ok=True)


def _stop(name: str) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        ctx.facts["victim"] = name
        pid = ctx.stack.pid(name)
        if pid:
            process.kill(pid, signal.SIGKILL)

    return step


def _start(*names: str) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        for name in names:
            ctx.stack.stop_component(name)
            ctx.stack.start_component(name, timeout=120)

    return step


def _etcd_leader(ctx: Context) -> str:
    """The etcd member that leads now (asked through each member's JSON gateway)."""
    for name in etcd_names(ctx.stack.layout):
        try:
            answer = httpx.post(f"http://{ctx.stack.addr(name)}/v3/maintenance/status", json={}, timeout=2)
            status = answer.json()
        except (httpx.HTTPError, ValueError):
            continue
        if status.get("leader") and status.get("leader") == status.get("header", {}).get("member_id"):
            return name
    raise RuntimeError("no etcd member says it leads")


def _stop_etcd_leader(ctx: Context) -> None:
    """SIGKILL the etcd leader: the members left must elect another (2.5 to 5 s with the
    design's 2500 ms election timeout) while Patroni's primary keeps its role."""
    _stop(_etcd_leader(ctx))(ctx)


def _start_victim(ctx: Context) -> None:
    _start(ctx.facts["victim"])(ctx)


def _restart_pgbouncer(ctx: Context) -> None:
    ctx.facts["victim"] = "pgbouncer-a"
    ctx.stack.stop_component("pgbouncer-a", timeout=10)
    ctx.stack.start_component("pgbouncer-a", timeout=60)


# -- keepalived and the VIPs -----------------------------------------------------------------------
def _kill_node(node: str, *names: str) -> Callable[[Context], None]:
    """The node dies: its link goes down and its processes are SIGKILLed."""

    def step(ctx: Context) -> None:
        ctx.facts["victim"] = ",".join(names)
        for name in names:  # first: a dying node cleans nothing up (its VIP stays on its link)
            pid = ctx.stack.pid(name)
            if pid:
                process.kill_group(pid)
        netops.ip("link", "set", ctx.stack.layout.net.veth(node), "down")

    return step


def _revive_node(node: str, *names: str) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        netops.ip("link", "set", ctx.stack.layout.net.veth(node), "up")
        _start(*names)(ctx)

    return step


def _kill_keepalived(name: str) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        ctx.facts["victim"] = name
        pid = ctx.stack.pid(name)
        if pid:
            process.kill_group(pid)

    return step


def _partition(attached: bool) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        ctx.facts["victim"] = "lb-a"
        netops.set_bridged(ctx.stack.layout.net, "lb-a", attached)

    return step


def _stop_many(*names: str) -> Callable[[Context], None]:
    def step(ctx: Context) -> None:
        ctx.facts["victim"] = ",".join(names)
        for name in names:
            ctx.stack.stop_component(name, timeout=10)

    return step


# -- replication lag -------------------------------------------------------------------------------
def _pause_replay(ctx: Context) -> None:
    replica = next((m for m in ctx.replicas() if m.get("role") == "replica"), None) or ctx.replicas()[0]
    ctx.facts["victim"] = replica["name"]
    # Patroni (3.0+, PostgreSQL 14+) resumes a paused replay within one loop unless the cluster
    # is in maintenance mode: hold the pause for the length of the fault.
    _patronictl(ctx, "pause", "--wait")
    try:
        with psycopg.connect(ctx.superuser_dsn(int(replica["port"])), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
    except BaseException:
        _patronictl(ctx, "resume", "--wait")
        raise


def _resume_replay(ctx: Context) -> None:
    """Resume replay and wait until the replica has replayed everything it received."""
    port = ctx.stack.port(ctx.facts["victim"])
    query = "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
    try:
        with psycopg.connect(ctx.superuser_dsn(port), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
            deadline = time.monotonic() + 120
            caught_up = False
            while not caught_up and time.monotonic() < deadline:
                row = conn.execute(query).fetchone()
                caught_up = bool(row and row[0])
                if not caught_up:
                    time.sleep(1)
        ctx.facts["caught_up"] = caught_up
    finally:
        _patronictl(ctx, "resume", "--wait")


def _lagging(ctx: Context) -> Predicate:
    member = ctx.facts["victim"]

    def pred(samples: Samples) -> bool:
        values = find(samples, "patroni_replication_replay_lag_seconds", member=member) + find(
            samples, "patroni_replication_replay_lag_estimate_seconds", member=member
        )
        return any(v > 0.1 for v in values)

    return pred


# -- sloapi report sends -----------------------------------------------------------------------------
def _send_then(fault: Callable[[Context], None]) -> Callable[[Context], None]:
    """Start a report send on the scheduler lease's holder, hold it mid-send (sink frozen, claims
    committed), inject `fault`, then let the sink answer again."""

    def step(ctx: Context) -> None:
        holder = sends.lease_holder(ctx.stack)
        ctx.facts["sender"] = holder
        ctx.facts["send"] = send = sends.start_send(ctx.stack, holder)
        try:
            ctx.facts["claimed"] = sends.wait_claims(ctx.stack, send)
            fault(ctx)
        finally:
            sends.freeze_sink(ctx.stack, False)

    return step


def _kill_sender(ctx: Context) -> None:
    ctx.facts["victim"] = sender = ctx.facts["sender"]
    sends.kill_instance(ctx.stack, sender)
    ctx.facts["finisher"] = next(n for n in SLOAPI_NAMES if n != sender)


def _restart_sender_when_delivered(ctx: Context) -> None:
    """Let the other instance finish first (so the judge sees who did), then restart the victim."""
    sends.wait_delivered(ctx.stack, ctx.facts["send"])
    _restart_victim(ctx)


def _judge_send(ctx: Context) -> list[tuple[str, bool, str]]:
    finisher = ctx.facts.get("finisher")
    return sends.judge_delivery(ctx.stack, ctx.facts["send"], instance_name(finisher) if finisher else None)


_SWITCHOVER_EXPECTED: dict[str, Any] = {
    "exporter": "patroni-exporter",
    "detect": _target_is("patroni_primary", 0, target="$victim"),
    "alerts": ("PatroniFailover",),
    "alert_within": 60,
    "leader_change": True,
    "leader_within": 30,
    "max_write_errors_window": 30,
}
"""What a switchover does, with or without a report send in flight."""

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "patroni-primary-kill",
            "SIGKILL the primary's Patroni and postmaster",
            _kill_primary,
            _restart_victim,
            exporter="patroni-exporter",
            detect=_target_is("patroni_up", 0, target="$victim"),
            alerts=("PatroniFailover", "PatroniMemberDown"),
            alert_within=60,
            leader_change=True,
            leader_within=10,  # the design: promotion "typically in under 10 s"
            max_write_errors_window=60,
        ),
        Scenario(
            "patroni-switchover",
            "a planned `patronictl switchover` to the synchronous standby",
            _switchover,
            _nothing,
            **_SWITCHOVER_EXPECTED,
            quick=True,
        ),
        Scenario(
            "haproxy-server-down",
            "web server app-2 fails its health check",
            _fail_health,
            _heal,
            exporter="haproxy-exporter",
            detect=_target_is(
                "haproxy_server_status", 1, proxy="web", server="app-2", state="DOWN", target="haproxy-a"
            ),
            alerts=("HaproxyServerDown",),
            alert_within=60,
            no_leader_change=True,
            max_write_errors_window=0,
            quick=True,
        ),
        Scenario(
            "haproxy-active-down",
            "the active HAProxy (haproxy-a) dies; keepalived moves the front-door VIP to lb-b",
            _stop("haproxy-a"),
            _start("haproxy-a"),
            exporter="haproxy-exporter",
            detect=_target_is("haproxy_up", 0, target="haproxy-a"),
            alerts=("HaproxyDown",),
            alert_within=60,
            no_leader_change=True,
            # keepalived tracks its HAProxy: the VIP moves in well under a second, PgBouncer's
            # server connections and HTTPS clients reconnect through it to haproxy-b.
            vip="frontdoor",
            vip_holders=("lb-b",),
            vip_within=3,  # the track script runs every second (see stack/templates/keepalived.conf.j2)
            max_write_errors_window=5,
            max_http_errors_window=5,
            quick=True,
        ),
        Scenario(
            "keepalived-master-down",
            "SIGKILL keepalived on the front-door master (lb-a): no goodbye advertisement",
            _kill_keepalived("keepalived-lb-a"),
            _start("keepalived-lb-a"),
            alerts=("KeepalivedDown",),
            keepalived_alerts=True,
            alert_within=60,
            no_leader_change=True,
            # lb-b declares the silent master dead after 3 adverts + skew (~0.7 s) and takes the VIP;
            # the killed keepalived cannot remove its copy, so lb-a keeps a stale one until restarted:
            # lb-b's gratuitous ARP is what moves the clients.
            vip="frontdoor",
            vip_holders=("lb-a", "lb-b"),
            vip_within=2,
            hold=15,
            max_write_errors_window=5,
            max_http_errors_window=5,
        ),
        Scenario(
            "pgbouncer-node-down",
            "the active PgBouncer node (pgb-a) dies: link down, PgBouncer and keepalived killed",
            _kill_node("pgb-a", "pgbouncer-a", "keepalived-pgb-a"),
            _revive_node("pgb-a", "pgbouncer-a", "keepalived-pgb-a"),
            exporter="pgbouncer-exporter",
            detect=_target_is("pgbouncer_up", 0, target="pgbouncer-a"),
            alerts=("PgbouncerDown",),
            alert_within=60,
            no_leader_change=True,
            vip="pgbouncer",
            vip_holders=("pgb-a", "pgb-b"),  # pgb-a's stale copy stays on its dead link
            vip_within=2,
            max_write_errors_window=5,
            max_http_errors_window=10,
        ),
        Scenario(
            "lb-partition",
            "lb-a's link is detached from the bridge: both load balancers believe they are master",
            _partition(False),
            _partition(True),
            alerts=("KeepalivedSplitBrain",),
            keepalived_alerts=True,
            alert_within=60,
            no_leader_change=True,
            vip="frontdoor",
            vip_holders=("lb-a", "lb-b"),
            vip_within=2,
            hold=30,
            # Cut off, haproxy-a loses every backend and Prometheus loses its promex endpoint.
            tolerated=("HaproxyBackendNoServerUp", "HaproxyPostgresPrimaryMissing"),
            max_write_errors_window=5,
            max_http_errors_window=5,
        ),
        Scenario(
            "pgbouncer-restart",
            "PgBouncer pgbouncer-a (the VIP holder) stops and starts again",
            _restart_pgbouncer,
            _nothing,
            exporter=None,
            no_leader_change=True,
            max_write_errors_window=20,
        ),
        Scenario(
            "etcd-member-down",
            "the etcd leader, one member of three, is killed (quorum kept, an election)",
            _stop_etcd_leader,
            _start_victim,
            alerts=("EtcdMemberDown", "EtcdInsufficientMembers"),
            alert_within=60,
            no_leader_change=True,
            max_write_errors_window=0,
            etcd_members=3,
        ),
        Scenario(
            "etcd-quorum-loss",
            "two etcd members of three stop: no promotion may happen",
            _stop_many("etcd-2", "etcd-3"),
            _start("etcd-2", "etcd-3"),
            # No DCS, but every Patroni member answers: in failsafe mode the primary stays and
            # writes go on (without it, the primary demoted itself and HAProxy lost it).
            alerts=("EtcdInsufficientMembers", "EtcdNoLeader", "PatroniFailsafeActive"),
            alert_within=60,
            no_promotion=True,
            no_leader_change=True,
            max_write_errors_window=0,
            hold=60,
            etcd_members=3,
        ),
        Scenario(
            "replication-lag",
            "replay paused on a replica past the lag thresholds (cluster in maintenance mode, "
            "or Patroni would resume replay)",
            _pause_replay,
            _resume_replay,
            exporter="patroni-exporter",
            detect=_lagging,
            alerts=("PatroniReplicationLag",),
            alert_within=60,
            no_leader_change=True,
            max_write_errors_window=0,
            quick=True,
        ),
        Scenario(
            "sloapi-instance-down",
            "SIGKILL the sloapi instance holding the report scheduler lease in the middle of a send",
            _send_then(_kill_sender),
            _restart_sender_when_delivered,
            tolerated=("NinesExporterDown",),
            max_write_errors_window=0,
            no_leader_change=True,
            sloapi_instances=2,
            judge=_judge_send,
        ),
        Scenario(
            "report-send-switchover",
            "a `patronictl switchover` of sloapi's store in the middle of a report send",
            _send_then(_switchover),
            _nothing,
            **_SWITCHOVER_EXPECTED,
            sloapi_instances=2,
            judge=_judge_send,
        ),
    )
}


def rest_url(stack: Stack, node: str) -> str:
    """Patroni REST base URL of `node`."""
    return f"http://{stack.addr(rest_name(node))}"
