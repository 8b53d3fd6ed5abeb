"""Two real keepalived 2.2.7 nodes in two network namespaces joined by a bridge, for tests.

Each node runs in its own network namespace (`ip netns`) and its own private mount namespace in
which a folder of the lab is bind-mounted on /tmp: keepalived 2.2.7 writes its dumps to fixed
/tmp paths, so each node gets its own, reachable from outside as `/proc/<pid>/root/tmp`.

Names carry a per-run tag and the subnet is one /24 of 198.19.0.0/16 (198.18.0.0/16 is the
stack's); `Lab.close()` removes every namespace, link and process it made, also after a failure.
The lab folder lives under /run (not /tmp, which the nodes' mount namespaces hide).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from stack.throwaway import stop, wait_for

VRID = 51
PRIORITIES = {"a": 150, "b": 100}
WEIGHT = -80  # a failing `chk_weight` takes a's 150 down to 70, below b's 100
CONFIG = """\
global_defs {{
    router_id {router_id}
    script_user root
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 1
}}
vrrp_script chk_service {{
    script "/usr/bin/test -e {workdir}/{node}.service"
    interval 1
    fall 1
    rise 1
}}
vrrp_script chk_weight {{
    script "/usr/bin/test -e {workdir}/{node}.weight"
    interval 1
    fall 1
    rise 1
    weight {weight}
}}
vrrp_instance VI_front {{
    state BACKUP
    interface {intf}
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass nines
    }}
    virtual_ipaddress {{
        {vip}/24 dev {intf}
    }}
    virtual_ipaddress_excluded {{
        {vip6}/64 dev {intf}
    }}
    track_script {{
        chk_service
        chk_weight
    }}
}}
"""


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output (no terminal, no inherited pipes)."""
    return subprocess.run(
        args, check=check, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30
    )


def free_subnet() -> int:
    """A third octet n such that 198.19.n.0/24 is not routed on this machine right now."""
    routes = run("ip", "-4", "route", "show", "table", "all").stdout
    start = os.getpid() % 200 + 20
    for i in range(200):
        n = (start + i) % 230 + 20
        if f"198.19.{n}." not in routes:
            return n
    raise OSError("no free /24 in 198.19.0.0/16")


@dataclass
class Node:
    """One keepalived node: its namespace, address, files and process."""

    key: str
    netns: str
    host_veth: str
    address: str
    workdir: Path
    tmp_name: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.workdir / f"{self.key}.pid"

    @property
    def tmp(self) -> Path:
        """The folder keepalived sees as /tmp."""
        return self.workdir / (self.tmp_name or f"{self.key}-tmp")

    @property
    def pid(self) -> int:
        return int(self.pid_file.read_text().strip())

    def set_check(self, script: str, ok: bool) -> None:
        """Make the track script `service` or `weight` of this node succeed or fail."""
        path = self.workdir / f"{self.key}.{script}"
        if ok:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `ip` inside the node's network namespace."""
        return run("ip", "-n", self.netns, *args, check=check)

    def spawn(self, config: Path, log: Path) -> None:
        """Start keepalived with `config` in this node's network namespace (the root one if the
        node has none) and a private mount namespace whose /tmp is `self.tmp`."""
        inner = (
            f"mount --bind {self.tmp} /tmp && exec keepalived --dont-fork --log-console "
            f"--log-detail --vrrp --use-file={config} --pid={self.pid_file} "
            f"--vrrp_pid={self.workdir}/{self.key}-vrrp.pid"
        )
        netns = ["ip", "netns", "exec", self.netns] if self.netns else []
        self.pid_file.unlink(missing_ok=True)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [*netns, "unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: self.pid_file.exists() and self.pid_file.read_text().strip(), 15, "keepalived pid")


@dataclass
class Lab:
    """The bridge, two nodes `a` (priority 150) and `b` (100), one VIP and one excluded IPv6 VIP.

    `shared_tmp`: both nodes see the same folder as /tmp (as two keepalived processes without
    private mount namespaces do), so their dumps go to the same files.
    """

    tag: str = field(default_factory=lambda: f"{os.getpid() % 0xFFFF:04x}{int(time.time()) % 0xFF:02x}")
    subnet: int = field(default_factory=free_subnet)
    intf: str = "vrrp0"
    shared_tmp: bool = False
    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"kx{self.tag}br"

    @property
    def vip(self) -> str:
        return f"198.19.{self.subnet}.100"

    @property
    def vip6(self) -> str:
        return f"fd19:{self.subnet}::100"

    @property
    def workdir(self) -> Path:
        return Path("/run") / f"nines-kx-{self.tag}"

    def open(self) -> Lab:
        """Create the network and start both keepalived processes (close() undoes it all).

        Leftovers of labs whose test process died without cleaning up are removed first.
        """
        sweep_leftovers()
        try:
            self._network()
            for node in self.nodes.values():
                node.set_check("service", True)
                node.set_check("weight", True)
                self.start(node.key)
        except BaseException:
            self.close()
            raise
        return self

    def _network(self) -> None:
        self.workdir.mkdir(mode=0o700)
        (self.workdir / "owner").write_text(str(os.getpid()))
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"198.19.{self.subnet}.1/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        for i, key in enumerate(PRIORITIES):
            node = Node(
                key=key,
                netns=f"kx{self.tag}-{key}",
                host_veth=f"kx{self.tag}{key}",
                address=f"198.19.{self.subnet}.{11 + i}",
                workdir=self.workdir,
                tmp_name="shared-tmp" if self.shared_tmp else "",
            )
            self.nodes[key] = node
            run("ip", "netns", "add", node.netns)
            run("ip", "link", "add", node.host_veth, "type", "veth", "peer", "name", self.intf,
                "netns", node.netns)  # fmt: skip
            run("ip", "link", "set", node.host_veth, "master", self.bridge, "up")
            node.ip("addr", "add", f"{node.address}/24", "dev", self.intf)
            node.ip("link", "set", self.intf, "up")
            node.ip("link", "set", "lo", "up")
            node.tmp.mkdir(mode=0o1777, exist_ok=True)

    def config(self, key: str) -> str:
        """The keepalived.conf of node `key`."""
        return CONFIG.format(
            router_id=f"{self.tag}-{key}",
            workdir=self.workdir,
            node=key,
            weight=WEIGHT,
            intf=self.intf,
            vrid=VRID,
            priority=PRIORITIES[key],
            vip=self.vip,
            vip6=self.vip6,
        )

    def start(self, key: str) -> Node:
        """Start (or restart) node `key`'s keepalived and wait for its pid file."""
        node = self.nodes[key]
        conf = self.workdir / f"{key}.conf"
        conf.write_text(self.config(key))
        node.spawn(conf, self.workdir / f"{key}.log")
        return node

    def kill(self, key: str, sig: int = signal.SIGTERM) -> None:
        """Send `sig` to node `key`'s keepalived and wait until it is gone."""
        node = self.nodes[key]
        if node.proc is not None and node.proc.poll() is None:
            node.proc.send_signal(sig)
            node.proc.wait(15)

    def vips(self, key: str) -> set[str]:
        """The IPv4 addresses on node `key`'s VRRP interface."""
        out = self.nodes[key].ip("-4", "-o", "addr", "show", "dev", self.intf).stdout
        return {line.split()[3].split("/")[0] for line in out.splitlines()}

    def log(self, key: str) -> str:
        """Node `key`'s keepalived log so far."""
        path = self.workdir / f"{key}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        """Stop both keepalived processes and remove the namespaces, links and the lab folder."""
        for node in self.nodes.values():
            if node.proc is not None:
                stop(node.proc, 10)
        remove(self.tag, self.workdir)


def remove(tag: str, workdir: Path) -> None:
    """Remove a lab's keepalived processes (by their pid files), namespaces, links and folder."""
    for pid_file in workdir.glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
            if Path(f"/proc/{pid}/comm").read_text().strip() == "keepalived":
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            continue
    for key in PRIORITIES:
        run("ip", "netns", "del", f"kx{tag}-{key}", check=False)
        run("ip", "link", "del", f"kx{tag}{key}", check=False)
    run("ip", "link", "del", f"kx{tag}br", check=False)
    shutil.rmtree(workdir, ignore_errors=True)


def sweep_leftovers() -> None:
    """Remove the labs whose owning process is gone (a test run killed before its cleanup)."""
    for workdir in Path("/run").glob("nines-kx-*"):
        try:
            owner = int((workdir / "owner").read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and Path(f"/proc/{owner}").exists():
            continue
        remove(workdir.name.removeprefix("nines-kx-"), workdir)


def instance_state(lab: Lab, key: str) -> dict[str, object]:
    """The `data` object of node `key`'s one VRRP instance, from a fresh JSON dump."""
    import json

    from exporters.keepalived.dumps import JSON_SIGNAL

    node = lab.nodes[key]
    path = node.tmp / "keepalived.json"
    path.unlink(missing_ok=True)
    os.kill(node.pid, JSON_SIGNAL)

    def parsed() -> dict[str, object] | None:
        try:
            return json.loads(path.read_text())[0]["data"]
        except (OSError, ValueError):
            return None

    return wait_for(parsed, 5, f"a JSON dump of {key}", step=0.02)


def wait_state(lab: Lab, key: str, state: int, timeout: float = 15) -> dict[str, object]:
    """Wait until node `key`'s instance is in `state` (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT)."""
    return wait_for(
        lambda: (d := instance_state(lab, key))["state"] == state and d,
        timeout,
        f"{key} in state {state}",
        step=0.2,
    )
