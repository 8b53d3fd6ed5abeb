"""The stack's own network and keepalived: names, subnet, VIPs on the masters, dumps per node."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stack import netops
from stack.components.keepalived import Keepalived, exporter_targets, node_names
from stack.layout import REPO
from stack.network import IFNAMSIZ, NetworkError, Plan
from stack.process import running_pid
from stack.runner import Stack
from stack.throwaway import wait_for


def test_names_and_subnet_derive_from_the_offset() -> None:
    test, demo = Plan(20000), Plan(0)
    assert str(test.subnet) == "198.18.20.0/24" and str(demo.subnet) == "198.18.0.0/24"
    assert test.bridge == "nn20000-br" and test.netns("pgb-b") == "nn20000-pgb-b"
    assert (test.bridge_ip, test.vip("frontdoor"), test.vip("pgbouncer")) == (
        "198.18.20.1",
        "198.18.20.10",
        "198.18.20.20",
    )
    names = [test.bridge] + [test.veth(n, inner) for n in test.nodes for inner in (False, True)]
    assert max(len(n) for n in names) <= IFNAMSIZ
    assert not any(demo.owns(n) for n in names)
    with pytest.raises(NetworkError, match="offset below 256000"):
        Plan(256000)


def test_a_routed_overlap_is_refused_and_its_own_bridge_is_not() -> None:
    plan = Plan(20000)
    routes = [
        {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
        {"dst": "192.0.2.0/24", "dev": "eth0"},
        {"dst": "198.18.20.0/24", "dev": "nn20000-br"},
        {"dst": "198.18.0.0/15", "dev": "tun0"},
        {"dst": "198.18.21.0/24", "dev": "other"},
    ]
    assert netops.overlapping_routes(plan, routes) == ["198.18.0.0/15 dev tun0"]


@pytest.mark.stack
def test_each_vip_is_on_its_masters_interface_and_status_says_so(stack: Stack) -> None:
    assert stack.vip_holders() == {"frontdoor": ["lb-a"], "pgbouncer": ["pgb-a"]}
    net = stack.layout.net
    rows = {r.name: r for r in stack.status()}
    assert rows["vip-frontdoor"].up and rows["vip-frontdoor"].address == f"{net.vip('frontdoor')} on lb-a"
    assert rows["vip-pgbouncer"].address == f"{net.vip('pgbouncer')} on pgb-a"
    out = subprocess.run(
        ["ip", "-n", stack.layout.net.netns("lb-b"), "-4", "-o", "addr"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{net.node_ip('lb-b')}/24" in out and net.vip("frontdoor") not in out


@pytest.mark.stack
def test_keepalived_runs_per_node_with_its_own_tmp_pid_files_and_dumps(stack: Stack) -> None:
    root_mnt = os.readlink("/proc/self/ns/mnt")
    for target in exporter_targets(stack.layout):
        node = target["name"]
        comp = stack.component(f"keepalived-{node}")
        assert isinstance(comp, Keepalived)
        pid = running_pid(Path(target["pid_file"]))
        assert pid is not None and pid == stack.pid(comp.name), node
        assert running_pid(comp.vrrp_pid_file) is not None, node
        assert os.readlink(f"/proc/{pid}/ns/mnt") != root_mnt, node
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net"), node
        dump = Path(target["dump_dir"])
        (dump / "keepalived.data").unlink(missing_ok=True)
        os.kill(pid, signal.SIGUSR1)
        wanted = f"VRRP Instance = {comp.pair.instance}"

        def dumped(d: Path = dump, w: str = wanted) -> str | None:
            text = (d / "keepalived.data").read_text() if (d / "keepalived.data").exists() else ""
            return text if w in text and "Virtual Router ID" in text else None

        data = wait_for(dumped, 10, f"{node}: data dump", step=0.2)
        assert f"Virtual Router ID = {comp.pair.vrid}" in data, node
    assert [t["name"] for t in exporter_targets(stack.layout)] == node_names()


@pytest.mark.stack
def test_keepalived_json_dump_names_the_instance_and_the_master(stack: Stack) -> None:
    comp = stack.component("keepalived-lb-a")
    assert isinstance(comp, Keepalived)
    path = comp.dump_dir / "keepalived.json"
    other = stack.path("keepalived", "lb-b", "tmp", "keepalived.json")
    for p in (path, other):
        p.unlink(missing_ok=True)
    pid = running_pid(comp.pid_file)
    assert pid is not None
    os.kill(pid, signal.SIGRTMIN + 2)
    wait_for(lambda: path.exists() and path.stat().st_size > 0, 10, "json dump", step=0.2)
    time.sleep(0.2)
    data = json.loads(path.read_text())
    instance = data[0]["data"]
    assert instance["iname"] == "frontdoor" and instance["vrid"] == 51
    assert instance["state"] == 2  # MASTER
    # lb-a's dump went to lb-a's own /tmp only: a dump in lb-b's is lb-b's own (the exporter asks
    # lb-b for one at each scrape), a BACKUP's
    assert _state_in(other) in (None, 1)


def _state_in(dump: Path) -> int | None:
    """The VRRP state in a keepalived JSON dump (None: no dump), read again while half-written."""
    for _ in range(50):
        try:
            return int(json.loads(dump.read_text())[0]["data"]["state"])
        except FileNotFoundError:
            return None
        except ValueError:
            time.sleep(0.05)
    raise AssertionError(f"{dump}: never a whole JSON dump")


def test_without_privileges_the_error_says_what_to_do(tmp_path: Path) -> None:
    code = "from stack.netops import ip\nip('link', 'add', 'nn20000-tst', 'type', 'dummy')\n"
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert done.returncode != 0
    assert "NetworkError: cannot create the stack's network" in done.stderr
    assert "CAP_NET_ADMIN" in done.stderr and "run `make demo` as root" in done.stderr
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert "nn20000-tst" not in links
