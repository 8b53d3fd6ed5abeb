"""Thin Prometheus client over prometheus-api-client: pinned times, chunked ranges, bounded
concurrency, de-duplicated queries, one keep-alive HTTP session and range answers decoded
straight into numpy arrays."""

from __future__ import annotations

import ipaddress
import json
import math
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from sloapi.errors import PrometheusUnavailableError, QueryError

Labels = dict[str, str]
_VALUES_KEY = b'"values":['


@dataclass(frozen=True)
class Sample:
    """One series of an instant query: labels and value (may be NaN)."""

    labels: Labels
    value: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: labels, unix times and values (float arrays)."""

    labels: Labels
    times: np.ndarray
    values: np.ndarray

    @property
    def points(self) -> list[tuple[float, float]]:
        """(unix seconds, value) pairs."""
        return list(zip(self.times.tolist(), self.values.tolist(), strict=True))

    @classmethod
    def from_values(cls, labels: Labels, values: list[list[Any]]) -> RangeSeries:
        """From Prometheus's `[[time, "value"], ...]` (strings parsed in one numpy call)."""
        if not values:
            empty = np.empty(0, dtype=float)
            return cls(labels, empty, empty)
        array = np.array(values, dtype=float)
        return cls(labels, array[:, 0], array[:, 1])


def _points(text: bytes) -> np.ndarray:
    """`[t,"v"],[t,"v"]` (the inside of a `values` array) as an (n, 2) float array."""
    if not text:
        return np.empty((0, 2), dtype=float)
    numbers = text.translate(None, b'[]"').decode("ascii").split(",")
    if len(numbers) != 2 * text.count(b"["):
        raise ValueError("malformed values array")
    return np.array(numbers, dtype=float).reshape(-1, 2)


def decode_matrix(body: bytes) -> list[RangeSeries]:
    """The series of a `query_range` answer (JSON bytes), as `from_values` would build them.

    Each `"values":[...]` array is cut out of the body and parsed by numpy in one call; the rest
    (status and labels) goes through `json`. The cut is exact: the arrays hold only numbers,
    number strings, commas and brackets, and `"values":[` cannot occur inside a JSON string
    (its quotes are escaped there).

    Raises:
        ValueError: the body is not a successful matrix answer.
    """
    skeleton: list[bytes] = []
    arrays: list[np.ndarray] = []
    pos = 0
    while (key := body.find(_VALUES_KEY, pos)) >= 0:
        begin = key + len(_VALUES_KEY)
        close = begin if body.startswith(b"]", begin) else body.find(b"]]", begin) + 1
        if close == 0:
            raise ValueError("unterminated values array")
        skeleton.append(body[pos:begin])
        arrays.append(_points(body[begin:close]))
        pos = close
    skeleton.append(body[pos:])
    try:
        answer = json.loads(b"".join(skeleton))
        data = answer["data"]
        result = data["result"]
        ok = answer["status"] == "success" and data["resultType"] == "matrix"
    except (KeyError, TypeError) as exc:
        raise ValueError(f"unexpected answer: {type(exc).__name__}") from None
    if not ok or len(result) != len(arrays) or any(r.get("values") != [] for r in result):
        raise ValueError("not a matrix answer")
    return [
        RangeSeries(dict(r.get("metric", {})), a[:, 0], a[:, 1]) for r, a in zip(result, arrays, strict=True)
    ]


def chunk_bounds(start: float, end: float, step: int, max_points: int) -> list[tuple[float, float]]:
    """Split the grid `start, start+step, ..., <= end` into chunks of at most `max_points`.

    Chunks are contiguous and do not overlap; every grid point belongs to exactly one chunk.
    """
    if step <= 0 or max_points < 1:
        raise ValueError("step and max_points must be positive")
    if end < start:
        return []
    points = math.floor((end - start) / step) + 1
    chunks = []
    first = 0
    while first < points:
        last = min(points, first + max_points) - 1
        chunks.append((start + first * step, start + last * step))
        first = last + 1
    return chunks


def _is_loopback(url: str) -> bool:
    host = parse_url(url).host or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _session(url: str) -> requests.Session:
    """One keep-alive session for every query (the client mounts its pooled adapter).

    A Prometheus on this host is asked for uncompressed answers (gzip would cost both processes
    more CPU than the loopback saves) and reached without proxy or certificate settings from the
    environment, which requests would otherwise look up again for every request.
    """
    session = requests.Session()
    if _is_loopback(url):
        session.trust_env = False
        session.headers["Accept-Encoding"] = "identity"
    return session


def _seconds(stamp: float) -> str:
    """Whole unix seconds as the API parameter (microseconds first, as `datetime` holds them)."""
    return str(round(datetime.fromtimestamp(stamp, UTC).timestamp()))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "Prometheus timed out"
    if isinstance(exc, requests.ConnectionError):
        return "Prometheus is unreachable"
    return f"Prometheus request failed: {type(exc).__name__}"


class PromClient:
    """Queries one Prometheus.

    Args:
        url: base URL (from settings, never from a request).
        timeout_seconds: per HTTP request.
        max_concurrency: queries run at once by `many`.
        max_points: points per range request (Prometheus refuses more than 11,000).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 30.0,
        max_concurrency: int = 8,
        max_points: int = 11_000,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout_seconds
        self.max_points = max_points
        retry = Retry(total=1, connect=1, read=0, status=0, backoff_factor=0.1)
        self._session = _session(self.url)
        self._conn = PrometheusConnect(
            url=self.url, timeout=timeout_seconds, retry=retry, session=self._session
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max_concurrency)
        self._session.mount(self.url, adapter)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="prom")
        self.requests = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> PromClient:
        """Build from `sloapi.config.Settings`."""
        return cls(
            settings.prometheus_url,
            timeout_seconds=settings.prometheus_timeout_seconds,
            max_concurrency=settings.prometheus_max_concurrency,
            max_points=settings.max_points_per_query,
        )

    def close(self) -> None:
        """Stop the worker threads and the HTTP session."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._conn.close()

    def _call(self, func: Callable[[], Any]) -> Any:
        with self._lock:
            self.requests += 1
        try:
            return func()
        except PrometheusApiClientException as exc:
            text = str(exc)
            if "Status Code 400" in text or "Status Code 422" in text:
                raise QueryError(f"Prometheus rejected the query: {text[:500]}") from None
            raise PrometheusUnavailableError(f"Prometheus answered an error: {text[:300]}") from None
        except requests.RequestException as exc:
            raise PrometheusUnavailableError(_reason(exc)) from None
        except ValueError as exc:  # invalid JSON
            raise PrometheusUnavailableError(f"Prometheus answered garbage: {exc}") from None

    def instant(self, query: str, at: datetime) -> list[Sample]:
        """Evaluate `query` at the pinned time `at`."""
        result = self._call(lambda: self._conn.custom_query(query, params={"time": f"{at.timestamp():.3f}"}))
        return [Sample(dict(r.get("metric", {})), float(r["value"][1])) for r in result]

    def range(self, query: str, start: datetime, end: datetime, step_seconds: int) -> list[RangeSeries]:
        """Evaluate `query` on the grid `start, start+step, ..., <= end`, chunked under the limit.

        Chunks run concurrently (bounded); series with the same labels are joined.
        """
        return self.range_pending(query, start, end, step_seconds).result()

    def range_pending(self, query: str, start: datetime, end: datetime, step_seconds: int) -> PendingRange:
        """Submit the chunks of a range query; `.result()` joins them."""
        bounds = chunk_bounds(start.timestamp(), end.timestamp(), step_seconds, self.max_points)
        return PendingRange(
            [self._pool.submit(self._range_chunk, query, lo, hi, step_seconds) for lo, hi in bounds]
        )

    def _range_chunk(self, query: str, lo: float, hi: float, step: int) -> list[RangeSeries]:
        return self._call(lambda: self._get_range(query, lo, hi, step))

    def _get_range(self, query: str, lo: float, hi: float, step: int) -> list[RangeSeries]:
        response = self._session.get(
            f"{self.url}/api/v1/query_range",
            params={"query": query, "start": _seconds(lo), "end": _seconds(hi), "step": str(step)},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise PrometheusApiClientException(
                f"HTTP Status Code {response.status_code} ({response.content!r})"
            )
        return decode_matrix(response.content)

    def ready(self) -> bool:
        """True when Prometheus answers its readiness endpoint."""
        try:
            response = requests.get(f"{self.url}/-/ready", timeout=min(self.timeout, 5.0))
        except requests.RequestException:
            return False
        return response.status_code == 200

    def batch(self) -> QueryBatch:
        """A batch that de-duplicates identical queries and runs them concurrently."""
        return QueryBatch(self)


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

    def __init__(self, client: PromClient) -> None:
        self._client = client
        self._futures: dict[Hashable, Future[Any]] = {}
        self._ranges: dict[Hashable, PendingRange] = {}
        self._lock = threading.Lock()

    def _submit(self, key: Hashable, func: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._client._pool.submit(func)
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

    @property
    def distinct_queries(self) -> int:
        """How many distinct queries this batch ran."""
        return len(self._futures) + len(self._ranges)


def first_value(samples: Iterable[Sample]) -> float | None:
    """The value of the first sample, None when there is none or it is not finite."""
    for sample in samples:
        return sample.value if math.isfinite(sample.value) else None
    return None
