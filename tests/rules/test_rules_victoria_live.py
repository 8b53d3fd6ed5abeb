"""Live: throwaway victoria-metrics, vmagent and vmalert wired as the stack wires them; stopping
vmagent makes `VictoriametricsComponentDown` active in vmalert.

victoria-metrics scrapes vmagent with the stack's own config (`render_watch_config`, every
second here), vmagent scrapes victoria-metrics and vmalert, and vmalert evaluates every
`rules/*.yml` every second: every rule of `rules/victoriametrics.rules.yml` evaluates without error
on victoria-metrics 1.79, and every name it selects exists. The alert's `for: 1m` would make waiting for it
to fire a minute-long test: vmalert's API showing both tiers pending, for vmagent only, seconds
after the kill, with the rules' 1 and 5 minute holds, is the proof (the promtool tests prove the
holds). victoria-metrics runs with `-search.latencyOffset=1s` here: with its default (30 s, the
stack's) every query, vmalert's included, sees the data of 30 seconds ago (docs/scale.md).
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from stack.components.victoria import render_watch_config
from stack.throwaway import Server, free_port, start_server, stop, wait_for
from stack.vmhistory import start_victoria

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules" / "victoriametrics.rules.yml"
GROUP = "victoriametrics.alerts"
ALERT = "VictoriametricsComponentDown"


@dataclass
class VictoriaStack:
    """The throwaway victoria-metrics and vmagent, and vmalert's URL."""

    storage: Server
    vmagent: Server
    vmalert: str


def _start_vmagent(base: Path, port: int, targets: dict[str, str]) -> Server:
    """vmagent on `port` (the one victoria-metrics was told to scrape) scraping `targets` (job ->
    URL) every second and writing to the first one, victoria-metrics."""
    storage = targets["victoria-metrics"]
    scrape = base / "vmagent-scrape.yml"
    jobs = [
        {"job_name": job, "static_configs": [{"targets": [url.removeprefix("http://")]}]}
        for job, url in targets.items()
    ]
    scrape.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs}))
    argv = ["vmagent", f"-httpListenAddr=127.0.0.1:{port}", f"-promscrape.config={scrape}",
            f"-remoteWrite.url={storage}/api/v1/write", f"-remoteWrite.tmpDataPath={base / 'queue'}",
            "-loggerLevel=WARN"]  # fmt: skip
    proc = start_server(argv, base / "vmagent.log", f"http://127.0.0.1:{port}/health", 60)
    return Server(url=f"http://127.0.0.1:{port}", port=port, data_dir=base / "queue", process=proc)


def _start_vmalert(base: Path, storage: str, port: int) -> Server:
    """vmalert on `port` evaluating every rules/*.yml, as the stack's, every second."""
    argv = ["vmalert", f"-httpListenAddr=127.0.0.1:{port}", f"-rule={REPO / 'rules' / '*.yml'}",
            f"-datasource.url={storage}", f"-remoteWrite.url={storage}",
            # nothing listens there: pending alerts are not sent, and this test sends nothing
            f"-notifier.url=http://127.0.0.1:{free_port()}", "-evaluationInterval=1s",
            "-loggerLevel=WARN"]  # fmt: skip
    proc = start_server(argv, base / "vmalert.log", f"http://127.0.0.1:{port}/-/healthy", 60)
    return Server(url=f"http://127.0.0.1:{port}", port=port, data_dir=base, process=proc)


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaStack]:
    """victoria-metrics scraping a vmagent, vmalert evaluating the VictoriaMetrics rules."""
    agent_port = free_port()
    watch = tmp_path / "watch.yml"
    watch.write_text(yaml.safe_dump(render_watch_config(f"127.0.0.1:{agent_port}", interval="1s")))
    flags = [f"-promscrape.config={watch}", "-search.latencyOffset=1s"]
    storage = start_victoria(tmp_path / "data", tmp_path / "victoria-metrics.log", flags)
    started: list[Server] = [storage]
    try:
        alert_port = free_port()
        targets = {"victoria-metrics": storage.url, "vmalert": f"http://127.0.0.1:{alert_port}"}
        agent = _start_vmagent(tmp_path, agent_port, targets)
        started.append(agent)
        alerting = _start_vmalert(tmp_path, storage.url, alert_port)
        started.append(alerting)
        yield VictoriaStack(storage=storage, vmagent=agent, vmalert=alerting.url)
    finally:
        for server in reversed(started):
            server.stop()


def _names_of_the_rules() -> set[str]:
    """Metric names `rules/victoriametrics.rules.yml` selects (tests/dashboards/promql_names.py)."""
    spec = importlib.util.spec_from_file_location(
        "promql_names", REPO / "tests" / "dashboards" / "promql_names.py"
    )
    assert spec is not None and spec.loader is not None
    names = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(names)
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {n for g in groups for r in g["rules"] for n in names.metric_names(r["expr"])}


def test_every_name_of_the_rules_is_emitted_by_the_components(victoria: VictoriaStack) -> None:
    """The names exist in Debian's victoria-metrics 1.79, vmagent and vmalert (scraped as in the
    stack), so no alert is silent for a misspelt name."""
    wanted = _names_of_the_rules()
    assert len(wanted) >= 14

    def missing() -> set[str]:
        body = httpx.get(f"{victoria.storage.url}/api/v1/label/__name__/values", timeout=10).json()
        return wanted - set(body["data"])

    # every component scraped at least once, and a few more rounds; then nothing may be missing
    wait_for(lambda: not _jobs_missing(victoria.storage.url), 30, "three jobs scraped", step=0.5)
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: not missing(), 15, "every name", step=0.5)
    assert missing() == set()


def _jobs_missing(url: str) -> set[str]:
    jobs = {r["metric"]["job"] for r in _query(url, "up == 1")}
    return {"victoria-metrics", "vmagent", "vmalert"} - jobs


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    return list(body["data"]["result"])


def _alerts(vmalert: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{vmalert}/api/v1/alerts", timeout=10).json()
    return [a for a in body["data"]["alerts"] or [] if a["name"] == ALERT]


def test_stopping_vmagent_makes_the_component_down_alert_active(victoria: VictoriaStack) -> None:
    def vmagent_up() -> bool:
        return [r["value"][1] for r in _query(victoria.storage.url, 'up{job="vmagent"}')] == ["1"]

    wait_for(vmagent_up, 30, "victoria-metrics scraping vmagent", step=0.5, ignore=(httpx.HTTPError,))
    groups = httpx.get(f"{victoria.vmalert}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [r for g in groups if g["name"] == GROUP for r in g["rules"]]
    assert len(rules) == 12 and all(r["lastError"] == "" for r in rules), rules
    assert sorted(r["duration"] for r in rules if r["name"] == ALERT) == [60, 300]  # the `for:` holds
    time.sleep(2)  # two evaluations with vmagent up
    assert _alerts(victoria.vmalert) == []

    killed = time.time()
    stop(victoria.vmagent.process)
    pending = wait_for(lambda: _alerts(victoria.vmalert), 30, f"{ALERT} active in vmalert", step=0.5)
    seen = time.time() - killed

    assert sorted((a["labels"]["job"], a["labels"]["severity"], a["state"]) for a in pending) == [
        ("vmagent", "critical", "pending"),
        ("vmagent", "warning", "pending"),
    ]
    assert {a["labels"]["instance"] for a in pending} == {f"127.0.0.1:{victoria.vmagent.port}"}
    assert seen < 15, seen
