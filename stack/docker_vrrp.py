"""docker-compose.yml's VRRP layer: the bridge, one container per VRRP node holding its network
namespace, keepalived, HAProxy and PgBouncer in those namespaces, and the keepalived exporter.

The local stack's plan, in containers (`Layout.net` at offset 0, the same addresses):

- the Compose network `vrrp` is the stack's bridge (198.18.0.0/24, the host's end at .1, where the
  host-networked apps, Patroni REST and PostgreSQL listen besides 127.0.0.1); VRRP adverts and the
  VIPs stay on it;
- each node (`lb-a`, `lb-b`, `pgb-a`, `pgb-b`) is a container that only sleeps and owns the node's
  network namespace, with its fixed address and `ip_nonlocal_bind` (the standby binds the VIP
  before it holds it); keepalived and HAProxy/PgBouncer join it (`network_mode: service:<node>`),
  like containers of one pod, so a restarted keepalived or HAProxy keeps the node's address;
- keepalived runs as root with NET_ADMIN (the VIP), NET_RAW (VRRP's raw socket) and SETGID (it
  calls setgroups before each track script) and nothing else; its track script asks the
  namespace whether the node's HAProxy/PgBouncer listens on the node's address (`ss`), since
  their pid files are in other containers' pid namespaces;
- the four keepalived and the keepalived exporter share one pid namespace, owned by a sleeping
  container (`keepalived-pids`): a pid namespace dies with its first process, and that must be
  neither keepalived nor the exporter. The exporter runs as root with no capability at all (its
  uid, keepalived's, is what lets it signal keepalived for its dumps) and reads each keepalived's
  pid file and dumps on that node's volume, which keepalived sees as its `/tmp`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from stack.components.haproxy import INSTANCES as HAPROXIES
from stack.components.haproxy import HAProxy
from stack.components.keepalived import FOREGROUND, NOTIFY, Keepalived, node_names
from stack.components.nines import KeepalivedExporter
from stack.components.pgbouncer import INSTANCES as PGBOUNCERS
from stack.components.pgbouncer import PgBouncer
from stack.docker_common import (
    HAPROXY,
    HAPROXY_GID,
    HOST,
    INIT_IMAGE,
    NINES_IMAGE,
    NOBODY,
    ROOT,
    after,
    exporter_run,
    required,
)
from stack.layout import Layout

NETWORK = "vrrp"
BRIDGE = "nines-vrrp"  # the host's name of the bridge (`ip addr show nines-vrrp`)
PIDS = "keepalived-pids"
KEEPALIVED_CAPS = ["NET_ADMIN", "NET_RAW", "SETGID"]
SCRIPTS = Path("/usr/local/lib/nines")  # in the keepalived image, root-owned (keepalived's script security)
DUMPS = Path("/tmp")  # noqa: S108 - keepalived 2.2.7 writes its dumps to /tmp; a volume of the node's
# keepalived's pid-file options and their files, on the node's volume
PID_FILES = {"pid": "keepalived.pid", "vrrp_pid": "vrrp.pid", "checkers_pid": "checkers.pid"}
HAPROXY_SOCKET_MODE = "660"
LISTENING = """#!/bin/sh
# keepalived track script (generated): succeeds while something in this network namespace listens
# on TCP ADDRESS:PORT, i.e. while the node's HAProxy or PgBouncer, in a container of its own that
# shares the namespace, runs. Usage: listening.sh ADDRESS PORT
[ -n "$(ss -Hltn src "$1" sport = ":$2")" ]
"""


def network(lay: Layout) -> dict[str, Any]:
    """The bridge: the plan's subnet, the host at the bridge address; Docker's own allocations
    (none expected) kept to the upper half, away from the nodes' fixed addresses and the VIPs.

    Raises:
        ValueError: a node address or VIP falls in the dynamic range.
    """
    net = lay.net
    dynamic = list(net.subnet.subnets(new_prefix=25))[1]
    fixed = [net.node_ip(n) for n in net.nodes] + [net.vip(p) for p in ("frontdoor", "pgbouncer")]
    clash = [a for a in fixed if ipaddress.IPv4Address(a) in dynamic]
    if clash:
        raise ValueError(f"fixed addresses {clash} fall in Docker's dynamic range {dynamic}")
    return {
        "driver": "bridge",
        "driver_opts": {
            "com.docker.network.bridge.name": BRIDGE,
            # the nodes talk to the host and to each other only: no NAT to the outside
            "com.docker.network.bridge.enable_ip_masquerade": "false",
        },
        "ipam": {"config": [{"subnet": str(net.subnet), "gateway": net.bridge_ip, "ip_range": str(dynamic)}]},
    }


def _sleeper(**extra: Any) -> dict[str, Any]:
    """A container that only holds namespaces: tini (`init`) reaps, `sleep` waits, nothing else."""
    return {
        "image": INIT_IMAGE,
        "user": NOBODY,
        "init": True,
        "command": ["sleep", "infinity"],
        "cap_drop": ["ALL"],
        "read_only": True,
        "restart": "unless-stopped",
        **extra,
    }


def holders(lay: Layout) -> dict[str, Any]:
    """One network-namespace holder per VRRP node, and the keepalived pid-namespace holder."""
    services: dict[str, Any] = {
        node: _sleeper(
            networks={NETWORK: {"ipv4_address": lay.net.node_ip(node)}},
            sysctls={"net.ipv4.ip_nonlocal_bind": 1},
        )
        for node in lay.net.nodes
    }
    services[PIDS] = _sleeper(network_mode="none")
    return services


def volume(node: str) -> str:
    """The named volume of `node`'s keepalived: its pid files and dumps (its `/tmp`)."""
    return f"keepalived-{node}"


def _track(lay: Layout, keepalived: Keepalived) -> str:
    """The track command: the node's HAProxy (front door) or PgBouncer listens on the node's address."""
    service = keepalived.pair.service
    port = lay.port("haproxy.https" if service == "haproxy" else "pgbouncer")
    return f"{SCRIPTS / 'listening.sh'} {lay.net.node_ip(keepalived.node)} {port}"


def keepalived_files(lay: Layout) -> dict[str, str]:
    """docker/keepalived/: each node's keepalived.conf and the scripts the image carries."""
    files = {
        "keepalived/listening.sh": LISTENING,
        "keepalived/notify.sh": NOTIFY.format(log=DUMPS / "notify.log"),
    }
    for node in node_names():
        ka = Keepalived(lay, node)
        files[f"keepalived/{node}.conf"] = ka.render(track=_track(lay, ka), notify=str(SCRIPTS / "notify.sh"))
    return files


def keepalived_services(lay: Layout) -> dict[str, Any]:
    """keepalived on each node, in the node's network namespace and the shared keepalived pid namespace."""
    services = {}
    for node in node_names():
        services[f"keepalived-{node}"] = after(
            {
                "build": {"context": ".", "dockerfile": "docker/keepalived.Dockerfile"},
                "user": ROOT,
                "network_mode": f"service:{node}",
                "pid": f"service:{PIDS}",
                "cap_drop": ["ALL"],
                "cap_add": KEEPALIVED_CAPS,
                "restart": "unless-stopped",
                # a pid file left by the last run may name a live process of the shared pid
                # namespace (another node's keepalived): keepalived would refuse to start
                "command": [
                    "sh",
                    "-c",
                    f'rm -f {" ".join(str(DUMPS / f) for f in PID_FILES.values())} && exec "$0" "$@"',
                    "keepalived",
                    *FOREGROUND,
                    "--use-file=/etc/keepalived/keepalived.conf",
                    *(f"--{option}={DUMPS / f}" for option, f in PID_FILES.items()),
                ],
                "volumes": [
                    f"./docker/keepalived/{node}.conf:/etc/keepalived/keepalived.conf:ro",
                    f"{volume(node)}:{DUMPS}",
                ],
            },
            node,
            PIDS,
        )
    return services


def exporter_targets(lay: Layout) -> list[dict[str, Any]]:
    """The stack's targets, each pid file moved next to the dumps, on the node's volume."""
    return [
        {**t, "pid_file": str(Path(t["dump_dir"]) / "keepalived.pid")}
        for t in KeepalivedExporter(lay).targets()
    ]


def exporter_service(lay: Layout) -> dict[str, Any]:
    """The keepalived exporter: root (keepalived's uid, to signal it) without capabilities, in
    keepalived's pid namespace, each node's volume where its config says the dumps are (read-write:
    it removes stale dumps)."""
    exp = KeepalivedExporter(lay)
    mounts = [f"{volume(t['name'])}:{t['dump_dir']}" for t in exporter_targets(lay)]
    run = exporter_run(lay, exp)
    return after(
        {
            **HOST,
            **NINES_IMAGE,
            "user": ROOT,
            "pid": f"service:{PIDS}",
            "cap_drop": ["ALL"],
            "command": run["command"],
            "volumes": [*run["volumes"], *mounts],
        },
        PIDS,
        *(f"keepalived-{n}" for n in node_names()),
    )


def haproxy_file(lay: Layout, name: str) -> str:
    """haproxy.cfg of one node: its stats socket group-readable, so the exporter (in HAProxy's group)
    may connect; listeners on the front-door VIP and the node's address, as in the local stack."""
    cfg = HAProxy(lay, name).render(
        socket=Path(f"/var/run/haproxy/{name}.sock"),
        cert=Path("/etc/haproxy/tls/web.pem"),
        drop_privileges=False,
    )
    return _replace_once(cfg, ".sock mode 600 ", f".sock mode {HAPROXY_SOCKET_MODE} gid {HAPROXY_GID} ")


def pgbouncer_file(lay: Layout, name: str) -> str:
    """pgbouncer.ini of one node, with the paths the image's entrypoint uses."""
    home = PgBouncer(lay, name).home
    ini = PgBouncer(lay, name).ini()
    ini = _replace_once(ini, str(home / "run"), "/var/run/pgbouncer")
    return _replace_once(ini, str(home / "userlist.txt"), "/etc/pgbouncer/userlist.txt")


def node_services(lay: Layout) -> dict[str, Any]:
    """HAProxy and PgBouncer, each in its node's network namespace."""
    services: dict[str, Any] = {}
    for name in HAPROXIES:
        services[name] = after(
            {
                "image": "haproxy:2.6",
                "user": HAPROXY,
                "network_mode": f"service:{HAProxy(lay, name).node}",
                "restart": "unless-stopped",
                "volumes": [
                    f"./docker/haproxy/{name}.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro",
                    "tls:/etc/haproxy/tls:ro",
                    "haproxy-run:/var/run/haproxy",
                ],
            },
            HAProxy(lay, name).node,
        )
    for name in PGBOUNCERS:
        node = PgBouncer(lay, name).node
        services[name] = {
            "build": {"context": ".", "dockerfile": "docker/pgbouncer.Dockerfile"},
            "network_mode": f"service:{node}",
            "restart": "unless-stopped",
            "depends_on": {node: {"condition": "service_started"}},
            "environment": {
                "NINES_APP_PASSWORD": required("NINES_APP_PASSWORD"),
                "NINES_ADMIN_PASSWORD": required("NINES_PGBOUNCER_ADMIN_PASSWORD"),
                "NINES_STATS_PASSWORD": required("NINES_PGBOUNCER_STATS_PASSWORD"),
            },
            "volumes": [f"./docker/pgbouncer/{name}.ini:/etc/pgbouncer/pgbouncer.ini:ro"],
        }
    return services


def exporter_config(lay: Layout) -> str:
    """docker/exporters/keepalived-exporter.yml."""
    return yaml.safe_dump({"targets": exporter_targets(lay)}, sort_keys=False)


def _replace_once(text: str, old: str, new: str) -> str:
    """`text` with its one `old` replaced; a template that no longer has it is an error here."""
    if text.count(old) != 1:
        raise ValueError(f"expected {old!r} once in the rendered config, found it {text.count(old)} times")
    return text.replace(old, new)
