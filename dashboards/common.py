"""Variables, annotations and value mappings shared by the nines dashboards."""

from __future__ import annotations

from builders import annotation, query_variable, value_map
from grafana_foundation_sdk.builders.dashboard import QueryVariable

CLUSTER = query_variable("cluster", "Cluster", "label_values(up, cluster)")


def instance(metric: str) -> QueryVariable:
    """The `instance` variable over the exporter that emits `metric` (multi, All by default)."""
    return query_variable(
        "instance",
        "Instance",
        f'label_values({metric}{{cluster=~"$cluster"}}, instance)',
        multi=True,
        include_all=True,
    )


def label_var(name: str, label: str, metric: str, label_name: str | None = None) -> QueryVariable:
    """A multi-value variable over `label_name` (default `name`) of `metric` in the cluster."""
    return query_variable(
        name,
        label,
        f'label_values({metric}{{cluster=~"$cluster", instance=~"$instance"}}, {label_name or name})',
        multi=True,
        include_all=True,
    )


FAILOVERS = annotation(
    "Failovers",
    'changes(patroni_cluster_failovers_total{job="patroni", cluster=~"$cluster"}[1m]) > 0',
    "Failover or switchover in {{scope}}",
    "Patroni recorded a promotion: a new primary.",
    "red",
)

HAPROXY_STATE_CHANGES = annotation(
    "HAProxy state changes",
    'changes(haproxy_server_status{job="haproxy", cluster=~"$cluster", state="UP"}[1m]) > 0',
    "{{proxy}}/{{server}} on {{target}}",
    "Server went UP or left UP (DOWN, MAINT, DRAIN).",
    "orange",
)

# on the boards of the components behind a floating IP
VIP_MOVES = annotation(
    "VIP moves",
    'increase(keepalived_become_master_total{job="keepalived", cluster=~"$cluster"}[1m]) > 0',
    "{{target}} became master of {{iname}}",
    "A VRRP transition to MASTER: the floating IP moved to this node.",
    "purple",
)

ANNOTATIONS = [FAILOVERS, HAPROXY_STATE_CHANGES]

UP_DOWN = value_map((0, "DOWN", "red"), (1, "UP", "green"))
