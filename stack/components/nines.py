"""Our own services in the stack: the three exporters and the SLO service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from stack.components.base import Component, http_ok
from stack.components.haproxy import INSTANCES
from stack.components.patroni import NODES, rest_name
from stack.components.pgbouncer import STATS_USER
from stack.components.victoria import query_url
from stack.layout import REPO

CLUSTER = "demo"


class Exporter(Component):
    """One of our exporters, given a generated `--config.file` naming the stack's targets."""

    kind = "exporter"
    module = ""
    script = ""

    def targets(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    @property
    def config_file(self) -> Any:
        return self.layout.path("exporters", f"{self.name}.yml")

    def prepare(self) -> None:
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump({"targets": self.targets()}, sort_keys=False))

    def argv(self) -> Sequence[str]:
        return [
            self.layout.python,
            "-m",
            self.module,
            f"--web.listen-address={self.layout.addr(self.name)}",
            f"--config.file={self.config_file}",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/-/healthy")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr(self.name)}/metrics"]


class HAProxyExporter(Exporter):
    name = "haproxy-exporter"
    module = "exporters.haproxy"

    def targets(self) -> list[dict[str, Any]]:
        return [
            {
                "name": h,
                "address": f"unix:{self.layout.path('run', h + '.sock')}",
                "labels": {"cluster": CLUSTER},
            }
            for h in INSTANCES
        ]


class PgBouncerExporter(Exporter):
    name = "pgbouncer-exporter"
    module = "exporters.pgbouncer"

    def targets(self) -> list[dict[str, Any]]:
        lay = self.layout
        lay.secret("pgbouncer_stats")
        return [
            {
                "name": "pgbouncer",
                "address": f"postgresql://{STATS_USER}@127.0.0.1:{lay.port('pgbouncer')}/pgbouncer",
                "password_file": str(lay.secret_file("pgbouncer_stats")),
                "labels": {"cluster": CLUSTER},
            }
        ]


class PatroniExporter(Exporter):
    name = "patroni-exporter"
    module = "exporters.patroni"

    def targets(self) -> list[dict[str, Any]]:
        lay = self.layout
        lay.secret("monitor")
        return [
            {
                "name": n,
                "address": f"http://{lay.addr(rest_name(n))}",
                "monitoring_dsn": "postgresql://nines_monitor@127.0.0.1/postgres",
                "password_file": str(lay.secret_file("monitor")),
                "labels": {"cluster": CLUSTER},
            }
            for n in NODES
        ]


class SloApi(Component):
    """The SLO service (`sloapi serve`)."""

    kind = "sloapi"
    name = "sloapi"

    def argv(self) -> Sequence[str]:
        host, port = self.layout.addr("sloapi").rsplit(":", 1)
        return [
            self.layout.python,
            "-m",
            "sloapi",
            "serve",
            "--slos",
            str(REPO / "slos"),
            "--host",
            host,
            "--port",
            port,
        ]

    def env(self) -> dict[str, str]:
        lay = self.layout
        env = super().env()
        lay.path("sloapi").mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "SLOAPI_PROMETHEUS_URL": query_url(lay),
                "SLOAPI_DATABASE_URL": f"sqlite:///{lay.path('sloapi', 'sloapi.db')}",
                "SLOAPI_SMTP_HOST": "127.0.0.1",
                "SLOAPI_SMTP_PORT": str(lay.port("smtp")),
                "SLOAPI_SMTP_SECURITY": "none",
                "SLOAPI_MAIL_FROM": "reports@nines.local",
                "SLOAPI_REPORT_RECIPIENTS": "customers@nines.local",
                "SLOAPI_API_TOKEN_FILE": str(lay.secret_file("sloapi_token")),
            }
        )
        lay.secret("sloapi_token")
        return env

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr('sloapi')}/healthz")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr('sloapi')}/docs"]


NINES_SERVICES: tuple[type[Exporter] | type[SloApi], ...] = (
    HAProxyExporter,
    PgBouncerExporter,
    PatroniExporter,
    SloApi,
)
