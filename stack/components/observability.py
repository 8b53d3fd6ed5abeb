"""Prometheus, Alertmanager and the mail/webhook sinks, configured from the repo's files."""

from __future__ import annotations

import glob
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from stack.components.base import Component, http_ok, tcp_open
from stack.layout import REPO, Layout
from stack.ports import by_default_port
from stack.runbook_links import runbooks_url, write_rules, write_templates

_ADDR = re.compile(r"^(127\.0\.0\.1|localhost):(\d+)$")


def shift_address(addr: str, layout: Layout, wanted: Callable[[str], bool]) -> str | None:
    """Shift `127.0.0.1:<default port>` by the layout's offset and move it to the address its component
    listens on (a namespace's or the bridge's, see `Layout.host`); None when its component is not run."""
    m = _ADDR.match(addr)
    if not m:
        return addr
    name = by_default_port().get(int(m.group(2)))
    if name is None:
        return addr
    if not wanted(name):
        return None
    return layout.addr(name)


def render_prometheus_config(layout: Layout, wanted: Callable[[str], bool]) -> dict[str, Any]:
    """prometheus/prometheus.yml with ports shifted, absent components dropped, our rules and Alertmanager."""
    source = REPO / "prometheus" / "prometheus.yml"
    cfg: dict[str, Any] = yaml.safe_load(source.read_text()) if source.exists() else {}
    cfg.setdefault("global", {"scrape_interval": "15s", "evaluation_interval": "15s"})
    jobs = []
    for job in cfg.get("scrape_configs") or []:
        statics = []
        for group in job.get("static_configs") or []:
            targets = [
                t
                for t in (shift_address(a, layout, wanted) for a in group.get("targets", []))
                if t is not None
            ]
            if targets:
                statics.append({**group, "targets": targets})
        if statics or not job.get("static_configs"):
            jobs.append({**job, "static_configs": statics} if job.get("static_configs") else job)
    cfg["scrape_configs"] = jobs
    cfg["rule_files"] = [str(REPO / "rules" / "*.yml")]
    cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [layout.addr("alertmanager")]}]}]}
    return cfg


def render_alertmanager_config(layout: Layout) -> str:
    """alertmanager/alertmanager.yml with the sinks' ports shifted and template paths made absolute."""
    source = REPO / "alertmanager" / "alertmanager.yml"
    if not source.exists():
        cfg: dict[str, Any] = {
            "global": {
                "smtp_smarthost": "127.0.0.1:2525",
                "smtp_from": "alerts@nines.local",
                "smtp_require_tls": False,
            },
            "route": {"receiver": "email"},
            "receivers": [{"name": "email", "email_configs": [{"to": "oncall@nines.local"}]}],
        }
    else:
        cfg = yaml.safe_load(source.read_text())
    cfg["templates"] = [
        t if t.startswith("/") else str(source.parent / t) for t in cfg.get("templates") or []
    ]
    text = yaml.safe_dump(cfg, sort_keys=False)
    for name in ("smtp", "webhook"):
        text = text.replace(f"127.0.0.1:{by_default_port_of(name)}", layout.addr(name))
    return text


def by_default_port_of(name: str) -> int:
    """Default port of `name` (before the offset)."""
    return {n: p for p, n in by_default_port().items()}[name]


class Prometheus(Component):
    """Prometheus with the repo's scrape config and every rules/*.yml."""

    kind = "prometheus"
    name = "prometheus"

    def __init__(self, layout: Layout, wanted: Callable[[str], bool]) -> None:
        super().__init__(layout)
        self.wanted = wanted

    def prepare(self) -> None:
        home = self.layout.path("prometheus")
        (home / "data").mkdir(parents=True, exist_ok=True)
        cfg = render_prometheus_config(self.layout, self.wanted)
        rules = sorted((REPO / "rules").glob("*.yml"))
        cfg["rule_files"] = write_rules(rules, home / "rules", runbooks_url(self.layout))
        (home / "prometheus.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    def refresh(self) -> None:
        """Rewrite the config (services may have appeared since it started) and reload it."""
        self.prepare()
        url = f"http://{self.layout.addr('prometheus')}/-/reload"
        for _ in range(20):  # a Prometheus still starting answers once it has loaded its config
            try:
                httpx.post(url, timeout=10).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.5)
        print(f"note: Prometheus did not reload {url}; restart it to apply the new config", file=sys.stderr)

    def argv(self) -> Sequence[str]:
        home = self.layout.path("prometheus")
        return [
            "prometheus",
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address={self.layout.addr('prometheus')}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=90d",
            "--log.level=warn",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr('prometheus')}/-/ready")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr('prometheus')}/alerts"]


class Alertmanager(Component):
    """Alertmanager with the repo's routing and templates (no clustering)."""

    kind = "alertmanager"
    name = "alertmanager"

    def prepare(self) -> None:
        home = self.layout.path("alertmanager")
        (home / "data").mkdir(parents=True, exist_ok=True)
        cfg = yaml.safe_load(render_alertmanager_config(self.layout))
        sources = [Path(match) for pattern in cfg["templates"] for match in sorted(glob.glob(pattern))]
        cfg["templates"] = write_templates(sources, home / "templates", runbooks_url(self.layout))
        (home / "alertmanager.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    def argv(self) -> Sequence[str]:
        home = self.layout.path("alertmanager")
        return [
            "prometheus-alertmanager",
            f"--config.file={home / 'alertmanager.yml'}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address={self.layout.addr('alertmanager')}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr('alertmanager')}/-/ready")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr('alertmanager')}/"]


class Sink(Component):
    """The SMTP sink (aiosmtpd) and the webhook sink, in one process."""

    kind = "sink"
    name = "sink"

    @property
    def address(self) -> str:
        return f"smtp {self.layout.addr('smtp')} webhook {self.layout.addr('webhook')}"

    def argv(self) -> Sequence[str]:
        lay = self.layout
        return [
            lay.python,
            "-m",
            "stack.sink",
            "--dir",
            str(lay.path("sink")),
            "--smtp",
            lay.addr("smtp"),
            "--webhook",
            lay.addr("webhook"),
        ]

    def ready(self) -> bool:
        lay = self.layout
        return tcp_open("127.0.0.1", lay.port("smtp")) and http_ok(f"http://{lay.addr('webhook')}/")
