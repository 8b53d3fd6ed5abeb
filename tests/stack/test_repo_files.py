"""Files generated from the stack's code stay in sync: docker-compose.yml, docker/, README's port table."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from stack.layout import REPO
from stack.ports import PORTS, markdown_table

ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)")

# docker-compose runs the stack with host networking: it has no namespaces for the VIP pairs yet.
DOCKER_PRE_VIP = pytest.mark.xfail(
    strict=True,
    reason="docker-compose.yml and docker/ still hold the pre-VIP topology (per-node HAProxy "
    "ports, one PgBouncer); stack/docker.py must be brought to the VIP topology and rerun",
)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


@DOCKER_PRE_VIP
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


@DOCKER_PRE_VIP
def test_compose_ports_agree_with_the_port_table() -> None:
    services = _compose()["services"]
    text = yaml.safe_dump(services)
    used = {int(p) for p in ADDRESS.findall(text)}
    known = set(PORTS.values()) | {p + 1 for n, p in PORTS.items() if n.startswith("etcd-")}
    assert used, "no 127.0.0.1 address in docker-compose.yml"
    assert sorted(used - known) == []
    for name in ("etcd-1", "etcd-2", "etcd-3", "prometheus", "alertmanager"):
        assert f"127.0.0.1:{PORTS[name]}" in yaml.safe_dump(services[name])
    assert services["sloapi"]["command"][-2:] == ["--port", str(PORTS["sloapi"])]
    for name in ("haproxy-a", "haproxy-b"):
        cfg = (REPO / "docker" / "haproxy" / f"{name}.cfg").read_text()
        for listener in ("https", "http", "api", "admin", "stats", "promex", "pg-primary"):
            assert f"127.0.0.1:{PORTS[f'{name}.{listener}']}" in cfg, (name, listener)
    for svc in services.values():
        assert svc.get("network_mode", "host") == "host"


def test_readme_port_table_matches_stack_ports() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- ports:begin -->\n", 1)[1].split("\n<!-- ports:end -->", 1)[0]
    assert block == markdown_table()
