"""`python -m stack up | status | down` as a user runs them: idempotent, loud on failure, no leftovers
(no process, namespace, veth or bridge), even after a crashed run."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stack import netops
from stack.components.patroni import NODES, Patroni
from stack.layout import REPO, default_layout
from stack.network import Plan
from stack.process import pid_alive
from stack.runner import Stack

pytestmark = pytest.mark.stack

OFFSET = 15000  # apart from the session stack (20000) and a demo (0)


def _cli(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack", "--dir", str(root), "--port-offset", str(OFFSET), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


def _all_pids(root: Path) -> list[int]:
    s = Stack(default_layout(root, OFFSET, 1), with_services=False)
    pids = [r.pid for r in s.status() if r.pid]
    for node in NODES:
        comp = s.component(node)
        assert isinstance(comp, Patroni)
        if (pm := comp.postmaster_pid()) is not None:
            pids.append(pm)
    return pids


def test_up_down_up_again_and_a_failing_component_is_named(tmp_path: Path) -> None:
    # Not under /tmp: each keepalived's private /tmp would hide its configuration there.
    refused = _cli(tmp_path / "stack", "up", "--etcd-members", "1", "--no-services")
    assert refused.returncode == 1 and "is under /tmp" in refused.stderr
    root = REPO / ".stack-lifecycle"
    _cli(root, "down", "--purge")
    try:
        first = _cli(root, "up", "--etcd-members", "1", "--no-services")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "phase 4/4 ready" in first.stdout

        status = _cli(root, "status")
        assert status.returncode == 0, status.stdout
        lines = status.stdout.strip().splitlines()
        assert len(lines) == 20 and all(" up " in ln for ln in lines), status.stdout
        assert "198.18.15.10 on lb-a" in status.stdout and "198.18.15.20 on pgb-a" in status.stdout

        again = _cli(root, "up", "--etcd-members", "1", "--no-services")  # idempotent
        assert again.returncode == 0, again.stderr
        assert _all_pids(root) and len(set(_all_pids(root))) == 21

        pids = _all_pids(root)
        down = _cli(root, "down")
        assert down.returncode == 0, down.stderr
        assert [p for p in pids if pid_alive(p)] == []
        assert _cli(root, "status").returncode == 3
        assert _leftovers() == ([], [])

        # A crashed run's leftovers: half a network and a process in a namespace, no record.
        plan = Plan(OFFSET)
        netops.ip("netns", "add", plan.netns("lb-a"))
        netops.ip("link", "add", plan.bridge, "type", "bridge")
        stray = subprocess.Popen(["ip", "netns", "exec", plan.netns("lb-a"), "sleep", "600"])

        # Prometheus cannot bind: `up` exits non-zero naming it and quoting its log.
        with socket.socket() as blocker:
            blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            blocker.bind(("127.0.0.1", 9090 + OFFSET))
            blocker.listen()
            failed = _cli(root, "up", "--no-services")
        assert failed.returncode == 1
        assert "prometheus exited during start" in failed.stderr
        assert "address already in use" in failed.stderr

        stray.wait(timeout=30)  # `up` removed the partial network and what ran in it
        second = _cli(root, "up", "--no-services")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "vip frontdoor: 198.18.15.10 on lb-a" in second.stdout
    finally:
        _cli(root, "down")
    assert [p for p in _all_pids(root) if pid_alive(p)] == []
    assert _leftovers() == ([], [])
    _cli(root, "down", "--purge")
    assert not root.exists()


def _leftovers() -> tuple[list[str], list[str]]:
    plan = Plan(OFFSET)
    return netops.namespaces(plan), netops.links(plan)
