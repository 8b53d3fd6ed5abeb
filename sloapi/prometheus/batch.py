"""Queries submitted together: identical ones run once, range chunks are joined, and every wait
ends by the batch's deadline (one per request)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from sloapi.deadline import Deadline
from sloapi.prometheus.chunks import points_per_chunk
from sloapi.prometheus.decode import RangeSeries, Sample

T = TypeVar("T")


def range_params(query: str, start: str, end: str, step: int) -> dict[str, str]:
    """Parameters of one `/api/v1/query_range` request.

    `nocache=1`: VictoriaMetrics's response cache otherwise snaps `start` and `end` of a query of
    50 points or more down to multiples of the step and hides the last 30 s, so the answer's
    points leave the step grid; Prometheus, Thanos and Mimir ignore the parameter.
    """
    return {"query": query, "start": start, "end": end, "step": str(step), "nocache": "1"}


class Client(Protocol):
    """What a batch needs of the client (`PromClient`)."""

    max_points: int
    max_range_seconds: int | None

    def submit(self, func: Callable[[], Any]) -> Future[Any]:
        """Run `func` on the client's workers."""

    def instant(self, query: str, at: datetime, deadline: Deadline | None = None) -> list[Sample]:
        """Evaluate an instant query."""

    def instant_values(
        self, query: str, at: datetime, label: str, deadline: Deadline | None = None
    ) -> dict[str, float]:
        """Evaluate an instant query: its finite values by the value of `label`."""

    def range_futures(
        self, query: str, start: datetime, end: datetime, step_seconds: int, deadline: Deadline
    ) -> list[Future[list[RangeSeries]]]:
        """Submit the chunks of a range query."""


class Waiting(Generic[T]):
    """A submitted query whose `result()` waits no longer than the deadline."""

    def __init__(self, future: Future[T], deadline: Deadline) -> None:
        self._future = future
        self._deadline = deadline

    def result(self) -> T:
        """The answer, or the query's error.

        Raises:
            DeadlineExceededError: the deadline passed first.
        """
        left = self._deadline.remaining()
        try:
            return self._future.result(timeout=None if math.isinf(left) else left)
        except FutureTimeout:
            raise self._deadline.error("Prometheus did not answer in time") from None


class PendingRange:
    """The chunk futures of one range query."""

    def __init__(self, chunks: list[Future[list[RangeSeries]]], deadline: Deadline | None = None) -> None:
        self._chunks = chunks
        self._deadline = deadline or Deadline.never()

    def result(self) -> list[RangeSeries]:
        """Wait for every chunk (by the deadline); join series with the same labels (points in
        time order)."""
        parts: dict[tuple[tuple[str, str], ...], list[RangeSeries]] = {}
        for future in self._chunks:
            for series in Waiting(future, self._deadline).result():
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
    """Identical queries submitted to one batch run once; results wait by the batch's deadline.

    Args:
        client: runs the queries.
        deadline: the request's deadline (none: waits end only by the client's timeout).
    """

    def __init__(self, client: Client, deadline: Deadline | None = None) -> None:
        self._client = client
        self.deadline = deadline or Deadline.never()
        self._futures: dict[Hashable, Waiting[Any]] = {}
        self._ranges: dict[Hashable, PendingRange] = {}
        self._lock = threading.Lock()

    def _submit(self, key: Hashable, func: Callable[[], Any]) -> Waiting[Any]:
        with self._lock:
            waiting = self._futures.get(key)
            if waiting is None:
                waiting = Waiting(self._client.submit(func), self.deadline)
                self._futures[key] = waiting
            return waiting

    def instant(self, query: str, at: datetime) -> Waiting[list[Sample]]:
        """Submit an instant query (once per (query, at))."""
        return self._submit(
            ("i", query, at.timestamp()), lambda: self._client.instant(query, at, self.deadline)
        )

    def instant_values(self, query: str, at: datetime, label: str) -> Waiting[dict[str, float]]:
        """Submit an instant query read as {value of `label`: value} (once per (query, at, label))."""
        return self._submit(
            ("v", query, at.timestamp(), label),
            lambda: self._client.instant_values(query, at, label, self.deadline),
        )

    def range(self, query: str, start: datetime, end: datetime, step_seconds: int) -> PendingRange:
        """Submit a range query (once per (query, start, end, step)); `.result()` joins chunks."""
        key = ("r", query, start.timestamp(), end.timestamp(), step_seconds)
        with self._lock:
            pending = self._ranges.get(key)
            if pending is None:
                futures = self._client.range_futures(query, start, end, step_seconds, self.deadline)
                pending = PendingRange(futures, self.deadline)
                self._ranges[key] = pending
            return pending

    def max_range_seconds(self, step_seconds: int) -> int:
        """The longest range one request of this batch selects: what a range request of the
        client's most points spans at `step_seconds`, within the client's maximum query range
        (instant queries' windows stay under it).

        Raises:
            QueryError: the step alone is longer than the maximum query range.
        """
        client = self._client
        return points_per_chunk(step_seconds, client.max_points, client.max_range_seconds) * step_seconds

    @property
    def distinct_queries(self) -> int:
        """How many distinct queries this batch ran."""
        return len(self._futures) + len(self._ranges)
