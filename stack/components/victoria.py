"""The time series database of the stack: Prometheus (default) or VictoriaMetrics single-node.

With `--tsdb victoriametrics` three processes of Debian's `victoria-metrics` package replace
Prometheus: vmagent scrapes the repo's scrape config (`prometheus/prometheus.yml`, rendered as for
Prometheus) and writes to victoria-metrics, which stores and answers the Prometheus query API;
vmalert evaluates every `rules/*.yml` against it, writes recording rules and alert state back to
it and sends alerts to the stack's Alertmanager. docs/scale.md says why vmagent and not a
Prometheus remote-writing. victoria-metrics scrapes vmagent itself: a dead scraper cannot report
its own death, and `up{job="vmagent"} == 0` is what `rules/victoriametrics.rules.yml` alerts on.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import yaml

from stack import process
from stack.components.base import Component, http_ok
from stack.components.observability import Prometheus, render_prometheus_config
from stack.layout import REPO, Layout

PROMETHEUS = "prometheus"
VICTORIAMETRICS = "victoriametrics"
TSDB_CHOICES = (PROMETHEUS, VICTORIAMETRICS)

#: Components (and port-table names) each choice runs.
TSDB_COMPONENTS: dict[str, tuple[str, ...]] = {
    PROMETHEUS: ("prometheus",),
    VICTORIAMETRICS: ("victoria-metrics", "vmagent", "vmalert"),
}

#: Prometheus's retention in the stack, kept the same for VictoriaMetrics.
RETENTION = "90d"


class TsdbChoiceError(ValueError):
    """An unknown `--tsdb` / `NINES_TSDB` value, or a switch while the other database runs."""


def check_tsdb(name: str) -> str:
    """`name` when it is a known choice.

    Raises:
        TsdbChoiceError: naming the accepted values.
    """
    if name not in TSDB_CHOICES:
        raise TsdbChoiceError(f"unknown tsdb {name!r}: choose one of {', '.join(TSDB_CHOICES)}")
    return name


def query_url(layout: Layout) -> str:
    """Base URL of the Prometheus query API of the stack's database (what sloapi and tests ask)."""
    if layout.tsdb == VICTORIAMETRICS:
        return f"http://{layout.addr('victoria-metrics')}"
    return f"http://{layout.addr('prometheus')}"


def tsdb_components(layout: Layout, wanted: Callable[[str], bool]) -> list[Component]:
    """The components of `layout.tsdb`, in start order; `wanted(port name)` filters scrape targets."""
    if check_tsdb(layout.tsdb) == VICTORIAMETRICS:
        return [VictoriaMetrics(layout), VMAgent(layout, wanted), VMAlert(layout)]
    return [Prometheus(layout, wanted)]


#: The VictoriaMetrics component victoria-metrics scrapes itself (vmagent scrapes the others).
WATCHED_BY_STORAGE = "vmagent"


def _job(name: str, target: str) -> dict[str, Any]:
    """A scrape job of one VictoriaMetrics component at `target`."""
    labels = {"cluster": "demo", "component": name}
    return {"job_name": name, "static_configs": [{"targets": [target], "labels": labels}]}


def render_scrape_config(layout: Layout, wanted: Callable[[str], bool]) -> dict[str, Any]:
    """The stack's scrape config for vmagent: Prometheus's jobs, plus victoria-metrics and vmalert.

    Rules and alerting are vmalert's, so those sections are left out; vmagent itself is scraped
    by victoria-metrics (`render_watch_config`).
    """
    cfg = render_prometheus_config(layout, wanted)
    for key in ("rule_files", "alerting"):
        cfg.pop(key, None)
    global_ = cfg.get("global") or {}
    cfg["global"] = {k: v for k, v in global_.items() if k != "evaluation_interval"}
    for job in TSDB_COMPONENTS[VICTORIAMETRICS]:
        if job != WATCHED_BY_STORAGE:
            cfg["scrape_configs"].append(_job(job, layout.addr(job)))
    return cfg


def render_watch_config(vmagent: str, interval: str | None = None) -> dict[str, Any]:
    """victoria-metrics's own scrape config: the job `vmagent` at address `vmagent`.

    Every `interval` (default: the scrape interval of prometheus/prometheus.yml); when vmagent
    dies, victoria-metrics records `up{job="vmagent"} 0` and vmalert can alert on it.
    """
    every = interval or str(_prometheus_global().get("scrape_interval", "15s"))
    return {"global": {"scrape_interval": every}, "scrape_configs": [_job(WATCHED_BY_STORAGE, vmagent)]}


def _prometheus_global() -> dict[str, Any]:
    """The `global` section of prometheus/prometheus.yml (empty without the file)."""
    source = REPO / "prometheus" / "prometheus.yml"
    cfg = yaml.safe_load(source.read_text()) if source.exists() else {}
    return dict((cfg or {}).get("global") or {})


def evaluation_interval() -> str:
    """The rules' evaluation interval of prometheus/prometheus.yml (vmalert uses the same)."""
    return str(_prometheus_global().get("evaluation_interval", "15s"))


class VictoriaMetrics(Component):
    """victoria-metrics single-node: storage and the Prometheus query API."""

    kind = "tsdb"
    name = "victoria-metrics"

    def prepare(self) -> None:
        self.layout.path("victoria-metrics", "data").mkdir(parents=True, exist_ok=True)
        cfg = render_watch_config(self.layout.addr(WATCHED_BY_STORAGE))
        self.layout.path("victoria-metrics", "scrape.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    def argv(self) -> Sequence[str]:
        return [
            "victoria-metrics",
            f"-httpListenAddr={self.layout.addr(self.name)}",
            f"-storageDataPath={self.layout.path('victoria-metrics', 'data')}",
            f"-retentionPeriod={RETENTION}",
            f"-promscrape.config={self.layout.path('victoria-metrics', 'scrape.yml')}",
            # Without the response cache, range queries keep the grid they ask for: with it,
            # start and end snap to multiples of the step and the last 30 s are hidden, and
            # sloapi's steps (ending at a request's time) would find no point (docs/scale.md).
            "-search.disableCache",
            "-loggerLevel=WARN",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/health")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr(self.name)}/vmui/"]


class VMAgent(Component):
    """vmagent scraping the stack's targets and writing to victoria-metrics."""

    kind = "scraper"
    name = "vmagent"

    def __init__(self, layout: Layout, wanted: Callable[[str], bool]) -> None:
        super().__init__(layout)
        self.wanted = wanted

    @property
    def home(self) -> Any:
        return self.layout.path("vmagent")

    def prepare(self) -> None:
        (self.home / "queue").mkdir(parents=True, exist_ok=True)
        cfg = render_scrape_config(self.layout, self.wanted)
        (self.home / "scrape.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    def refresh(self) -> None:
        """Rewrite the scrape config (services may have appeared since it started) and reload it."""
        self.prepare()
        url = f"http://{self.layout.addr(self.name)}/-/reload"
        for _ in range(20):
            try:
                httpx.get(url, timeout=10).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.5)
        print(f"note: vmagent did not reload {url}; restart it to apply the new config", file=sys.stderr)

    def argv(self) -> Sequence[str]:
        return [
            "vmagent",
            f"-httpListenAddr={self.layout.addr(self.name)}",
            f"-promscrape.config={self.home / 'scrape.yml'}",
            f"-remoteWrite.url=http://{self.layout.addr('victoria-metrics')}/api/v1/write",
            f"-remoteWrite.tmpDataPath={self.home / 'queue'}",
            "-loggerLevel=WARN",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/health")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr(self.name)}/targets"]


class VMAlert(Component):
    """vmalert evaluating every rules/*.yml on victoria-metrics, alerting the stack's Alertmanager."""

    kind = "rules"
    name = "vmalert"

    def argv(self) -> Sequence[str]:
        lay = self.layout
        vm = f"http://{lay.addr('victoria-metrics')}"
        return [
            "vmalert",
            f"-httpListenAddr={lay.addr(self.name)}",
            f"-rule={REPO / 'rules' / '*.yml'}",
            f"-datasource.url={vm}",
            f"-remoteWrite.url={vm}",
            f"-remoteRead.url={vm}",
            f"-notifier.url=http://{lay.addr('alertmanager')}",
            f"-evaluationInterval={evaluation_interval()}",
            f"-external.url=http://{lay.addr(self.name)}",
            "-loggerLevel=WARN",
        ]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/-/healthy")

    def urls(self) -> list[str]:
        return [f"http://{self.layout.addr(self.name)}/vmalert/alerts"]


def choose_tsdb(layout: Layout, recorded: str | None, flag: str | None, starting: bool) -> str:
    """The database of a stack command: the running one, else `--tsdb`, `NINES_TSDB`, the last `up`'s.

    `layout.tsdb` holds `NINES_TSDB` or the default. Commands other than `up` use what the state
    directory recorded. `up` may switch only while the recorded database does not run.

    Raises:
        TsdbChoiceError: an unknown name, or a switch while the other database runs.
    """
    env = os.environ.get("NINES_TSDB")
    if not starting:
        return check_tsdb(recorded or layout.tsdb)
    wanted = check_tsdb(flag or env or recorded or layout.tsdb)
    if recorded and recorded != wanted:
        running = [n for n in TSDB_COMPONENTS.get(recorded, ()) if process.running_pid(layout.pidfile(n))]
        if running:
            raise TsdbChoiceError(
                f"this stack runs {recorded} ({', '.join(running)}); run `python -m stack down` "
                f"before switching to {wanted}"
            )
    return wanted
