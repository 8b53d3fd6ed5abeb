"""Our own services in the stack: the four exporters and the SLO service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from stack.components.base import Component, http_ok
from stack.components.haproxy import INSTANCES
from stack.components.keepalived import exporter_targets as keepalived_targets
from stack.components.patroni import NODES, rest_name
from stack.components.pgbouncer import INSTANCES as PGBOUNCERS
from stack.components.pgbouncer import SLOAPI_USER, STATS_USER, PgBouncer
from stack.components.victoria import query_url
from stack.layout import REPO, Layout
from stack.runbook_links import runbooks_url

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
        # Each node on its own address: the VIP would show only whichever node holds it.
        port = lay.port("pgbouncer")
        return [
            {
                "name": name,
                "address": f"postgresql://{STATS_USER}@{PgBouncer(lay, name).own_ip}:{port}/pgbouncer",
                "password_file": str(lay.secret_file("pgbouncer_stats")),
                "labels": {"cluster": CLUSTER},
            }
            for name in PGBOUNCERS
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
                "monitoring_hosts": [lay.addr(m) for m in NODES],
                "password_file": str(lay.secret_file("monitor")),
                "labels": {"cluster": CLUSTER},
            }
            for n in NODES
        ]


class KeepalivedExporter(Exporter):
    """Watches the four keepalived nodes through their pid files and private dump folders."""

    name = "keepalived-exporter"
    module = "exporters.keepalived"

    def targets(self) -> list[dict[str, Any]]:
        return [{**t, "labels": {"cluster": CLUSTER}} for t in keepalived_targets(self.layout)]


SLOAPI_NAMES = ("sloapi", "sloapi-2")
"""Component names of the SLO service's instances; instance n calls itself `sloapi-<n>`."""
SLOAPI_DATABASE = SLOAPI_USER  # database and role on the Patroni cluster (several instances)
SCHEDULER_LEASE_SECONDS = 10  # short, so drills see a takeover within seconds (default 30)
CLAIM_LEASE_SECONDS = 30  # the minimum worth having with the SMTP timeout (default 300)
RETRY_SECONDS = 10  # how often the scheduler's holder looks for copies to retry (default 300)


REPORT_RECIPIENTS = ("customers@nines.local", "finance@nines.local", "oncall-leads@nines.local")


def instance_name(component: str) -> str:
    """The name an instance uses in the scheduler lease and delivery claims: `sloapi` -> `sloapi-1`,
    `sloapi-2` -> `sloapi-2`."""
    return f"sloapi-{SLOAPI_NAMES.index(component) + 1}"


def sloapi_database_url(lay: Layout) -> str:
    """sloapi's store: the embedded SQLite for one instance, else PostgreSQL through the PgBouncer
    VIP (transaction pooling; sloapi turns prepared statements off for it)."""
    if lay.sloapi_instances < 2:
        return f"sqlite:///{lay.path('sloapi', 'sloapi.db')}"
    secret = lay.secret(SLOAPI_DATABASE)
    return f"postgresql://{SLOAPI_DATABASE}:{secret}@{lay.addr('pgbouncer')}/{SLOAPI_DATABASE}"


class SloApi(Component):
    """One instance of the SLO service (`sloapi serve`); all of them share one store, token file,
    SMTP sink, recipients and cron."""

    kind = "sloapi"

    def __init__(self, layout: Layout, name: str = SLOAPI_NAMES[0]) -> None:
        super().__init__(layout)
        self.name = name

    def argv(self) -> Sequence[str]:
        host, port = self.layout.addr(self.name).rsplit(":", 1)
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
        lay.secret("sloapi_token")
        env.update(
            {
                "SLOAPI_PROMETHEUS_URL": query_url(lay),
                "SLOAPI_DATABASE_URL": sloapi_database_url(lay),
                "SLOAPI_INSTANCE_NAME": instance_name(self.name),
                "SLOAPI_SMTP_HOST": "127.0.0.1",
                "SLOAPI_SMTP_PORT": str(lay.port("smtp")),
                "SLOAPI_SMTP_SECURITY": "none",
                "SLOAPI_MAIL_FROM": "reports@nines.local",
                "SLOAPI_REPORT_RECIPIENTS": ",".join(REPORT_RECIPIENTS),
                "SLOAPI_API_TOKEN_FILE": str(lay.secret_file("sloapi_token")),
                "SLOAPI_ALERTMANAGER_URL": f"http://{lay.addr('alertmanager')}",
                "SLOAPI_RUNBOOK_BASE_URL": runbooks_url(lay),
            }
        )
        if lay.sloapi_instances > 1:
            env.update(
                {
                    "SLOAPI_REPORT_SCHEDULER_LEASE_SECONDS": str(SCHEDULER_LEASE_SECONDS),
                    "SLOAPI_REPORT_CLAIM_LEASE_SECONDS": str(CLAIM_LEASE_SECONDS),
                    "SLOAPI_REPORT_RETRY_SECONDS": str(RETRY_SECONDS),
                }
            )
        return env

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/healthz")

    def urls(self) -> list[str]:
        base = f"http://{self.layout.addr(self.name)}"
        return [f"{base}/", f"{base}/docs"]


def sloapi_components(layout: Layout) -> list[SloApi]:
    """The SLO service's instances (`--sloapi-instances`)."""
    return [SloApi(layout, n) for n in SLOAPI_NAMES[: layout.sloapi_instances]]


EXPORTERS: tuple[type[Exporter], ...] = (
    HAProxyExporter,
    PgBouncerExporter,
    PatroniExporter,
    KeepalivedExporter,
)


def nines_services(layout: Layout) -> list[Component]:
    """Our exporters, then the SLO service's instances."""
    return [*(cls(layout) for cls in EXPORTERS), *sloapi_components(layout)]
