"""Where the time of a month report from Prometheus goes, measured (imported by run.py).

`Meter` wraps, for one run, the HTTP requests, the decoding of range answers and the per-SLO
maths with counters of thread CPU time, reads the CPU time Prometheus's process used (from
/proc), and keeps every range request so that `replay` can send them again one at a time with
`stats=all`, for Prometheus's own evaluation timings, the bytes and the points.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Meter:
    """CPU seconds by part of sloapi's work, and the range requests sent."""

    cpu: dict[str, float] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    ranges: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, owner: Any, name: str, part: str) -> Callable[[], None]:
        """Count the thread CPU time of `owner.name` under `part`; returns the undo."""
        original = getattr(owner, name)
        meter = self

        def measured(*args: Any, **kwargs: Any) -> Any:
            if part == "HTTP" and "query_range" in str(args[1] if len(args) > 1 else ""):
                with meter._lock:
                    meter.ranges.append(dict(kwargs.get("params") or {}))
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                with meter._lock:
                    meter.cpu[part] = meter.cpu.get(part, 0.0) + time.thread_time() - start
                    meter.calls[part] += 1

        setattr(owner, name, measured)
        return lambda: setattr(owner, name, original)

    @contextmanager
    def watching(self) -> Iterator[Meter]:
        """Measure sloapi's HTTP requests, range decoding and per-SLO maths meanwhile."""
        import sloapi.prometheus.client as client
        import sloapi.reports.source as source

        undo = [
            self.wrap(requests.Session, "get", "HTTP"),
            self.wrap(client, "decode_matrix", "decoding"),
            self.wrap(source, "compute_slo", "maths"),
        ]
        try:
            yield self
        finally:
            for step in reversed(undo):
                step()


@dataclass(frozen=True)
class Replay:
    """The range requests of one report sent again one at a time: `wall` and `bytes` of the
    plain answers, `evaluation` (Prometheus's `evalTotalTime`) and `points` from `stats=all`."""

    requests: int
    wall: float
    evaluation: float
    bytes: int
    points: int


def replay(url: str, ranges: list[dict[str, str]]) -> Replay:
    """Send `ranges` one at a time to `url` and add up Prometheus's timings and the answers."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Accept-Encoding"] = "identity"
    wall = evaluation = 0.0
    size = points = 0
    for params in ranges:
        start = time.perf_counter()
        plain = session.get(f"{url}/api/v1/query_range", params=params, timeout=60)
        wall += time.perf_counter() - start
        size += len(plain.content)
        response = session.get(f"{url}/api/v1/query_range", params={**params, "stats": "all"}, timeout=60)
        data = response.json()["data"]
        evaluation += data["stats"]["timings"]["evalTotalTime"]
        points += sum(len(series["values"]) for series in data["result"])
    session.close()
    return Replay(len(ranges), wall, evaluation, size, points)
