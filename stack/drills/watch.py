"""Observers during a drill: exporter scrapes, Prometheus alerts, Alertmanager, Patroni's leader.

One thread polls every source once a second and records *first* times, so a report can say when
the fault was first visible in each place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = list[tuple[str, dict[str, str], float]]
Predicate = Callable[[Samples], bool]


def scrape(url: str, timeout: float = 5.0) -> Samples:
    """(name, labels, value) of every sample an exporter serves."""
    text = httpx.get(url, timeout=timeout).text
    return [
        (s.name, dict(s.labels), s.value) for fam in text_string_to_metric_families(text) for s in fam.samples
    ]


def find(samples: Samples, name: str, **labels: str) -> list[float]:
    """Values of `name` whose labels include `labels`."""
    return [v for n, lb, v in samples if n == name and all(lb.get(k) == w for k, w in labels.items())]


@dataclass
class AlertSeen:
    """When an alert was first seen pending / firing in Prometheus and received by Alertmanager."""

    alertname: str
    severity: str
    pending: float | None = None
    firing: float | None = None
    alertmanager: float | None = None
    slo: bool = False  # an error-budget burn alert: the SLO doing its job, judged apart


@dataclass
class Observations:
    """Everything the watcher recorded (wall-clock seconds)."""

    detected: float | None = None
    detect_error: str | None = None
    alerts: dict[tuple[str, str], AlertSeen] = field(default_factory=dict)
    leaders: list[tuple[float, str | None]] = field(default_factory=list)
    firing_now: set[tuple[str, str]] = field(default_factory=set)
    slo_alerts: set[str] = field(default_factory=set)
    baseline: set[tuple[str, str]] = field(default_factory=set)


class Watcher:
    """Polls the sources in a thread from `start()` to `stop()`.

    Args:
        prometheus: base URL; alerts from `/api/v1/alerts`.
        alertmanager: base URL; alerts from `/api/v2/alerts`.
        cluster_urls: Patroni REST base URLs; the leader from the first `/cluster` that answers.
        exporter_url: the `/metrics` URL the scenario's predicate reads.
        predicate: True once the exporter's samples show the fault.
    """

    def __init__(
        self,
        prometheus: str,
        alertmanager: str,
        cluster_urls: list[str],
        exporter_url: str | None,
        predicate: Predicate | None,
        interval: float = 1.0,
    ) -> None:
        self.prometheus = prometheus
        self.alertmanager = alertmanager
        self.cluster_urls = cluster_urls
        self.exporter_url = exporter_url
        self.predicate = predicate
        self.interval = interval
        self.obs = Observations()
        self.armed_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="drill-watcher")
        self._client = httpx.Client(timeout=3)

    def start(self) -> None:
        self.obs.baseline = self.active()
        self._thread.start()

    def arm(self, t0: float) -> None:
        """From now on, record first sightings (the fault was injected at t0)."""
        self.armed_at = t0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            self._poll_leader(now)
            if self.armed_at is not None:
                self._poll_exporter(now)
                self._poll_alerts(now)
            self._stop.wait(self.interval)

    def _get(self, url: str) -> Any:
        r = self._client.get(url)
        r.raise_for_status()
        return r.json()

    def _poll_leader(self, now: float) -> None:
        leader: str | None = None
        for base in self.cluster_urls:
            try:
                members = self._get(f"{base}/cluster").get("members", [])
            except (httpx.HTTPError, ValueError):
                continue
            leader = next((m["name"] for m in members if m.get("role") in ("leader", "master")), None)
            break
        if not self.obs.leaders or self.obs.leaders[-1][1] != leader:
            self.obs.leaders.append((now, leader))

    def _poll_exporter(self, now: float) -> None:
        if self.obs.detected or not self.exporter_url or not self.predicate:
            return
        try:
            if self.predicate(scrape(self.exporter_url)):
                self.obs.detected = now
        except (httpx.HTTPError, ValueError) as exc:
            self.obs.detect_error = f"{type(exc).__name__}: {exc}"

    def active(self, states: tuple[str, ...] = ("pending", "firing")) -> set[tuple[str, str]]:
        """(alertname, severity) of the alerts Prometheus has in `states` now."""
        try:
            alerts = self._get(f"{self.prometheus}/api/v1/alerts")["data"]["alerts"]
        except (httpx.HTTPError, ValueError, KeyError):
            return set()
        return {
            (a["labels"]["alertname"], a["labels"].get("severity", ""))
            for a in alerts
            if a["state"] in states
        }

    def _poll_alerts(self, now: float) -> None:
        try:
            prom = self._get(f"{self.prometheus}/api/v1/alerts")["data"]["alerts"]
        except (httpx.HTTPError, ValueError, KeyError):
            prom = []
        firing = set()
        for a in prom:
            key = (a["labels"]["alertname"], a["labels"].get("severity", ""))
            if key in self.obs.baseline:  # already firing before the fault: not caused by it
                if a["state"] == "firing":
                    firing.add(key)
                continue
            seen = self.obs.alerts.setdefault(key, AlertSeen(*key))
            if "sloth_severity" in a["labels"] or "sloth_id" in a["labels"]:
                seen.slo = True
                self.obs.slo_alerts.add(key[0])
            if seen.pending is None:
                seen.pending = now
            if a["state"] == "firing":
                firing.add(key)
                if seen.firing is None:
                    seen.firing = now
        self.obs.firing_now = firing
        try:
            am = self._get(f"{self.alertmanager}/api/v2/alerts")
        except (httpx.HTTPError, ValueError):
            am = []
        for a in am:
            key = (a["labels"]["alertname"], a["labels"].get("severity", ""))
            if key in self.obs.baseline:
                continue
            seen = self.obs.alerts.setdefault(key, AlertSeen(*key))
            if seen.alertmanager is None:
                seen.alertmanager = now
