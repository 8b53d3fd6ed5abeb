"""Patroni / PostgreSQL: roles, failovers, replication lag and health, from the nines exporter."""

from __future__ import annotations

from builders import Item, Row, board, q, stat_panel, state_timeline_panel, timeseries_panel, value_map
from common import ANNOTATIONS, CLUSTER, UP_DOWN, instance, label_var
from grafana_foundation_sdk.models.dashboard import Dashboard

SEL = 'job="patroni", cluster=~"$cluster", instance=~"$instance"'
NODE = f'{SEL}, scope=~"$scope"'
CL = 'cluster=~"$cluster", scope=~"$scope"'

ROLE = value_map((0, "replica", "blue"), (1, "sync standby", "purple"), (2, "primary", "green"))


def build() -> Dashboard:
    """The Patroni / PostgreSQL dashboard."""
    items: list[Item] = [
        Row("Cluster"),
        stat_panel(
            "Primaries",
            "Members in the primary role: exactly one is healthy, 0 is an outage, 2 a split brain.",
            "none",
            [q(f"patroni_cluster:primaries:count{{{CL}}}", "{{scope}}")],
            width=6,
            thresholds=[(None, "red"), (1, "green"), (2, "red")],
        ),
        stat_panel(
            "Synchronous standbys",
            "Members in the sync standby role (synchronous_mode needs at least one).",
            "none",
            [q(f"patroni_cluster:sync_standbys:count{{{CL}}}", "{{scope}}")],
            width=6,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Failovers (24h)",
            "Promotions (failovers and switchovers) recorded in Patroni's history over 24 hours.",
            "none",
            [
                q(
                    f'max by (scope) (increase(patroni_cluster_failovers_total{{job="patroni", {CL}}}[24h]))',
                    "{{scope}}",
                )
            ],
            width=6,
            thresholds=[(None, "green"), (1, "orange")],
        ),
        stat_panel(
            "Timeline",
            "Highest PostgreSQL timeline in the cluster; it goes up with each promotion.",
            "none",
            [q(f"patroni_cluster:timeline:max{{{CL}}}", "{{scope}}")],
            width=6,
        ),
        state_timeline_panel(
            "Member role",
            "Role of each member over time: primary, synchronous standby or replica.",
            "none",
            [q(f"2 * patroni_primary{{{NODE}}} + patroni_sync_standby{{{NODE}}}", "{{name}}")],
            width=12,
            mappings=ROLE,
        ),
        state_timeline_panel(
            "PostgreSQL running",
            "Whether Patroni reports PostgreSQL running on each member.",
            "none",
            [q(f"patroni_postgres_running{{{NODE}}}", "{{name}}")],
            width=12,
            mappings=UP_DOWN,
        ),
        Row("Replication"),
        timeseries_panel(
            "Replication lag (time)",
            "Replay lag per replica: the larger of measured (on the leader) and estimated (warning above "
            "100 ms, critical above 1 s).",
            "s",
            [q(f"patroni_member:replay_lag_seconds:measured_or_estimate{{{CL}}}", "{{member}}")],
            width=12,
            min=0,
            thresholds=[(None, "green"), (0.1, "orange"), (1, "red")],
        ),
        timeseries_panel(
            "Replication lag (bytes)",
            "WAL not yet received or replayed per replica, as Patroni's /cluster reports it.",
            "bytes",
            [q(f'patroni_cluster_member_lag_bytes{{job="patroni", {CL}}}', "{{member}}")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "WAL rate",
            "Bytes of WAL written per second on the primary (growth of its WAL position).",
            "Bps",
            [
                q(
                    f"deriv(patroni_xlog_location{{{NODE}}}[$__rate_interval]) "
                    f"and on (scope, name) (patroni_primary{{{NODE}}} == 1)",
                    "{{name}}",
                )
            ],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "DCS last seen",
            "Seconds since each member last reached etcd (alerts above 30 s and 120 s).",
            "s",
            [q(f"time() - patroni_dcs_last_seen{{{NODE}}}", "{{name}}")],
            width=12,
            min=0,
            thresholds=[(None, "green"), (30, "orange"), (120, "red")],
        ),
        Row("Members"),
        stat_panel(
            "Patroni REST API",
            "Whether the exporter reaches each member's Patroni REST API (patroni_up).",
            "none",
            [q(f"patroni_up{{{SEL}}}", "{{target}}")],
            width=8,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Pending restart",
            "Members with settings that apply only after a PostgreSQL restart.",
            "none",
            [q(f"patroni_pending_restart{{{NODE}}}", "{{name}}")],
            width=8,
            thresholds=[(None, "green"), (1, "orange")],
        ),
        stat_panel(
            "Maintenance mode",
            "1 while the cluster is paused: Patroni does not fail over.",
            "none",
            [q(f"max by (scope) (patroni_is_paused{{{NODE}}})", "{{scope}}")],
            width=8,
            thresholds=[(None, "green"), (1, "orange")],
        ),
    ]
    return board(
        "nines-patroni",
        "nines / Patroni & PostgreSQL",
        "Roles, failovers, replication lag and health of the Patroni-managed PostgreSQL cluster.",
        items,
        variables=[
            CLUSTER,
            instance("patroni_up"),
            label_var("scope", "Patroni cluster", "patroni_primary", "scope"),
        ],
        annotations=ANNOTATIONS,
        tags=["patroni", "postgresql"],
    )
