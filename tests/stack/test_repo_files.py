"""Files generated from the stack's code stay in sync: docker-compose.yml, docker/, README's port table."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from typing import Any

import yaml

from stack.layout import REPO, Layout
from stack.network import PAIRS, Plan
from stack.ports import PORTS, markdown_table

ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def test_docker_files_are_generated_from_the_stack_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stack.docker", "--check"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr


def test_every_mounted_path_and_build_file_exists() -> None:
    services = _compose()["services"]
    checked = 0
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: mounts missing {source}"
                checked += 1
        build = svc.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).exists(), f"{name}: no Dockerfile"
    assert checked >= 10


def test_compose_ports_agree_with_the_port_table() -> None:
    compose = _compose()
    services = compose["services"]
    plan, lay = Plan(0), Layout(root=REPO / ".unused")
    text = yaml.safe_dump(services)
    used = {int(p) for p in ADDRESS.findall(text)}
    known = set(PORTS.values()) | {p + 1 for n, p in PORTS.items() if n.startswith("etcd-")}
    assert used, "no 127.0.0.1 address in docker-compose.yml"
    assert sorted(used - known) == []
    for name in ("etcd-1", "etcd-2", "etcd-3", "prometheus", "alertmanager", "keepalived-exporter"):
        assert lay.addr(name) in yaml.safe_dump(services[name]), name
    assert services["sloapi"]["command"][-2:] == ["--port", str(PORTS["sloapi"])]
    for app in ("app-1", "app-2", "app-3"):
        assert services[app]["command"][-2:] == ["--listen", f"{plan.bridge_ip}:{PORTS[app]}"]
    for name in ("haproxy-a", "haproxy-b"):
        cfg = (REPO / "docker" / "haproxy" / f"{name}.cfg").read_text()
        own = plan.node_ip("lb-" + name[-1])
        for listener in ("https", "http", "api", "admin", "pg-primary", "pg-replicas"):
            for host in (plan.vip("frontdoor"), own):
                assert f"bind {host}:{PORTS[f'haproxy.{listener}']}" in cfg, (name, listener, host)
        for listener in ("stats", "promex"):
            assert f"{own}:{PORTS[f'{name}.{listener}']}" in cfg, (name, listener)
    for name in ("pgbouncer-a", "pgbouncer-b"):
        ini = (REPO / "docker" / "pgbouncer" / f"{name}.ini").read_text()
        own = plan.node_ip("pgb-" + name[-1])
        assert f"listen_addr = {plan.vip('pgbouncer')},{own}\nlisten_port = {PORTS['pgbouncer']}\n" in ini


def test_compose_network_is_the_stacks_plan() -> None:
    """The bridge, node addresses and VIPs of docker-compose.yml are the local stack's at offset 0,
    and every service is on the host's network or in a VRRP node's namespace."""
    compose = _compose()
    services, plan = compose["services"], Plan(0)
    (ipam,) = compose["networks"]["vrrp"]["ipam"]["config"]
    assert (ipam["subnet"], ipam["gateway"]) == (str(plan.subnet), plan.bridge_ip)
    dynamic = ipaddress.ip_network(ipam["ip_range"])
    fixed = [plan.node_ip(n) for n in plan.nodes] + [plan.vip(p.instance) for p in PAIRS]
    assert [a for a in fixed if ipaddress.ip_address(a) in dynamic] == []
    for node in plan.nodes:
        assert services[node]["networks"] == {"vrrp": {"ipv4_address": plan.node_ip(node)}}
        assert services[node]["sysctls"] == {"net.ipv4.ip_nonlocal_bind": 1}
    members = {
        "lb-a": {"keepalived-lb-a", "haproxy-a"},
        "lb-b": {"keepalived-lb-b", "haproxy-b"},
        "pgb-a": {"keepalived-pgb-a", "pgbouncer-a"},
        "pgb-b": {"keepalived-pgb-b", "pgbouncer-b"},
    }
    for node, names in members.items():
        joined = {n for n, s in services.items() if s.get("network_mode") == f"service:{node}"}
        assert joined == names, node
    # init alone is on Compose's default network (it fetches openssl once); nothing else is exposed
    modes = {
        name: svc.get("network_mode", "networks" if "networks" in svc else "default")
        for name, svc in services.items()
    }
    allowed = {"host", "none", *(f"service:{n}" for n in plan.nodes)}
    assert {n: m for n, m in modes.items() if m not in allowed} == {
        "init": "default",
        **dict.fromkeys(plan.nodes, "networks"),
    }


def test_readme_port_table_matches_stack_ports() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- ports:begin -->\n", 1)[1].split("\n<!-- ports:end -->", 1)[0]
    assert block == markdown_table()
