"""Replication lag in seconds: measured from `pg_stat_replication`, or estimated from `/patroni`.

Measured (a monitoring DSN is configured): PostgreSQL's `write_lag`, `flush_lag` and `replay_lag`
of each standby on the leader. PostgreSQL sets them to NULL once a standby has caught up and no
WAL is flowing; a streaming standby with NULL lag is reported as 0 seconds.

Estimated (no DSN): a replica that Patroni reports 0 bytes behind in `/cluster` is 0 seconds
behind; otherwise the estimate is the time since the last transaction it replayed was committed
on the primary (`xlog.replayed_timestamp`) -- an upper bound, coarse because Patroni refreshes
the positions in the DCS once per loop (`loop_wait`).
"""

from __future__ import annotations

from dataclasses import dataclass

from exporters.core.metrics import Family
from exporters.patroni.cluster import Member
from exporters.patroni.node import NodeStatus

REPLICATION_LABELS = ("scope", "member")
SYNC_STATES = ("async", "potential", "sync", "quorum")


@dataclass(frozen=True)
class StandbyLag:
    """One row of the leader's `pg_stat_replication` (lags in seconds, None when NULL)."""

    application_name: str
    state: str
    sync_state: str
    write_lag: float | None
    flush_lag: float | None
    replay_lag: float | None


def replication_families(rows: list[StandbyLag], scope: str) -> list[Family]:
    """Measured lag and sync state per standby (member = `application_name`, as Patroni sets)."""
    fams = {
        kind: Family(
            f"patroni_replication_{kind}_lag_seconds",
            "gauge",
            f"{kind.capitalize()} lag of the standby in seconds, from pg_stat_replication on the "
            "leader (0 when caught up and idle).",
            REPLICATION_LABELS,
        )
        for kind in ("write", "flush", "replay")
    }
    sync = Family(
        "patroni_replication_sync_state",
        "gauge",
        "1 for the standby's sync_state in pg_stat_replication on the leader, 0 for the others.",
        (*REPLICATION_LABELS, "sync_state"),
    )
    for r in rows:
        key = (scope, r.application_name)
        caught_up = 0.0 if r.state == "streaming" else None
        for kind, value in (
            ("write", r.write_lag),
            ("flush", r.flush_lag),
            ("replay", r.replay_lag),
        ):
            v = value if value is not None else caught_up
            if v is not None:
                fams[kind].add(key, v)
        states = SYNC_STATES if r.sync_state in SYNC_STATES else (*SYNC_STATES, r.sync_state)
        for s in states:
            sync.add((*key, s), float(s == r.sync_state))
    return [*fams.values(), sync]


def estimate_replay_lag(node: NodeStatus, member: Member | None, now: float) -> float | None:
    """Estimated replay lag of the node in seconds, or None when it cannot be told.

    Args:
        node: the node's `/patroni` status.
        member: the node's own entry in `/cluster` (its lag in bytes).
        now: the current time, seconds since the epoch.
    """
    if node.is_primary or member is None or node.state != "running":
        return None
    if member.lag == 0:
        return 0.0
    if member.lag is None or node.replayed_timestamp is None:
        return None
    return max(0.0, now - node.replayed_timestamp)


def estimate_families(scope: str, member: str, seconds: float) -> list[Family]:
    """The estimate as a family of its own (alert on `measured or estimate`)."""
    fam = Family(
        "patroni_replication_replay_lag_estimate_seconds",
        "gauge",
        "Estimated replay lag of the replica in seconds: 0 if /cluster shows no lag in bytes, "
        "else the time since its last replayed transaction committed (an upper bound).",
        REPLICATION_LABELS,
    )
    fam.add((scope, member), seconds)
    return [fam]
