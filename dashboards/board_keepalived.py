"""Floating IPs: which node holds each VRRP address, transitions, priorities and track scripts.

Read from the nines keepalived exporter (the mehdy/keepalived-exporter names plus priorities,
transition times, VIP presence and script status), one series per node (`target`: lb-a, lb-b,
pgb-a, pgb-b) and VRRP instance (`iname`: frontdoor for the HAProxy pair, pgbouncer for the
PgBouncer pair).
"""

from __future__ import annotations

from builders import (
    RATE_INTERVAL,
    Item,
    Row,
    board,
    q,
    stat_panel,
    state_timeline_panel,
    timeseries_panel,
    value_map,
)
from common import ANNOTATIONS, CLUSTER, UP_DOWN, VIP_MOVES, instance, label_var
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models.dashboard import Dashboard

SEL = 'job="keepalived", cluster=~"$cluster", instance=~"$instance", target=~"$target"'
VRRP = f'{SEL}, iname=~"$vrrp_instance"'
RI = RATE_INTERVAL
# the labels that name one VRRP instance on one node
NODE_INSTANCE = "cluster, instance, job, target, iname, intf, vrid"

VRRP_STATE = value_map(
    (0, "INIT", "text"),
    (1, "BACKUP", "blue"),
    (2, "MASTER", "green"),
    (3, "FAULT", "red"),
)
MASTERS = value_map((0, "NO MASTER", "red"), (1, "OK", "green"), (2, "SPLIT BRAIN", "red"))
PRESENT = value_map((0, "MISSING", "red"), (1, "PRESENT", "green"))
SCRIPT = value_map((0, "BAD", "red"), (1, "GOOD", "green"))


def _holders() -> list[Item]:
    return [
        Row("Who holds each floating IP"),
        stat_panel(
            "Masters per VIP",
            "Nodes in MASTER state for each VRRP instance: exactly 1 is healthy, 0 means nobody "
            "answers on the VIP, 2 is split brain.",
            "none",
            [
                # nodes (not addresses) in MASTER per instance; 0 for an instance with none
                q(
                    f"count by (iname) (max by (iname, target) (keepalived_vrrp_state{{{VRRP}}}) == 2)"
                    f" or max by (iname) (keepalived_vrrp_state{{{VRRP}}}) * 0",
                    "{{iname}}",
                )
            ],
            width=8,
            mappings=MASTERS,
            thresholds=[(None, "red"), (1, "green"), (2, "red")],
        ),
        stat_panel(
            "VIP holder now",
            "The node that is MASTER of each VRRP instance, i.e. holds its floating IP.",
            "none",
            [q(f"max by (iname, target) (keepalived_vrrp_state{{{VRRP}}} == 2)", "{{iname}}: {{target}}")],
            width=8,
            mappings=VRRP_STATE,
            thresholds=[(None, "green")],
        ).text_mode(cm.BigValueTextMode.NAME),
        stat_panel(
            "keepalived on each node",
            "Whether the exporter reads each node's keepalived (keepalived_up): DOWN means no VRRP "
            "state is known for that node.",
            "none",
            [q(f"keepalived_up{{{SEL}}}", "{{target}}")],
            width=8,
            mappings=UP_DOWN,
            thresholds=[(None, "red"), (1, "green")],
        ),
        state_timeline_panel(
            "VRRP state over time",
            "State of each node in each VRRP instance: the MASTER band shows who held the "
            "floating IP when; FAULT is a failed track script or interface.",
            "none",
            [q(f"max by (iname, target) (keepalived_vrrp_state{{{VRRP}}})", "{{iname}} {{target}}")],
            mappings=VRRP_STATE,
            height=9,
        ),
    ]


def _transitions() -> list[Item]:
    return [
        Row("Transitions"),
        timeseries_panel(
            "Master transitions",
            "Transitions to MASTER (became) and away from it (released) per node; more than a few "
            "per hour is flapping.",
            "short",
            [
                q(
                    f"sum by (iname, target) (increase(keepalived_become_master_total{{{VRRP}}}[{RI}]))",
                    "{{iname}} {{target}} became master",
                ),
                q(
                    f"sum by (iname, target) (increase(keepalived_release_master_total{{{VRRP}}}[{RI}]))",
                    "{{iname}} {{target}} released master",
                ),
            ],
            width=16,
            min=0,
        ),
        stat_panel(
            "Time since the last transition",
            "How long each node has been in its current VRRP state.",
            "s",
            [
                q(
                    f"time() - max by (iname, target) "
                    f"(keepalived_vrrp_last_transition_timestamp_seconds{{{VRRP}}})",
                    "{{iname}} {{target}}",
                )
            ],
            width=8,
            thresholds=[(None, "orange"), (3600, "green")],
        ),
    ]


def _priorities() -> list[Item]:
    return [
        Row("Priorities"),
        timeseries_panel(
            "Base and effective priority",
            "Configured (base) and current (effective) VRRP priority per node: the node with the "
            "highest effective priority becomes MASTER.",
            "none",
            [
                q(f"keepalived_vrrp_base_priority{{{VRRP}}}", "{{iname}} {{target}} base"),
                q(f"keepalived_vrrp_effective_priority{{{VRRP}}}", "{{iname}} {{target}} effective"),
            ],
            width=16,
            min=0,
        ),
        stat_panel(
            "Priority lowered by",
            "Base minus effective priority: above 0, a failing track script or process has "
            "lowered the node's priority (its HAProxy or PgBouncer is unhealthy).",
            "none",
            [
                q(
                    f"keepalived_vrrp_base_priority{{{VRRP}}} - on ({NODE_INSTANCE}) "
                    f"keepalived_vrrp_effective_priority{{{VRRP}}}",
                    "{{iname}} {{target}}",
                )
            ],
            width=8,
            thresholds=[(None, "green"), (1, "orange")],
        ),
    ]


def _addresses() -> list[Item]:
    return [
        Row("Addresses and track scripts"),
        state_timeline_panel(
            "VIP configured on its master",
            "For the MASTER of each instance, whether the floating IP is really on its interface; "
            "MISSING on a master means clients of that VIP get no answer.",
            "none",
            [
                q(
                    f"keepalived_vrrp_vip_present{{{VRRP}}} and on ({NODE_INSTANCE}, ip_address) "
                    f"(keepalived_vrrp_state{{{VRRP}}} == 2)",
                    "{{iname}} {{ip_address}} on {{target}}",
                )
            ],
            mappings=PRESENT,
            width=12,
        ),
        state_timeline_panel(
            "Track scripts",
            "Status of each track script per node (GOOD or BAD); a BAD script lowers the node's "
            "priority or puts it in FAULT.",
            "none",
            [q(f"keepalived_script_status{{{SEL}}}", "{{target}} {{name}}")],
            mappings=SCRIPT,
            width=12,
        ),
    ]


def build() -> Dashboard:
    """The floating IP (keepalived) dashboard."""
    items = [*_holders(), *_transitions(), *_priorities(), *_addresses()]
    return board(
        "nines-keepalived",
        "nines / Floating IPs (keepalived)",
        "Which node holds each VRRP floating IP (front door: HAProxy pair; PgBouncer pair), "
        "transitions, priorities, VIP presence and track scripts, from the nines keepalived exporter.",
        items,
        variables=[
            CLUSTER,
            instance("keepalived_up"),
            label_var("target", "Node", "keepalived_up", "target"),
            label_var("vrrp_instance", "VRRP instance", "keepalived_vrrp_state", "iname"),
        ],
        annotations=[*ANNOTATIONS, VIP_MOVES],
        tags=["keepalived", "haproxy", "pgbouncer"],
    )
