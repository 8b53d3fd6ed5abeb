"""Run one drill: load on, watch, inject, wait, repair, settle, verify; then write the report."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stack.components.patroni import NODES, cluster_state, leader_port
from stack.drills.load import Load
from stack.drills.scenarios import SCENARIOS, Context, Scenario, rest_url
from stack.drills.sends import needs_instances
from stack.drills.vips import VipWatch
from stack.drills.watch import Observations, Watcher
from stack.network import PAIRS
from stack.runner import Stack


class DrillError(RuntimeError):
    """The drill could not run (unknown scenario, stack not suitable)."""


@dataclass
class Expectation:
    """One stated expectation and whether it held."""

    name: str
    ok: bool
    detail: str


@dataclass
class DrillReport:
    """Everything a drill measured; times are seconds after T0 (the fault), None when never seen."""

    scenario: str
    description: str
    exporter: str | None
    run_id: str
    started_at: str
    t0: float
    detected_s: float | None
    alerts: list[dict[str, Any]]
    leaders: list[dict[str, Any]]
    new_leader_s: float | None
    service_restored_s: float | None
    write_errors: int
    read_errors: int
    http_errors: int
    write_error_window_s: float
    acked_writes: int
    lost_writes: list[int]
    false_pages: list[str]
    critical_firing_after_settle: list[str]
    repaired_s: float | None
    recovered: bool
    http_served_by: dict[str, int]
    http_served_during_fault: dict[str, int]
    http_error_window_s: float = 0.0
    vip_moved_s: float | None = None
    vip_changes: list[dict[str, Any]] = field(default_factory=list)
    vip_holders_after_settle: dict[str, list[str]] = field(default_factory=dict)
    keepalived_exporter: bool = False
    expectations: list[Expectation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.expectations)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def summary(self) -> str:
        def s(v: float | None) -> str:
            return "never" if v is None else f"{v:.1f}s"

        firing = [a for a in self.alerts if a["firing_s"] is not None]
        lines = [
            f"drill {self.scenario}: {'PASSED' if self.ok else 'FAILED'} ({self.description})",
            f"  fault at {self.started_at}; "
            + (
                "exporter never showed it"
                if self.detected_s is None
                else f"exporter showed it after {s(self.detected_s)}"
            ),
            "  alerts firing: "
            + (
                ", ".join(
                    f"{a['alertname']}/{a['severity']} {s(a['firing_s'])}"
                    f" (at Alertmanager {s(a['alertmanager_s'])})"
                    + (" [SLO budget]" if a["slo_budget_alert"] else "")
                    for a in firing
                )
                or "none"
            ),
            f"  new leader: {s(self.new_leader_s)}; "
            f"first write after the fault: {s(self.service_restored_s)}",
            f"  client errors: {self.write_errors} writes, {self.read_errors} reads, "
            f"{self.http_errors} http; "
            f"write error window {self.write_error_window_s:.1f}s, "
            f"https error window {self.http_error_window_s:.1f}s",
            f"  VIP moved: {s(self.vip_moved_s)}; after settling: "
            + ", ".join(
                f"{i} on {'+'.join(h) or 'no node'}" for i, h in self.vip_holders_after_settle.items()
            ),
            f"  committed writes: {self.acked_writes}, lost: {len(self.lost_writes)}",
            f"  false pages: {', '.join(self.false_pages) or 'none'}; "
            f"critical still firing after settling: {', '.join(self.critical_firing_after_settle) or 'none'}",
            f"  faulted part repaired after {s(self.repaired_s)}, recovered: {self.recovered}",
        ]
        lines += [f"  [{'ok' if e.ok else 'BROKEN'}] {e.name}: {e.detail}" for e in self.expectations]
        return "\n".join(lines)


def _error_window(load: Load, kind: str = "write") -> float:
    """The longest client-visible outage of `kind`: from a failed request to the next success.

    Failures with no success between them are one outage; a fault and its repair (a VIP moving
    away and back) are two, and the longer one is the window.
    """
    fails = sorted(f.at for f in load.stats.failures if f.kind == kind)
    longest, start, end = 0.0, None, 0.0
    for at in fails:
        if start is not None and at <= end:
            continue
        start = at
        end = load.stats.first_success_after(kind, at) or at
        longest = max(longest, end - start)
    return longest


def run_drill(
    stack: Stack, name: str, settle: float = 120.0, progress: Callable[[str], None] = print
) -> DrillReport:
    """Run scenario `name` against the running `stack`; the report is also written under drills/."""
    try:
        sc: Scenario = SCENARIOS[name]
    except KeyError:
        raise DrillError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    if stack.layout.etcd_members < sc.etcd_members:
        raise DrillError(
            f"{name} needs {sc.etcd_members} etcd members; this stack runs "
            f"{stack.layout.etcd_members} (start it with `python -m stack up --etcd-members 3`)"
        )
    refusal = needs_instances(stack, sc.sloapi_instances, name)
    if refusal:
        raise DrillError(refusal)
    lay = stack.layout
    ctx = Context(stack)
    run_id = f"{name}-{uuid.uuid4().hex[:8]}"
    app = f"dbname=app user=app password={lay.secret('app')}"
    # Clients use the VIPs: writes through the PgBouncer VIP, reads and HTTPS through the front door's.
    load = Load(
        write_dsn=f"{app} host={lay.host('pgbouncer')} port={lay.port('pgbouncer')}",
        read_dsn=f"{app} host={lay.host('haproxy.pg-replicas')} port={lay.port('haproxy.pg-replicas')}",
        http_targets={"frontdoor": f"https://{lay.addr('haproxy.https')}/"},
        run_id=run_id,
    )
    exporter_url = f"http://{lay.addr(sc.exporter)}/metrics" if sc.exporter else None
    vips = VipWatch(lay.net)
    judged = _alerts_judged(stack, sc)
    watcher = Watcher(
        f"http://{lay.addr('prometheus')}",
        f"http://{lay.addr('alertmanager')}",
        [rest_url(stack, n) for n in NODES],
        exporter_url,
        None,
    )
    _wait_quiet(watcher, sc, progress)
    load.prepare()
    load.start()
    watcher.start()
    vips.start()
    progress(f"{name}: load running, warming up")
    time.sleep(5)
    original_leader = ctx.leader()
    t0 = time.time()
    started_at = datetime.fromtimestamp(t0, UTC).isoformat(timespec="seconds")
    progress(f"{name}: injecting fault ({sc.description})")
    sc.inject(ctx)
    if sc.detect:
        watcher.predicate = sc.detect(ctx)
    watcher.arm(t0)
    _wait_for_effects(sc, watcher.obs, vips, judged, original_leader, t0, progress, name)
    progress(f"{name}: repairing")
    sc.repair(ctx)
    repaired = time.time()
    recovered = _recovered(ctx)
    progress(f"{name}: settling for {settle:.0f}s")
    time.sleep(settle)
    load.stop()
    watcher.stop()
    vips.stop()
    port = leader_port(lay)
    lost = (
        load.verify(f"host=127.0.0.1 port={port} dbname=app user=postgres password={lay.secret('postgres')}")
        if port
        else list(load.stats.acked)
    )
    report = _report(
        sc, run_id, started_at, t0, watcher.obs, load, original_leader, lost, repaired - t0, recovered
    )
    _add_vips(report, sc, vips, t0, repaired)
    report.keepalived_exporter = judged
    report.expectations = _judge(sc, report, original_leader)
    if sc.judge:
        report.expectations += [Expectation(*e) for e in sc.judge(ctx)]
    _save(lay.path("drills"), report)
    return report


def _wait_quiet(
    watcher: Watcher, sc: Scenario, progress: Callable[[str], None], timeout: float = 660.0
) -> None:
    """Wait until none of the alerts the scenario expects is active (an earlier event's would hide it)."""
    deadline = time.monotonic() + timeout
    told = False
    while time.monotonic() < deadline:
        active = {name for name, _ in watcher.active()} & set(sc.alerts)
        if not active:
            return
        if not told:
            progress(f"{sc.name}: waiting for {', '.join(sorted(active))} from an earlier event to clear")
            told = True
        time.sleep(5)


def _recovered(ctx: Context, timeout: float = 90.0) -> bool:
    """The faulted parts run again; a Patroni node is back in the cluster as a running member."""
    victims = [v for v in str(ctx.facts.get("victim", "")).split(",") if v]
    names = {c.name for c in ctx.stack.components}
    deadline = time.monotonic() + timeout
    while True:
        ok = all(ctx.stack.pid(v) is not None for v in victims if v in names)
        nodes = [v for v in victims if v in NODES]
        if ok and nodes:
            members = {m["name"]: m for m in (cluster_state(ctx.stack.layout) or {}).get("members", [])}
            ok = all(members.get(n, {}).get("state") in ("running", "streaming") for n in nodes)
        ok = ok and bool(ctx.facts.get("caught_up", True))
        if ok or time.monotonic() > deadline:
            return ok
        time.sleep(1)


def _alerts_judged(stack: Stack, sc: Scenario) -> bool:
    """False when the scenario's alerts come from the keepalived exporter and the stack lacks it."""
    return not sc.keepalived_alerts or any(c.name == "keepalived-exporter" for c in stack.components)


def _add_vips(report: DrillReport, sc: Scenario, vips: VipWatch, t0: float, repaired: float) -> None:
    """VIP changes, the move time and who holds each VIP now (from `ip` in the namespaces)."""
    report.vip_changes = [
        {"at_s": round(c.at - t0, 2), "instance": c.instance, "holders": list(c.holders)}
        for c in vips.changes
    ]
    if sc.vip:
        moved = vips.first(sc.vip, t0, sc.vip_holders)
        report.vip_moved_s = None if moved is None or moved > repaired else round(moved - t0, 2)
    report.vip_holders_after_settle = {p.instance: list(vips.holders(p.instance)) for p in PAIRS}


def _wait_for_effects(
    sc: Scenario,
    obs: Observations,
    vips: VipWatch,
    judged: bool,
    leader: str | None,
    t0: float,
    progress: Callable[[str], None],
    name: str,
) -> None:
    alerts = sc.alerts if judged else ()
    deadline = t0 + max(
        sc.alert_within if alerts else 0,
        sc.vip_within if sc.vip else 0,
        sc.leader_within if sc.leader_change else 0,
        sc.hold,
        20 if sc.detect else 0,
    )
    while time.time() < deadline:
        detected = sc.detect is None or obs.detected is not None
        moved_vip = not sc.vip or vips.first(sc.vip, t0, sc.vip_holders) is not None
        fired = not alerts or any(
            obs.alerts.get((a, sev)) and obs.alerts[(a, sev)].alertmanager
            for a in alerts
            for sev in ("critical", "warning", "info")
        )
        moved = not sc.leader_change or any(lead not in (None, leader) for _, lead in obs.leaders)
        if detected and fired and moved and moved_vip and time.time() >= t0 + sc.hold:
            return
        time.sleep(1)
    progress(f"{name}: waited {deadline - t0:.0f}s for the expected effects")


def _report(
    sc: Scenario,
    run_id: str,
    started_at: str,
    t0: float,
    obs: Observations,
    load: Load,
    original_leader: str | None,
    lost: list[int],
    repaired_s: float,
    recovered: bool,
) -> DrillReport:
    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - t0, 2)

    stats = load.stats
    new_leader = next((t for t, lead in obs.leaders if t >= t0 and lead not in (None, original_leader)), None)
    alerts = [
        {
            "alertname": a.alertname,
            "severity": a.severity,
            "pending_s": rel(a.pending),
            "firing_s": rel(a.firing),
            "slo_budget_alert": a.slo,
            "alertmanager_s": rel(a.alertmanager),
        }
        for a in sorted(obs.alerts.values(), key=lambda a: (a.firing or 1e18, a.alertname))
    ]
    expected = set(sc.alerts) | set(sc.tolerated)
    false_pages = sorted(
        {
            a.alertname
            for a in obs.alerts.values()
            if a.severity == "critical"
            and a.firing
            and not a.slo
            and a.alertname not in expected
            and (a.alertname, a.severity) not in obs.baseline
        }
    )
    critical_left = sorted(
        n for n, sev in obs.firing_now - obs.baseline if sev == "critical" and n not in obs.slo_alerts
    )
    report = DrillReport(
        scenario=sc.name,
        description=sc.description,
        exporter=sc.exporter,
        run_id=run_id,
        started_at=started_at,
        t0=t0,
        detected_s=rel(obs.detected),
        alerts=alerts,
        leaders=[{"at_s": rel(t), "leader": lead} for t, lead in obs.leaders],
        new_leader_s=rel(new_leader),
        service_restored_s=rel(stats.first_success_after("write", t0)),
        write_errors=sum(f.kind == "write" for f in stats.failures),
        read_errors=sum(f.kind == "read" for f in stats.failures),
        http_errors=sum(f.kind == "http" for f in stats.failures),
        write_error_window_s=round(_error_window(load), 2),
        http_error_window_s=round(_error_window(load, "http"), 2),
        acked_writes=len(stats.acked),
        lost_writes=lost,
        false_pages=false_pages,
        critical_firing_after_settle=critical_left,
        repaired_s=round(repaired_s, 2),
        recovered=recovered,
        http_served_by={name: len(times) for name, times in stats.http_served_by.items()},
        http_served_during_fault={
            name: sum(t0 <= t <= t0 + repaired_s for t in times)
            for name, times in stats.http_served_by.items()
        },
    )
    return report


def _judge(sc: Scenario, r: DrillReport, original_leader: str | None) -> list[Expectation]:
    out = [
        Expectation(
            "no committed write lost",
            not r.lost_writes,
            f"{len(r.lost_writes)} of {r.acked_writes} acknowledged writes missing",
        )
    ]
    if sc.detect:
        out.append(
            Expectation(
                "exporter shows the fault",
                r.detected_s is not None,
                f"first scrape showing it after {r.detected_s}s",
            )
        )
    if sc.alerts and not r.keepalived_exporter:
        out.append(
            Expectation(
                f"{' or '.join(sc.alerts)} firing within {sc.alert_within:.0f}s and at Alertmanager",
                True,
                "NOT JUDGED: the keepalived exporter does not run in this stack",
            )
        )
    elif sc.alerts:
        fired = [
            a
            for a in r.alerts
            if a["alertname"] in sc.alerts
            and a["firing_s"] is not None
            and a["firing_s"] <= sc.alert_within
            and a["alertmanager_s"] is not None
        ]
        out.append(
            Expectation(
                f"{' or '.join(sc.alerts)} firing within {sc.alert_within:.0f}s and at Alertmanager",
                bool(fired),
                ", ".join(f"{a['alertname']} at {a['firing_s']}s" for a in fired) or "none",
            )
        )
    leaders = [lead["leader"] for lead in r.leaders]
    if sc.leader_change:
        out.append(
            Expectation(
                f"new leader within {sc.leader_within:.0f}s",
                r.new_leader_s is not None and r.new_leader_s <= sc.leader_within,
                f"after {r.new_leader_s}s (was {original_leader})",
            )
        )
    if sc.no_leader_change:
        out.append(
            Expectation("leader unchanged", set(leaders) == {original_leader}, f"leaders seen: {leaders}")
        )
    if sc.no_promotion:
        others = sorted({lead for lead in leaders if lead not in (None, original_leader)})
        out.append(Expectation("nothing promoted", not others, f"other leaders: {others or 'none'}"))
    if sc.max_write_errors_window is not None:
        out.append(
            Expectation(
                f"write errors within {sc.max_write_errors_window:.0f}s",
                r.write_error_window_s <= sc.max_write_errors_window,
                f"window {r.write_error_window_s}s, {r.write_errors} failed writes",
            )
        )
    out.append(
        Expectation(
            "no false page (critical alert outside the scenario's, SLO budget alerts apart)",
            not r.false_pages,
            ", ".join(r.false_pages) or "none",
        )
    )
    out += _judge_vips(sc, r)
    out.append(
        Expectation(
            "no critical alert left firing after settling",
            not r.critical_firing_after_settle,
            ", ".join(r.critical_firing_after_settle) or "none",
        )
    )
    out.append(Expectation("faulted part recovered", r.recovered, f"repaired after {r.repaired_s}s"))
    return out


def _judge_vips(sc: Scenario, r: DrillReport) -> list[Expectation]:
    out = []
    if sc.vip:
        out.append(
            Expectation(
                f"VIP {sc.vip} on {' + '.join(sc.vip_holders)} within {sc.vip_within:.0f}s",
                r.vip_moved_s is not None and r.vip_moved_s <= sc.vip_within,
                f"after {r.vip_moved_s}s",
            )
        )
    if sc.max_http_errors_window is not None:
        out.append(
            Expectation(
                f"HTTPS through the VIP: errors within {sc.max_http_errors_window:.0f}s",
                r.http_error_window_s <= sc.max_http_errors_window,
                f"window {r.http_error_window_s}s, {r.http_errors} failed requests",
            )
        )
    masters = {p.instance: p.nodes[0] for p in PAIRS}
    held = r.vip_holders_after_settle
    out.append(
        Expectation(
            "each VIP on exactly one node after settling, its pair's master (ip in the namespaces)",
            all(held.get(i) == [m] for i, m in masters.items()),
            ", ".join(f"{i} on {h or 'no node'}" for i, h in held.items()),
        )
    )
    return out


def _save(folder: Path, report: DrillReport) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{report.started_at.replace(':', '')}-{report.scenario}"
    stem.with_suffix(".json").write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    stem.with_suffix(".txt").write_text(report.summary() + "\n")
    return stem.with_suffix(".json")
