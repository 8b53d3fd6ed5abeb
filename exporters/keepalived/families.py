"""Parsed keepalived state -> metric families (pure), names compatible with mehdy/keepalived-exporter.

Labels: `iname`, `intf`, `vrid` on per-instance series (`intf` is the VRRP interface), plus
`ip_address` on per-VIP series (`intf` there is the VIP's own `dev`); `name` on script series.
"""

from __future__ import annotations

from collections.abc import Iterable

from exporters.core.metrics import Family
from exporters.keepalived.parse import Instance, Script, TrackProcess, Vip

INSTANCE = ("iname", "intf", "vrid")
VIP = ("iname", "intf", "vrid", "ip_address")

# (JSON `stats` key, metric name, help): mehdy/keepalived-exporter's names
COUNTERS = (
    ("advert_rcvd", "keepalived_advertisements_received_total", "VRRP advertisements received."),
    ("advert_sent", "keepalived_advertisements_sent_total", "VRRP advertisements sent."),
    ("become_master", "keepalived_become_master_total", "Transitions of the instance to MASTER."),
    ("release_master", "keepalived_release_master_total", "Transitions of the instance out of MASTER."),
    ("packet_len_err", "keepalived_packet_length_errors_total", "Packets received with a bad length."),
    (
        "advert_interval_err",
        "keepalived_advertisements_interval_errors_total",
        "Advertisements received with an interval other than the instance's.",
    ),
    ("ip_ttl_err", "keepalived_ip_ttl_errors_total", "Advertisements received with a TTL other than 255."),
    ("invalid_type_rcvd", "keepalived_invalid_type_received_total", "Packets of an invalid VRRP type."),
    (
        "addr_list_err",
        "keepalived_address_list_errors_total",
        "Advertisements whose address list differs from the instance's.",
    ),
    ("invalid_authtype", "keepalived_authentication_invalid_total", "Packets with an unknown auth type."),
    ("authtype_mismatch", "keepalived_authentication_mismatch_total", "Packets with another auth type."),
    ("auth_failure", "keepalived_authentication_failure_total", "Packets that failed authentication."),
    ("pri_zero_rcvd", "keepalived_priority_zero_received_total", "Priority-0 advertisements received."),
    ("pri_zero_sent", "keepalived_priority_zero_sent_total", "Priority-0 advertisements sent (resigning)."),
)


def _key(inst: Instance) -> tuple[str, str, str]:
    return (inst.iname, inst.intf, str(inst.vrid))


def _gauge(name: str, help_: str, labels: tuple[str, ...]) -> Family:
    return Family(name, "gauge", help_, labels)


def instance_families(
    instances: Iterable[Instance], local: set[str], local6: set[tuple[str, str]]
) -> list[Family]:
    """The VRRP families of a keepalived process.

    Args:
        instances: from the JSON dump.
        local: the IPv4 addresses local to keepalived's network namespace.
        local6: its IPv6 addresses as (address, interface).
    """
    state = _gauge(
        "keepalived_vrrp_state",
        "State of the VRRP instance, per VIP: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
        VIP,
    )
    excluded = _gauge(
        "keepalived_vrrp_excluded_state",
        "State of the VRRP instance, per excluded VIP: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
        VIP,
    )
    present = _gauge(
        "keepalived_vrrp_vip_present",
        "1 if the VIP (or excluded VIP) is configured in keepalived's network namespace, else 0.",
        VIP,
    )
    base = _gauge("keepalived_vrrp_base_priority", "Configured priority of the VRRP instance.", INSTANCE)
    effective = _gauge(
        "keepalived_vrrp_effective_priority",
        "Priority the instance advertises now (configured priority plus track weights).",
        INSTANCE,
    )
    last = _gauge(
        "keepalived_vrrp_last_transition_timestamp_seconds",
        "Unix time of the instance's last state transition.",
        INSTANCE,
    )
    garp = Family(
        "keepalived_gratuitous_arp_delay_total",
        "counter",
        "Configured gratuitous ARP delay of the instance in seconds (name kept for compatibility).",
        INSTANCE,
    )
    counters = {key: Family(name, "counter", help_, INSTANCE) for key, name, help_ in COUNTERS}

    def vip_rows(fam: Family, inst: Instance, vips: tuple[Vip, ...]) -> None:
        for vip in vips:
            labels = (inst.iname, vip.intf, str(inst.vrid), vip.address)
            fam.add(labels, inst.state)
            is_local = (vip.address, vip.intf) in local6 if ":" in vip.address else vip.address in local
            present.add(labels, 1.0 if is_local else 0.0)

    for inst in instances:
        key = _key(inst)
        if inst.vips:
            vip_rows(state, inst, inst.vips)
        else:  # an instance without VIPs still has a state
            state.add((*key, ""), inst.state)
        vip_rows(excluded, inst, inst.evips)
        base.add(key, inst.base_priority)
        effective.add(key, inst.effective_priority)
        last.add(key, inst.last_transition)
        garp.add(key, inst.garp_delay)
        for stat, value in inst.stats.items():
            counters[stat].add(key, value)
    return [state, excluded, present, base, effective, last, *counters.values(), garp]


def _per_name(
    specs: tuple[tuple[str, str], ...], rows: Iterable[tuple[str, tuple[int | None, ...]]]
) -> list[Family]:
    """One gauge `{name}` per (metric, help) of `specs`; a row gives a name and one value per gauge
    (None: no sample)."""
    families = [_gauge(metric, help_, ("name",)) for metric, help_ in specs]
    for name, values in rows:
        for fam, value in zip(families, values, strict=True):
            if value is not None:
                fam.add((name,), value)
    return families


def script_families(scripts: Iterable[Script]) -> list[Family]:
    """`keepalived_script_status{name}` (1 GOOD, 0 BAD) and `keepalived_script_state{name}`."""
    specs = (
        ("keepalived_script_status", "Status of the track script: 1 GOOD, 0 BAD."),
        (
            "keepalived_script_state",
            "State of the track script: 0 idle, 1 running, 2 requested termination, 3 forcing termination.",
        ),
    )
    return _per_name(specs, ((s.name, (s.status, s.state)) for s in scripts))


def track_process_families(processes: Iterable[TrackProcess]) -> list[Family]:
    """`keepalived_track_process_status{name}` (1 quorum reached) and the processes running."""
    specs = (
        (
            "keepalived_track_process_status",
            "Status of the tracked process: 1 if at least its quorum of processes runs, else 0.",
        ),
        ("keepalived_track_process_running", "Processes the track process counts now."),
    )
    return _per_name(specs, ((p.name, (p.quorum, p.running)) for p in processes))
