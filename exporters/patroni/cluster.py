"""`/cluster` (the members as the DCS sees them) -> cluster metrics, labelled `scope` (+ `member`).

These series describe the cluster, not the node that was asked: when several members of one
cluster are targets, the collector keeps one copy per scope (see `exporters.patroni.dedupe`).
"""

from __future__ import annotations

from dataclasses import dataclass

from exporters.core.errors import ParseError
from exporters.core.metrics import Family
from exporters.patroni.shape import flag, number, obj, text, timestamp

LEADER_ROLES = ("leader", "standby_leader")
# `master` / `primary` are accepted as old spellings of `leader`.
ROLE_ALIASES = {"master": "leader", "primary": "leader"}
MEMBER_ROLES = ("leader", "standby_leader", "sync_standby", "quorum_standby", "replica")
MEMBER_STATES = (
    "running",
    "streaming",
    "in archive recovery",
    "starting",
    "stopping",
    "stopped",
    "restarting",
    "crashed",
    "creating replica",
)
MEMBER_LABELS = ("scope", "member")


@dataclass(frozen=True)
class Member:
    """One entry of `/cluster`'s `members`."""

    name: str
    role: str
    state: str
    host: str | None
    port: int | None
    timeline: float | None
    lag: float | None
    lag_unknown: bool
    receive_lag: float | None
    replay_lag: float | None
    pending_restart: bool


@dataclass(frozen=True)
class ClusterView:
    """`/cluster` as a whole."""

    members: tuple[Member, ...]
    paused: bool
    switchover_at: float | None
    switchover_scheduled: bool

    @property
    def leader(self) -> Member | None:
        """The member holding the leader lock (leader or standby_leader), if any."""
        return next((m for m in self.members if m.role in LEADER_ROLES), None)


def _lag(value: object, what: str) -> tuple[float | None, bool]:
    """Patroni writes lag as bytes, or the string "unknown"."""
    if isinstance(value, str):
        if value.strip().lower() == "unknown":
            return None, True
        raise ParseError(f"{what}: expected bytes or 'unknown', got {value!r:.40}")
    return number(value, what), False


def _member(value: object, i: int) -> Member:
    what = f"/cluster.members[{i}]"
    m = obj(value, what)
    name = text(m.get("name"), f"{what}.name")
    if not name:
        raise ParseError(f"{what}: no name")
    role = text(m.get("role"), f"{what}.role") or "replica"
    role = ROLE_ALIASES.get(role, role)
    port = number(m.get("port"), f"{what}.port")
    lag, unknown = _lag(m.get("lag"), f"{what}.lag")
    receive_lag, _ = _lag(m.get("receive_lag"), f"{what}.receive_lag")
    replay_lag, _ = _lag(m.get("replay_lag"), f"{what}.replay_lag")
    return Member(
        name=name,
        role=role,
        state=text(m.get("state"), f"{what}.state") or "",
        host=text(m.get("host"), f"{what}.host"),
        port=None if port is None else int(port),
        timeline=number(m.get("timeline"), f"{what}.timeline"),
        lag=lag,
        lag_unknown=unknown,
        receive_lag=receive_lag,
        replay_lag=replay_lag,
        pending_restart=flag(m.get("pending_restart"), f"{what}.pending_restart"),
    )


def parse_cluster(doc: object) -> ClusterView:
    """Parse a `/cluster` body.

    Raises:
        ParseError: not an object, `members` not a list, a member without a name, a wrong type.
    """
    d = obj(doc, "/cluster")
    raw = d.get("members", [])
    if not isinstance(raw, list):
        raise ParseError("/cluster.members: expected a list")
    members = tuple(_member(m, i) for i, m in enumerate(raw))
    sw = d.get("scheduled_switchover")
    at = None
    if sw is not None:
        at = timestamp(obj(sw, "/cluster.scheduled_switchover").get("at"), "/cluster.sw.at")
    return ClusterView(
        members=members,
        paused=flag(d.get("pause"), "/cluster.pause"),
        switchover_at=at,
        switchover_scheduled=sw is not None,
    )


def _per_member(name: str, help_text: str) -> Family:
    return Family(name, "gauge", help_text, MEMBER_LABELS)


def cluster_families(view: ClusterView, scope: str) -> list[Family]:
    """Cluster metrics: per member role/state/timeline/lag, and cluster-wide summaries."""
    role = Family(
        "patroni_cluster_member_role",
        "gauge",
        "1 for the member's role in /cluster (leader, standby_leader, sync_standby, replica...).",
        (*MEMBER_LABELS, "role"),
    )
    state = Family(
        "patroni_cluster_member_state",
        "gauge",
        "1 for the member's state in /cluster (running, streaming, stopped...), 0 for the others.",
        (*MEMBER_LABELS, "state"),
    )
    timeline = _per_member("patroni_cluster_member_timeline", "Timeline of the member.")
    lag = _per_member(
        "patroni_cluster_member_lag_bytes",
        "Bytes of WAL the replica is behind the leader, as Patroni reports it in /cluster.",
    )
    unknown = _per_member(
        "patroni_cluster_member_lag_unknown",
        "1 if Patroni reports the replica's lag as unknown (no WAL position in the DCS).",
    )
    receive = _per_member(
        "patroni_cluster_member_receive_lag_bytes",
        "Bytes of WAL the replica has not received yet (Patroni versions that report it).",
    )
    replay = _per_member(
        "patroni_cluster_member_replay_lag_bytes",
        "Bytes of WAL the replica has not replayed yet (Patroni versions that report it).",
    )
    restart = _per_member(
        "patroni_cluster_member_pending_restart",
        "1 if the member needs a restart to apply a configuration change.",
    )
    for m in view.members:
        key = (scope, m.name)
        roles = MEMBER_ROLES if m.role in MEMBER_ROLES else (*MEMBER_ROLES, m.role)
        for r in roles:
            role.add((*key, r), float(r == m.role))
        states = MEMBER_STATES if m.state in MEMBER_STATES else (*MEMBER_STATES, m.state)
        for s in states:
            state.add((*key, s), float(s == m.state))
        if m.timeline is not None:
            timeline.add(key, m.timeline)
        if m.role not in LEADER_ROLES:
            unknown.add(key, float(m.lag_unknown))
            if m.lag is not None:
                lag.add(key, m.lag)
        if m.receive_lag is not None:
            receive.add(key, m.receive_lag)
        if m.replay_lag is not None:
            replay.add(key, m.replay_lag)
        restart.add(key, float(m.pending_restart))
    return [
        role,
        state,
        timeline,
        lag,
        unknown,
        receive,
        replay,
        restart,
        *_summary(view, scope),
    ]


def _summary(view: ClusterView, scope: str) -> list[Family]:
    def one(name: str, help_text: str, value: float) -> Family:
        fam = Family(name, "gauge", help_text, ("scope",))
        fam.add((scope,), value)
        return fam

    out = [
        one("patroni_cluster_members", "Number of members in /cluster.", len(view.members)),
        one(
            "patroni_cluster_leader_present",
            "1 if a member holds the leader lock (leader or standby_leader), else 0.",
            float(view.leader is not None),
        ),
        one(
            "patroni_cluster_sync_standbys",
            "Number of members with the sync_standby role.",
            float(sum(m.role == "sync_standby" for m in view.members)),
        ),
        one(
            "patroni_cluster_paused",
            "1 if the cluster is in maintenance mode (automatic failover disabled).",
            float(view.paused),
        ),
        one(
            "patroni_cluster_scheduled_switchover",
            "1 if a switchover is scheduled, else 0.",
            float(view.switchover_scheduled),
        ),
    ]
    if view.switchover_at is not None:
        out.append(
            one(
                "patroni_cluster_scheduled_switchover_timestamp_seconds",
                "When the scheduled switchover will happen, seconds since the epoch.",
                view.switchover_at,
            )
        )
    return out
