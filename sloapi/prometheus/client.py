"""The one Prometheus client of the service: pinned times, chunked ranges, bounded concurrency,
one keep-alive HTTP session and range answers decoded straight into numpy arrays. Built once
from the settings and handed to whatever reads Prometheus.

Every query waits no longer than the request's deadline (`sloapi.deadline.Deadline`) nor
`timeout_seconds`. The base URL may carry a path prefix (`.../select/0/prometheus`,
`.../prometheus`): the API paths are appended to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sloapi.deadline import Deadline
from sloapi.engine.durations import parse_duration
from sloapi.errors import PrometheusUnavailableError, QueryError, SloapiError, WindowError
from sloapi.prometheus.access import Access, make_session
from sloapi.prometheus.batch import PendingRange, QueryBatch, range_params
from sloapi.prometheus.chunks import chunk_bounds, points_per_chunk
from sloapi.prometheus.decode import RangeSeries, Sample, decode_matrix, error_message, values_by_label

log = logging.getLogger(__name__)
DEFAULT_RETENTION = "15d"  # what Prometheus keeps when its retention flag is unset
RETENTION_CACHE_SECONDS = 300.0
UNKNOWN_RETENTION_CACHE_SECONDS = 30.0


def _seconds(stamp: float) -> str:
    """Whole unix seconds as the API parameter (microseconds first, as `datetime` holds them)."""
    return str(round(datetime.fromtimestamp(stamp, UTC).timestamp()))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc):
        return "Prometheus timed out"
    if isinstance(exc, requests.ConnectionError):
        return "Prometheus is unreachable"
    return f"Prometheus request failed: {type(exc).__name__}"


def _samples(data: Mapping[str, Any]) -> list[Sample]:
    """The samples of an instant query's `data` (a vector, or a scalar as one sample)."""
    if data.get("resultType") == "scalar":
        return [Sample({}, float(data["result"][1]))]
    return [Sample(dict(r.get("metric", {})), float(r["value"][1])) for r in data["result"]]


#: Queries longer than this go in a POST form: a proxy in front of the backend may refuse long
#: URLs (8 KB is common), and joined queries (`tagged.joined_query`) repeat an SLI's query.
LONG_QUERY = 2048
#: What decoding an answer of the wrong shape raises (a `result` of numbers, a `metric` that
#: is not an object, ...): all mean the backend answered garbage, a 503, never a 500.
GARBAGE = (ValueError, KeyError, TypeError, IndexError, AttributeError)


class PromClient:
    """Queries one Prometheus-compatible API.

    Args:
        url: base URL, with the backend's path prefix if any (from settings, never a request).
        timeout_seconds: longest wait of one HTTP request (a request's deadline may cut it).
        max_concurrency: queries run at once.
        max_points: points per range request (Prometheus refuses more than 11,000).
        max_range_seconds: longest range of one range request (Mimir and Thanos refuse longer
            ones when configured to); None: no limit.
        access: headers, credentials and CA of the API.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 30.0,
        max_concurrency: int = 8,
        max_points: int = 11_000,
        max_range_seconds: int | None = None,
        access: Access | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout_seconds
        self.max_points = max_points
        self.max_range_seconds = max_range_seconds
        self.access = access or Access()
        self._session = make_session(self.url, self.access)
        retry = Retry(total=1, connect=1, read=0, status=0, backoff_factor=0.1)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max_concurrency)
        self._session.mount(self.url, adapter)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="prom")
        self.requests = 0
        self._lock = threading.Lock()
        self._retention: tuple[float, float | None] | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> PromClient:
        """Build from `sloapi.config.Settings` (secret files are read here).

        Raises:
            ValueError: a secret file cannot be read (the message names the setting).
        """
        return cls(
            settings.prometheus_url,
            timeout_seconds=settings.prometheus_timeout_seconds,
            max_concurrency=settings.prometheus_max_concurrency,
            max_points=settings.max_points_per_query,
            max_range_seconds=settings.max_query_range_seconds(),
            access=settings.prometheus_access(),
        )

    def close(self) -> None:
        """Stop the worker threads and the HTTP session."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def submit(self, func: Callable[[], Any]) -> Future[Any]:
        """Run `func` on the client's bounded worker threads."""
        return self._pool.submit(func)

    def _get(self, path: str, params: Mapping[str, str], deadline: Deadline | None) -> requests.Response:
        """GET `path` under the base URL (POST with a form for a long query), waiting by the
        deadline; errors as `SloapiError`s.

        Raises:
            DeadlineExceededError: the deadline passed before or during the request.
            QueryError: the query was refused (HTTP 400 or 422).
            PrometheusUnavailableError: unreachable, timed out or any other non-200 answer.
        """
        deadline = deadline or Deadline.never()
        timeout = deadline.timeout(self.timeout)
        with self._lock:
            self.requests += 1
        try:
            if len(params.get("query", "")) > LONG_QUERY:  # a form body has no URL length limit
                response = self._session.post(f"{self.url}{path}", data=params, timeout=timeout)
            else:
                response = self._session.get(f"{self.url}{path}", params=params, timeout=timeout)
        except requests.RequestException as exc:
            if deadline.expired():  # a read timeout after the retry comes as a ConnectionError
                raise deadline.error("Prometheus did not answer in time") from None
            raise PrometheusUnavailableError(_reason(exc)) from None
        if response.status_code in (400, 422):
            raise QueryError(error_message(response.text)[:500])
        if response.status_code != 200:
            raise PrometheusUnavailableError(
                f"Prometheus answered HTTP {response.status_code}: {response.text[:300]}"
            )
        return response

    def instant(self, query: str, at: datetime, deadline: Deadline | None = None) -> list[Sample]:
        """Evaluate `query` at the pinned time `at`."""
        response = self._get("/api/v1/query", {"query": query, "time": f"{at.timestamp():.3f}"}, deadline)
        try:
            return _samples(response.json()["data"])
        except GARBAGE as exc:
            raise PrometheusUnavailableError(f"Prometheus answered garbage: {type(exc).__name__}") from None

    def instant_values(
        self, query: str, at: datetime, label: str, deadline: Deadline | None = None
    ) -> dict[str, float]:
        """Evaluate `query` at `at`: its finite values by the value of `label`
        (`decode.values_by_label`)."""
        response = self._get("/api/v1/query", {"query": query, "time": f"{at.timestamp():.3f}"}, deadline)
        try:
            return values_by_label(response.json()["data"], label)
        except GARBAGE as exc:
            raise PrometheusUnavailableError(f"Prometheus answered garbage: {type(exc).__name__}") from None

    def range(
        self, query: str, start: datetime, end: datetime, step_seconds: int, deadline: Deadline | None = None
    ) -> list[RangeSeries]:
        """Evaluate `query` on the grid `start, start+step, ..., <= end`, chunked under the limits.

        Chunks run concurrently (bounded); series with the same labels are joined.
        """
        deadline = deadline or Deadline.never()
        return PendingRange(self.range_futures(query, start, end, step_seconds, deadline), deadline).result()

    def range_futures(
        self, query: str, start: datetime, end: datetime, step_seconds: int, deadline: Deadline
    ) -> list[Future[list[RangeSeries]]]:
        """Submit the chunks of a range query (each within the points and range limits)."""
        per_chunk = points_per_chunk(step_seconds, self.max_points, self.max_range_seconds)
        bounds = chunk_bounds(start.timestamp(), end.timestamp(), step_seconds, per_chunk)
        return [
            self._pool.submit(self._range_chunk, query, lo, hi, step_seconds, deadline) for lo, hi in bounds
        ]

    def _range_chunk(
        self, query: str, lo: float, hi: float, step: int, deadline: Deadline
    ) -> list[RangeSeries]:
        params = range_params(query, _seconds(lo), _seconds(hi), step)
        response = self._get("/api/v1/query_range", params, deadline)
        try:
            return decode_matrix(response.content)
        except GARBAGE as exc:
            reason = str(exc) or type(exc).__name__
            raise PrometheusUnavailableError(f"Prometheus answered garbage: {reason}") from None

    def ready(self, deadline: Deadline | None = None) -> bool:
        """True when the API answers a trivial query (within 5 s and the deadline).

        A query rather than `/-/ready`: Thanos, Mimir and VictoriaMetrics cluster serve the
        query API under their prefix but not Prometheus's readiness endpoint.
        """
        try:
            self.instant("1", datetime.now(UTC), deadline or Deadline.after(min(self.timeout, 5.0)))
        except SloapiError:
            return False
        return True

    def batch(self, deadline: Deadline | None = None) -> QueryBatch:
        """A batch that de-duplicates identical queries, runs them concurrently and waits by
        `deadline`."""
        return QueryBatch(self, deadline)

    def retention_start(self, now: datetime, deadline: Deadline | None = None) -> datetime | None:
        """Oldest instant Prometheus keeps by its time retention flag, or None when unknown.

        The flag is asked at most every 5 minutes (every 30 s while it is unknown).
        """
        cached = self._retention
        if cached is None or time.monotonic() > cached[0]:
            seconds = self._retention_seconds(deadline)
            keep = RETENTION_CACHE_SECONDS if seconds is not None else UNKNOWN_RETENTION_CACHE_SECONDS
            cached = (time.monotonic() + keep, seconds)
            self._retention = cached
        return None if cached[1] is None else now - timedelta(seconds=cached[1])

    def _retention_seconds(self, deadline: Deadline | None) -> float | None:
        wait = Deadline.after(min((deadline or Deadline.never()).remaining(), self.timeout, 10.0))
        try:
            value = (
                self._get("/api/v1/status/flags", {}, wait)
                .json()["data"]
                .get("storage.tsdb.retention.time", "")
            )
        except (SloapiError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("retention of the Prometheus API unknown: %s", type(exc).__name__)
            return None
        if not value:
            return None
        if value == "0s":  # flag unset: Prometheus keeps its default
            value = DEFAULT_RETENTION
        try:
            return float(parse_duration(value))
        except WindowError:
            return None
