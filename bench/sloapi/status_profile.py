"""Where one raw status's Prometheus time goes: the status computed in-process through a client
that keeps every request, each request then sent again with `stats=all` (Prometheus's own
`execTotalTime`, median of five), grouped by what it is for; slo-generator's two queries
measured the same way."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import requests

from sloapi.deadline import Deadline
from sloapi.engine.windows import parse_window
from sloapi.prometheus.client import PromClient
from sloapi.specs.loader import read_dir
from sloapi.status.raw import StatusOptions, compute_status

#: (part, how its queries start), the first match wins.
PARTS = [
    ("burn rates (7 windows)", 'label_replace(sum(rate(bench_raw_requests_total{code="5xx"}[5m]))'),
    ("errors and total (whole tiles)", "label_replace("),
    ("sample counts", "topk(1, count_over_time("),
    ("sample counts", "max(count_over_time("),
    ("step-by-step coverage", "count_over_time((sum("),
    ("step-by-step sums", "sum_over_time((sum("),
]


class LoggingClient(PromClient):
    """A client that keeps every request it sends."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout_seconds=120)
        self.sent: list[tuple[str, dict[str, str]]] = []

    def _get(self, path: str, params: Mapping[str, str], deadline: Deadline | None) -> requests.Response:
        self.sent.append((path, dict(params)))
        return super()._get(path, params, deadline)


def exec_ms(prom: str, path: str, params: dict[str, str], repeat: int = 5) -> float:
    """Prometheus's `execTotalTime` of one request in ms (median of `repeat`)."""
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(repeat):
            body = client.get(f"{prom}{path}", params={**params, "stats": "all"}).json()
            times.append(float(body["data"]["stats"]["timings"]["execTotalTime"]) * 1000)
    return statistics.median(times)


def part_of(query: str) -> str:
    """What a query of the status is for."""
    return next((name for name, start in PARTS if query.startswith(start)), "other")


def sloapi_parts(prom: str, slos: Path, end: int) -> dict[str, tuple[int, float]]:
    """{part: (requests, Prometheus ms)} of one 30-day status of the raw SLO at `end`."""
    specs, _errors = read_dir(slos)
    client = LoggingClient(prom)
    try:
        at = datetime.fromtimestamp(end, UTC)
        compute_status(client.batch(), specs[0], parse_window("30d"), at, StatusOptions())
    finally:
        client.close()
    parts: dict[str, tuple[int, float]] = {}
    for path, params in client.sent:
        name = part_of(params.get("query", ""))
        count, ms = parts.get(name, (0, 0.0))
        parts[name] = (count + 1, ms + exec_ms(prom, path, params))
    return parts


def slogen_ms(prom: str, end: int) -> float:
    """Prometheus ms of slo-generator's two queries for the raw SLO (`good` and `valid`)."""
    total = 0.0
    for selector in ('bench_raw_requests_total{code="2xx"}', "bench_raw_requests_total"):
        query = f"sum(increase({selector}[2592000s]))"
        total += exec_ms(prom, "/api/v1/query", {"query": query, "time": str(end)})
    return total
