"""Make, inspect and remove the stack's network (bridge, namespaces, veth pairs) with `ip`.

What `make` creates is recorded in `<state>/network.json`; `remove` deletes what that record names
and everything else whose name carries the stack's prefix, so a crashed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from stack.network import INNER_IF, NetworkError, Plan

IP_TIMEOUT = 10.0
NO_PRIVILEGE = ("Operation not permitted", "Permission denied")


def ip(*args: str, check: bool = True) -> str:
    """Run `ip ARGS`; raise NetworkError quoting its stderr when it fails and `check` is set."""
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetworkError(f"`ip {' '.join(args)}` failed: {exc}") from exc
    if check and done.returncode != 0:
        err = done.stderr.strip()
        if any(s in err for s in NO_PRIVILEGE):
            raise NetworkError(
                f"cannot create the stack's network (`ip {' '.join(args)}`: {err}). "
                "Network namespaces, veth pairs and bridges need root or CAP_NET_ADMIN and "
                "CAP_SYS_ADMIN: run `make demo` as root (sudo), or in a container add "
                "`--cap-add NET_ADMIN --cap-add SYS_ADMIN` (or `--privileged`)."
            )
        raise NetworkError(f"`ip {' '.join(args)}` failed: {err}")
    return done.stdout


def ip_json(*args: str) -> list[dict[str, Any]]:
    out = ip("-j", *args).strip()
    data: list[dict[str, Any]] = json.loads(out) if out else []
    return data


def overlapping_routes(plan: Plan, routes: Sequence[dict[str, Any]]) -> list[str]:
    """Routes (from `ip -j route`) whose destination overlaps the plan's subnet, other than its own bridge."""
    clash = []
    for r in routes:
        dst = r.get("dst", "")
        if dst in ("default", "") or r.get("dev") == plan.bridge:
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if net.version == 4 and net.overlaps(plan.subnet):
            clash.append(f"{dst} dev {r.get('dev', '?')}")
    return clash


def check_routes(plan: Plan) -> None:
    """Refuse a subnet the machine already routes (a bridge shadowing it would cut the machine off)."""
    clash = overlapping_routes(plan, ip_json("route"))
    if clash:
        raise NetworkError(
            f"the stack's subnet {plan.subnet} (from port offset {plan.offset}) overlaps routes this "
            f"machine already has: {', '.join(clash)}. Choose another offset (--port-offset / "
            "NINES_PORT_OFFSET: the third octet is the offset in thousands) or remove that route."
        )


def namespaces(plan: Plan) -> list[str]:
    """This stack's network namespaces that exist now."""
    listed = ip_json("netns", "list")
    return [n["name"] for n in listed if plan.owns(n.get("name", ""))]


def links(plan: Plan) -> list[str]:
    """This stack's links (bridge, veths) in the root namespace that exist now."""
    return [link["ifname"] for link in ip_json("link", "show") if plan.owns(link.get("ifname", ""))]


def is_complete(plan: Plan) -> bool:
    """Bridge with its address and every node namespace with its address exist."""
    try:
        bridge = ip_json("-4", "addr", "show", "dev", plan.bridge)
        have = {a["local"] for i in bridge for a in i.get("addr_info", [])}
        if plan.bridge_ip not in have or set(namespaces(plan)) != {plan.netns(n) for n in plan.nodes}:
            return False
        return all(plan.node_ip(n) in addresses(plan, n) for n in plan.nodes)
    except NetworkError:
        return False


def make(plan: Plan, record: Path) -> None:
    """Create the bridge, namespaces and veth pairs (after removing a partial leftover)."""
    if is_complete(plan):
        return
    remove(plan, record)
    check_routes(plan)
    made: dict[str, list[str]] = {"links": [], "namespaces": []}
    record.parent.mkdir(parents=True, exist_ok=True)

    def note(kind: str, name: str) -> None:
        made[kind].append(name)
        record.write_text(json.dumps({"prefix": plan.prefix, "subnet": str(plan.subnet), **made}) + "\n")

    ip("link", "add", plan.bridge, "type", "bridge")
    note("links", plan.bridge)
    ip("addr", "add", f"{plan.bridge_ip}/24", "dev", plan.bridge)
    ip("link", "set", plan.bridge, "up")
    for node in plan.nodes:
        ns, veth, inner = plan.netns(node), plan.veth(node), plan.veth(node, inner=True)
        ip("netns", "add", ns)
        note("namespaces", ns)
        ip("link", "add", veth, "type", "veth", "peer", "name", inner)
        note("links", veth)
        ip("link", "set", inner, "netns", ns)
        ip("-n", ns, "link", "set", inner, "name", INNER_IF)
        ip("-n", ns, "addr", "add", f"{plan.node_ip(node)}/24", "dev", INNER_IF)
        ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", ns, "link", "set", INNER_IF, "up")
        ip("link", "set", veth, "master", plan.bridge)
        ip("link", "set", veth, "up")
        # Each node binds its VIP before keepalived gives it the address (the standby must be ready).
        ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")


def remove(plan: Plan, record: Path) -> list[str]:
    """Kill every process left in the stack's namespaces, delete them and its links; return what went."""
    recorded: dict[str, list[str]] = {}
    with contextlib.suppress(OSError, ValueError):
        recorded = json.loads(record.read_text())
    gone = []
    for ns in sorted(set(namespaces(plan)) | set(recorded.get("namespaces", []))):
        _kill_all(pids_in(ns))
        ip("netns", "del", ns, check=False)
        gone.append(f"netns {ns}")
    for link in sorted(set(links(plan)) | set(recorded.get("links", []))):
        ip("link", "del", link, check=False)
        gone.append(f"link {link}")
    record.unlink(missing_ok=True)
    return gone


def pids_in(ns: str) -> list[int]:
    """Processes whose network namespace is `ns`."""
    out = ip("netns", "pids", ns, check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def strays(plan: Plan, ours: Collection[int]) -> list[int]:
    """Processes in the stack's namespaces that descend from none of `ours` (a crashed run's).

    Descendants count as ours: keepalived's VRRP child and the track scripts it runs (in process
    groups of their own) must survive an `up` on a running stack.
    """
    out = []
    for ns in namespaces(plan):
        out += [p for p in pids_in(ns) if not set(_lineage(p)) & set(ours)]
    return out


def kill_strays(plan: Plan, ours: Collection[int]) -> list[int]:
    """Kill processes a crashed run left in the namespaces; return their pids."""
    found = strays(plan, ours)
    _kill_all(found)
    return found


def _lineage(pid: int) -> list[int]:
    """`pid` and its ancestors, up to init."""
    chain = [pid]
    while chain[-1] > 1 and len(chain) < 64:
        try:
            stat = Path(f"/proc/{chain[-1]}/stat").read_text()
            chain.append(int(stat.rsplit(")", 1)[1].split()[1]))
        except (OSError, ValueError, IndexError):
            break
    return chain


def _kill_all(pids: Sequence[int], timeout: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
            for p in pids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(p, os.WNOHANG)
            time.sleep(0.1)


def addresses(plan: Plan, node: str) -> set[str]:
    """IPv4 addresses on the node's link to the bridge (its own and any VIP it holds)."""
    data = ip_json("-n", plan.netns(node), "-4", "addr", "show", "dev", INNER_IF)
    return {a["local"] for i in data for a in i.get("addr_info", [])}


def vip_holders(plan: Plan, instance: str) -> list[str]:
    """Nodes of the pair that carry the instance's VIP on their interface now (one, when healthy)."""
    pair, vip = plan.pair(instance), plan.vip(instance)
    held = []
    for node in pair.nodes:
        with contextlib.suppress(NetworkError):
            if vip in addresses(plan, node):
                held.append(node)
    return held


def set_bridged(plan: Plan, node: str, attached: bool) -> None:
    """Attach the node's veth to the bridge or detach it (its link stays up: a silent partition)."""
    if attached:
        ip("link", "set", plan.veth(node), "master", plan.bridge)
    else:
        ip("link", "set", plan.veth(node), "nomaster")
