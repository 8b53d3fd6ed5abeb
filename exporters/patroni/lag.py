"""Replication lag in seconds and bytes: measured on the leader, and from a stalled replay.

Measured (a monitoring DSN is configured): PostgreSQL's `write_lag`, `flush_lag` and `replay_lag`
of each standby in the leader's `pg_stat_replication`, and the bytes between the leader's current
WAL location and the standby's `replay_lsn`. PostgreSQL sets the lags to NULL once a standby has
caught up and no WAL is flowing; a streaming standby with NULL lag is reported as 0 seconds.

PostgreSQL's lag tracker only learns of a lag when the standby reports a newer replayed position:
while replay is stalled (paused, blocked by a conflicting query, too slow) `replay_lag` keeps
its last value, a few milliseconds. So replay lag is also derived from the replica itself
(`stall_replay_lag`): a replica whose replayed location is behind the location it has received,
or behind the leader's current location, is behind by the time since the last transaction it
replayed was committed on the primary (`xlog.replayed_timestamp`); one that has replayed
everything shows 0. For the replica that is the target itself, the exported
`patroni_replication_replay_lag_seconds` is the larger of the tracker's value and this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from exporters.core.metrics import Family
from exporters.patroni.cluster import Member
from exporters.patroni.node import NodeStatus

REPLICATION_LABELS = ("scope", "member")
SYNC_STATES = ("async", "potential", "sync", "quorum")


@dataclass(frozen=True)
class StandbyLag:
    """One row of the leader's `pg_stat_replication` (lags in seconds, None when NULL).

    `replay_lag_bytes` is the leader's current WAL location minus the standby's `replay_lsn`.
    """

    application_name: str
    state: str
    sync_state: str
    write_lag: float | None
    flush_lag: float | None
    replay_lag: float | None
    replay_lag_bytes: float | None = None


@dataclass(frozen=True)
class LeaderReading:
    """What the query on the leader returned.

    Attributes:
        primary: the host really is a primary (not in recovery); only then `standbys` is read.
        clock: the leader's clock, seconds since the epoch.
        location: the leader's current WAL location in bytes (None when not a primary).
        standbys: its `pg_stat_replication` rows.
    """

    primary: bool
    clock: float | None
    location: float | None
    standbys: list[StandbyLag] = field(default_factory=list)


def replication_families(
    rows: list[StandbyLag], scope: str, stalled: Mapping[str, float] | None = None
) -> list[Family]:
    """Measured lag and sync state per standby (member = `application_name`, as Patroni sets).

    Args:
        rows: the leader's `pg_stat_replication`.
        scope: the cluster.
        stalled: replay lag from a stalled replay, by member (see `stall_replay_lag`); the
            exported replay lag of such a member is the larger of the two.
    """
    stalled = stalled or {}
    fams = {
        kind: Family(
            f"patroni_replication_{kind}_lag_seconds",
            "gauge",
            f"{kind.capitalize()} lag of the standby in seconds, from pg_stat_replication on the "
            "leader (0 when caught up and idle).",
            REPLICATION_LABELS,
        )
        for kind in ("write", "flush")
    }
    fams["replay"] = Family(
        "patroni_replication_replay_lag_seconds",
        "gauge",
        "Replay lag of the standby in seconds: the larger of replay_lag in pg_stat_replication on "
        "the leader (0 when caught up and idle) and, when the replica is a target, the time since "
        "its last replayed commit while its replay is behind (a stalled replay).",
        REPLICATION_LABELS,
    )
    replay_bytes = Family(
        "patroni_replication_replay_lag_bytes",
        "gauge",
        "Bytes of WAL between the leader's current location and the standby's replay_lsn in "
        "pg_stat_replication.",
        REPLICATION_LABELS,
    )
    sync = Family(
        "patroni_replication_sync_state",
        "gauge",
        "1 for the standby's sync_state in pg_stat_replication on the leader, 0 for the others.",
        (*REPLICATION_LABELS, "sync_state"),
    )
    for r in rows:
        key = (scope, r.application_name)
        caught_up = 0.0 if r.state == "streaming" else None
        stall = stalled.get(r.application_name)
        for kind, value in (
            ("write", r.write_lag),
            ("flush", r.flush_lag),
            ("replay", r.replay_lag),
        ):
            v = value if value is not None else caught_up
            if kind == "replay" and stall is not None:
                v = stall if v is None else max(v, stall)
            if v is not None:
                fams[kind].add(key, v)
        if r.replay_lag_bytes is not None:
            replay_bytes.add(key, max(0.0, r.replay_lag_bytes))
        states = SYNC_STATES if r.sync_state in SYNC_STATES else (*SYNC_STATES, r.sync_state)
        for s in states:
            sync.add((*key, s), float(s == r.sync_state))
    return [fams["write"], fams["flush"], fams["replay"], replay_bytes, sync]


def behind_leader(node: NodeStatus, leader: LeaderReading | None, own: Member | None) -> float | None:
    """Bytes the node's replay is behind the leader, from the freshest view at hand.

    The leader's current location (just read) minus the node's replayed location, else the
    node's lag in `/cluster` (positions Patroni stores in the DCS once per loop), else None.
    """
    if leader is not None and leader.primary and leader.location is not None:
        return None if node.replayed_location is None else leader.location - node.replayed_location
    return own.lag if own is not None else None


def stall_replay_lag(node: NodeStatus, behind_leader: float | None, now: float) -> float | None:
    """Replay lag of a replica in seconds from its own `/patroni`, or None when it cannot be told.

    The replica is behind when its replayed location is short of the location it has received
    (same answer, so never stale), or of the leader's location (`behind_leader`). Then the lag is
    `now - xlog.replayed_timestamp`, the age of the last commit it replayed: exact under a steady
    stream of commits, an upper bound when the primary writes WAL without committing. A replica
    that is behind in neither way lags 0.

    Args:
        node: the replica's `/patroni` status.
        behind_leader: bytes between the leader's location and the replica's replayed location
            (the leader's current location, read just before `/patroni`, minus
            `xlog.replayed_location`; or `/cluster`'s lag); None when unknown.
        now: when `/patroni` answered, seconds since the epoch (on the leader's clock if known).
    """
    if node.is_primary or node.state != "running":
        return None
    gaps = [behind_leader] if behind_leader is not None else []
    if node.received_location is not None and node.replayed_location is not None:
        gaps.append(node.received_location - node.replayed_location)
    if not gaps:
        return None
    if max(gaps) <= 0:
        return 0.0
    if node.replayed_timestamp is None:
        return None
    return max(0.0, now - node.replayed_timestamp)


def estimate_families(scope: str, member: str, seconds: float) -> list[Family]:
    """The stall-based replay lag as a family of its own (served with or without a DSN)."""
    fam = Family(
        "patroni_replication_replay_lag_estimate_seconds",
        "gauge",
        "Replay lag of the replica in seconds from its own /patroni: 0 if it has replayed all "
        "it received and is not behind the leader, else the time since its last replayed "
        "transaction committed.",
        REPLICATION_LABELS,
    )
    fam.add((scope, member), seconds)
    return [fam]
