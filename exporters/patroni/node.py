"""`/patroni` (one node's status) -> node metrics, a superset of Patroni's own `/metrics`.

Every family has the labels `scope` and `name`, as Patroni's `/metrics` (3.0.2 has only
`scope`; later versions add `name`). Timeline and WAL positions are gauges (Patroni types them
as counters without `_total`, which `promtool check metrics` rejects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exporters.core.errors import ParseError
from exporters.core.metrics import Family
from exporters.patroni.shape import flag, number, obj, opt_obj, text, timestamp

PRIMARY_ROLES = ("master", "primary")
POSTGRES_STATES = (
    "running",
    "starting",
    "stopping",
    "stopped",
    "restarting",
    "crashed",
    "unknown",
)
NODE_LABELS = ("scope", "name")


@dataclass(frozen=True)
class NodeStatus:
    """What `/patroni` says about one node (missing fields are None / False / 0)."""

    scope: str
    state: str
    role: str
    version: str | None
    server_version: float | None
    postmaster_start_time: float | None
    timeline: float | None
    location: float | None
    received_location: float | None
    replayed_location: float | None
    replayed_timestamp: float | None
    xlog_paused: bool
    sync_standby: bool
    cluster_unlocked: bool
    failsafe_active: bool
    dcs_last_seen: float | None
    pending_restart: bool
    paused: bool
    system_identifier: str | None
    member_name: str | None

    @property
    def is_primary(self) -> bool:
        """True for the `master` (Patroni < 3.1) and `primary` spellings alike."""
        return self.role in PRIMARY_ROLES


def parse_node(doc: object, default_scope: str = "") -> NodeStatus:
    """Parse a `/patroni` body (also the JSON of a 503 answer).

    Args:
        doc: the decoded JSON.
        default_scope: scope to use when the body has no `patroni.scope` (very old Patroni).

    Raises:
        ParseError: not an object, or a field of the wrong type.
    """
    d = obj(doc, "/patroni")
    xlog = opt_obj(d, "xlog", "/patroni")
    meta = opt_obj(d, "patroni", "/patroni")
    state = text(d.get("state"), "/patroni.state")
    role = text(d.get("role"), "/patroni.role")
    if state is None or role is None:
        raise ParseError("/patroni: no 'state' or 'role'")
    scope = text(meta.get("scope"), "/patroni.patroni.scope") or default_scope
    sysid = d.get("database_system_identifier")
    return NodeStatus(
        scope=scope,
        state=state,
        role=role,
        version=text(meta.get("version"), "/patroni.patroni.version"),
        server_version=number(d.get("server_version"), "/patroni.server_version"),
        postmaster_start_time=timestamp(d.get("postmaster_start_time"), "/patroni.postmaster_start_time"),
        timeline=number(d.get("timeline"), "/patroni.timeline"),
        location=number(xlog.get("location"), "/patroni.xlog.location"),
        received_location=number(xlog.get("received_location"), "/patroni.xlog.received_location"),
        replayed_location=number(xlog.get("replayed_location"), "/patroni.xlog.replayed_location"),
        replayed_timestamp=timestamp(xlog.get("replayed_timestamp"), "/patroni.xlog.replayed_timestamp"),
        xlog_paused=flag(xlog.get("paused"), "/patroni.xlog.paused"),
        sync_standby=flag(d.get("sync_standby"), "/patroni.sync_standby"),
        cluster_unlocked=flag(d.get("cluster_unlocked"), "/patroni.cluster_unlocked"),
        failsafe_active=flag(d.get("failsafe_mode_is_active"), "/patroni.failsafe_mode_is_active"),
        dcs_last_seen=number(d.get("dcs_last_seen"), "/patroni.dcs_last_seen"),
        pending_restart=flag(d.get("pending_restart"), "/patroni.pending_restart"),
        paused=flag(d.get("pause"), "/patroni.pause"),
        system_identifier=None if sysid is None else str(sysid),
        member_name=text(d.get("name"), "/patroni.name"),
    )


def version_number(version: str | None) -> float:
    """Patroni's `patroni_version` value: each part zero-padded to two digits (3.0.2 -> 30002)."""
    if not version:
        return 0.0
    digits = "".join(p.zfill(2) for p in version.split(".")[:3] if p.isascii() and p.isdigit())
    return float(digits) if digits else 0.0


def _z(value: float | None) -> float:
    return 0.0 if value is None else value


# (name, help, value) -- the names, order and meaning of Patroni 3.0.2's /metrics.
NODE_TABLE: tuple[tuple[str, str, Callable[[NodeStatus], float]], ...] = (
    ("patroni_version", "Patroni semver without periods.", lambda n: version_number(n.version)),
    (
        "patroni_postgres_running",
        "Value is 1 if Postgres is running, 0 otherwise.",
        lambda n: float(n.state == "running"),
    ),
    (
        "patroni_postmaster_start_time",
        "Epoch seconds since Postgres started.",
        lambda n: _z(n.postmaster_start_time),
    ),
    (
        "patroni_master",
        "Value is 1 if this node is the leader, 0 otherwise.",
        lambda n: float(n.is_primary),
    ),
    (
        "patroni_primary",
        "Value is 1 if this node is the leader, 0 otherwise.",
        lambda n: float(n.is_primary),
    ),
    (
        "patroni_xlog_location",
        "Current location of the Postgres transaction log, 0 if this node is not the leader.",
        lambda n: _z(n.location),
    ),
    (
        "patroni_standby_leader",
        "Value is 1 if this node is the standby_leader, 0 otherwise.",
        lambda n: float(n.role == "standby_leader"),
    ),
    (
        "patroni_replica",
        "Value is 1 if this node is a replica, 0 otherwise.",
        lambda n: float(n.role == "replica"),
    ),
    (
        "patroni_sync_standby",
        "Value is 1 if this node is a sync standby replica, 0 otherwise.",
        lambda n: float(n.sync_standby),
    ),
    (
        "patroni_xlog_received_location",
        "Current location of the received Postgres transaction log, 0 if this node is not a replica.",
        lambda n: _z(n.received_location),
    ),
    (
        "patroni_xlog_replayed_location",
        "Current location of the replayed Postgres transaction log, 0 if this node is not a replica.",
        lambda n: _z(n.replayed_location),
    ),
    (
        "patroni_xlog_replayed_timestamp",
        "Current timestamp of the replayed Postgres transaction log, 0 if null.",
        lambda n: _z(n.replayed_timestamp),
    ),
    (
        "patroni_xlog_paused",
        "Value is 1 if the Postgres xlog is paused, 0 otherwise.",
        lambda n: float(n.xlog_paused),
    ),
    (
        "patroni_postgres_server_version",
        "Version of Postgres (if running), 0 otherwise.",
        lambda n: _z(n.server_version),
    ),
    (
        "patroni_cluster_unlocked",
        "Value is 1 if the cluster is unlocked, 0 if locked.",
        lambda n: float(n.cluster_unlocked),
    ),
    (
        "patroni_failsafe_mode_is_active",
        "Value is 1 if failsafe mode is active, 0 if inactive.",
        lambda n: float(n.failsafe_active),
    ),
    (
        "patroni_postgres_timeline",
        "Postgres timeline of this node (if running), 0 otherwise.",
        lambda n: _z(n.timeline),
    ),
    (
        "patroni_dcs_last_seen",
        "Epoch timestamp when DCS was last contacted successfully by Patroni.",
        lambda n: _z(n.dcs_last_seen),
    ),
    (
        "patroni_pending_restart",
        "Value is 1 if the node needs a restart, 0 otherwise.",
        lambda n: float(n.pending_restart),
    ),
    (
        "patroni_is_paused",
        "Value is 1 if auto failover is disabled, 0 otherwise.",
        lambda n: float(n.paused),
    ),
)


def node_families(node: NodeStatus, name: str) -> list[Family]:
    """Node metrics of one node, labelled `scope` and `name` (the member name)."""
    labels = (node.scope, name)
    out: list[Family] = []
    for metric, help_text, value in NODE_TABLE:
        fam = Family(metric, "gauge", help_text, NODE_LABELS)
        fam.add(labels, value(node))
        out.append(fam)
    state = Family(
        "patroni_postgres_state",
        "gauge",
        "1 for the state Patroni reports for its Postgres, 0 for the other usual states.",
        (*NODE_LABELS, "state"),
    )
    states = POSTGRES_STATES if node.state in POSTGRES_STATES else (*POSTGRES_STATES, node.state)
    for s in states:
        state.add((*labels, s), float(s == node.state))
    info = Family(
        "patroni_info",
        "gauge",
        "Constant 1, labelled with the node's Patroni version and database system identifier.",
        (*NODE_LABELS, "version", "system_identifier"),
    )
    info.add((*labels, node.version or "", node.system_identifier or ""), 1.0)
    return [*out, state, info]


def member_name(node: NodeStatus, cluster: dict[str, Any] | None, api_netloc: str) -> str | None:
    """The member name of the node at `api_netloc` (`host:port` of its REST API).

    Patroni 3.0.2's `/patroni` has no name: find the `/cluster` member whose `api_url` points
    at the same host and port, else None.
    """
    if node.member_name:
        return node.member_name
    if not cluster:
        return None
    members = cluster.get("members")
    for m in members if isinstance(members, list) else []:
        url = m.get("api_url") if isinstance(m, dict) else None
        if isinstance(url, str) and url.split("://", 1)[-1].split("/", 1)[0] == api_netloc:
            name = m.get("name")
            return name if isinstance(name, str) else None
    return None
