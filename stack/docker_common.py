"""What docker-compose.yml's generators share: the container layout, users, images and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stack.components.nines import Exporter
from stack.layout import Layout

PLACEHOLDER = "from-environment"
# uid:gid each image runs as: our nines image (docker/nines.Dockerfile), the official haproxy
# (user haproxy), postgres (Debian variant) and prom/* (nobody) images; root only where needed.
NINES = "10001:10001"
HAPROXY_GID = "99"
HAPROXY = f"99:{HAPROXY_GID}"
POSTGRES = "999:999"
NOBODY = "65534:65534"
ROOT = "0:0"
SECRET_MODE = 0o400
INIT_IMAGE = "debian:bookworm-slim"
STATE = Path("/var/lib/nines")  # the container layout's state directory

HOST: dict[str, Any] = {"network_mode": "host", "restart": "unless-stopped"}
NINES_IMAGE = {"build": {"context": ".", "dockerfile": "docker/nines.Dockerfile"}}


class ContainerLayout(Layout):
    """A layout whose paths are container paths and whose secrets are placeholders."""

    def secret(self, name: str) -> str:
        return PLACEHOLDER

    def secret_file(self, name: str) -> Path:
        return Path("/run/secrets") / name


def container_layout() -> ContainerLayout:
    """The layout docker-compose.yml describes: offset 0, three etcd members."""
    return ContainerLayout(root=STATE, etcd_members=3)


def ids(user: str) -> tuple[str, str]:
    """`uid:gid` -> (uid, gid)."""
    uid, gid = user.split(":")
    return uid, gid


def secret(name: str, user: str) -> dict[str, Any]:
    """A service's secret, readable by its user alone (Compose's default mode changed over time)."""
    uid, gid = ids(user)
    return {"source": name, "uid": uid, "gid": gid, "mode": SECRET_MODE}


def after(service: dict[str, Any], *started: str) -> dict[str, Any]:
    """`service` started after `init` completed and after each of `started` started."""
    depends: dict[str, Any] = {"init": {"condition": "service_completed_successfully"}}
    depends.update({s: {"condition": "service_started"} for s in started})
    return {**service, "depends_on": {**service.get("depends_on", {}), **depends}}


def required(variable: str) -> str:
    """`${VARIABLE}`, which Compose refuses to run without."""
    return "${" + variable + ":?set " + variable + "}"


def exporter_run(lay: Layout, exporter: Exporter) -> dict[str, Any]:
    """An exporter's command and its config file, mounted from docker/exporters/."""
    config = f"/etc/nines/{exporter.name}.yml"
    return {
        "command": [
            "python",
            "-m",
            exporter.module,
            f"--web.listen-address={lay.addr(exporter.name)}",
            f"--config.file={config}",
        ],
        "volumes": [f"./docker/exporters/{exporter.name}.yml:{config}:ro"],
    }
