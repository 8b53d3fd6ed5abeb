"""etcd: leadership, proposals, disk latency and database size, from etcd's own metrics."""

from __future__ import annotations

from builders import RATE_INTERVAL, Item, Row, board, q, stat_panel, timeseries_panel
from common import ANNOTATIONS, CLUSTER, UP_DOWN, instance
from grafana_foundation_sdk.models.dashboard import Dashboard

SEL = 'job="etcd", cluster=~"$cluster", instance=~"$instance"'
RI = RATE_INTERVAL


def _p99(histogram: str) -> str:
    return f"histogram_quantile(0.99, sum by (instance, le) (rate({histogram}{{{SEL}}}[{RI}])))"


def build() -> Dashboard:
    """The etcd dashboard."""
    items: list[Item] = [
        Row("Cluster"),
        stat_panel(
            "Members up",
            "Whether Prometheus can scrape each etcd member.",
            "none",
            [q(f"up{{{SEL}}}", "{{instance}}")],
            width=6,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Has leader",
            "1 when every selected member sees a leader; 0 means no writes.",
            "none",
            [q(f"min(etcd_server_has_leader{{{SEL}}})")],
            width=6,
            mappings=[
                {
                    "type": "value",
                    "options": {
                        "0": {"text": "NO LEADER", "color": "red"},
                        "1": {"text": "leader", "color": "green"},
                    },
                }
            ],
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat_panel(
            "Leader changes (1h)",
            "Leader elections seen in the last hour (alert above 3 in 15 minutes).",
            "none",
            [q(f"max(increase(etcd_server_leader_changes_seen_total{{{SEL}}}[1h]))")],
            width=6,
            thresholds=[(None, "green"), (1, "orange"), (4, "red")],
        ),
        stat_panel(
            "Database / quota",
            "Largest member database as a share of its backend quota (alerts at 80 % and 95 %).",
            "percentunit",
            [q(f"max(instance:etcd_mvcc_db_total_size:quota_ratio{{{SEL}}})")],
            width=6,
            thresholds=[(None, "green"), (0.8, "orange"), (0.95, "red")],
        ),
        Row("Raft"),
        timeseries_panel(
            "Leader changes",
            "Leader changes per member over time.",
            "short",
            [q(f"increase(etcd_server_leader_changes_seen_total{{{SEL}}}[{RI}])", "{{instance}}")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Failed proposals",
            "Failed Raft proposals per second (elections, lost quorum).",
            "ops",
            [q(f"rate(etcd_server_proposals_failed_total{{{SEL}}}[{RI}])", "{{instance}}")],
            width=12,
            min=0,
        ),
        Row("Disk"),
        timeseries_panel(
            "WAL fsync p99",
            "99th percentile of WAL fsync duration (alerts above 500 ms and 1 s for 10 minutes).",
            "s",
            [q(_p99("etcd_disk_wal_fsync_duration_seconds_bucket"), "{{instance}}")],
            width=12,
            min=0,
            thresholds=[(None, "green"), (0.5, "orange"), (1, "red")],
        ),
        timeseries_panel(
            "Backend commit p99",
            "99th percentile of backend commit duration (alert above 250 ms for 10 minutes).",
            "s",
            [q(_p99("etcd_disk_backend_commit_duration_seconds_bucket"), "{{instance}}")],
            width=12,
            min=0,
            thresholds=[(None, "green"), (0.25, "orange")],
        ),
        timeseries_panel(
            "Database size",
            "Size of each member's database file, and the backend quota.",
            "bytes",
            [
                q(f"etcd_mvcc_db_total_size_in_bytes{{{SEL}}}", "{{instance}} size"),
                q(f"etcd_server_quota_backend_bytes{{{SEL}}}", "{{instance}} quota"),
            ],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Writes",
            "Put requests per second applied to the key-value store.",
            "ops",
            [q(f"rate(etcd_mvcc_put_total{{{SEL}}}[{RI}])", "{{instance}}")],
            width=12,
            min=0,
        ),
    ]
    return board(
        "nines-etcd",
        "nines / etcd",
        "Leadership, Raft proposals, disk latency and database size of the etcd cluster Patroni uses.",
        items,
        variables=[CLUSTER, instance("etcd_server_has_leader")],
        annotations=ANNOTATIONS,
        tags=["etcd"],
    )
