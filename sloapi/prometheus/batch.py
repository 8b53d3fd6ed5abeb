"""Queries submitted together: identical ones run once, range chunks are joined."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import numpy as np

from sloapi.prometheus.decode import RangeSeries, Sample


def range_params(query: str, start: str, end: str, step: int) -> dict[str, str]:
    """Parameters of one `/api/v1/query_range` request.

    `nocache=1`: VictoriaMetrics's response cache otherwise snaps `start` and `end` of a query of
    50 points or more down to multiples of the step and hides the last 30 s, so the answer's
    points leave the step grid; Prometheus, Thanos and Mimir ignore the parameter.
    """
    return {"query": query, "start": start, "end": end, "step": str(step), "nocache": "1"}


def ready_url(base: str) -> str:
    """Where to ask whether the backend at `base` is ready.

    At a host's root (Prometheus, Thanos Query, VictoriaMetrics single-node) its `/-/ready`;
    under a path prefix (vmselect's `/select/<tenant>/prometheus`, Mimir's `/prometheus`) the
    readiness endpoint is not there, so a trivial query, which every backend answers under it.
    """
    if urlsplit(base).path.strip("/"):
        return f"{base.rstrip('/')}/api/v1/query?{urlencode({'query': '1'})}"
    return f"{base.rstrip('/')}/-/ready"


class Client(Protocol):
    """What a batch needs of the client (`PromClient`)."""

    max_points: int

    def submit(self, func: Callable[[], Any]) -> Future[Any]:
        """Run `func` on the client's workers."""

    def instant(self, query: str, at: datetime) -> list[Sample]:
        """Evaluate an instant query."""

    def range_pending(self, query: str, start: datetime, end: datetime, step_seconds: int) -> PendingRange:
        """Submit the chunks of a range query."""


class PendingRange:
    """The chunk futures of one range query."""

    def __init__(self, chunks: list[Future[list[RangeSeries]]]) -> None:
        self._chunks = chunks

    def result(self) -> list[RangeSeries]:
        """Wait for every chunk; join series with the same labels (points in time order)."""
        parts: dict[tuple[tuple[str, str], ...], list[RangeSeries]] = {}
        for future in self._chunks:
            for series in future.result():
                parts.setdefault(tuple(sorted(series.labels.items())), []).append(series)
        return [
            RangeSeries(
                chunks[0].labels,
                np.concatenate([c.times for c in chunks]),
                np.concatenate([c.values for c in chunks]),
            )
            for chunks in parts.values()
        ]


class QueryBatch:
    """Identical queries submitted to one batch run once; results are futures."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._futures: dict[Hashable, Future[Any]] = {}
        self._ranges: dict[Hashable, PendingRange] = {}
        self._lock = threading.Lock()

    def _submit(self, key: Hashable, func: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._client.submit(func)
                self._futures[key] = future
            return future

    def instant(self, query: str, at: datetime) -> Future[list[Sample]]:
        """Submit an instant query (once per (query, at))."""
        return self._submit(("i", query, at.timestamp()), lambda: self._client.instant(query, at))

    def range(self, query: str, start: datetime, end: datetime, step_seconds: int) -> PendingRange:
        """Submit a range query (once per (query, start, end, step)); `.result()` joins chunks."""
        key = ("r", query, start.timestamp(), end.timestamp(), step_seconds)
        with self._lock:
            pending = self._ranges.get(key)
            if pending is None:
                pending = self._client.range_pending(query, start, end, step_seconds)
                self._ranges[key] = pending
            return pending

    def max_range_seconds(self, step_seconds: int) -> int:
        """The longest range one request of this batch selects: what a range request of the
        client's most points spans at `step_seconds` (instant queries' windows stay under it)."""
        return self._client.max_points * step_seconds

    @property
    def distinct_queries(self) -> int:
        """How many distinct queries this batch ran."""
        return len(self._futures) + len(self._ranges)
