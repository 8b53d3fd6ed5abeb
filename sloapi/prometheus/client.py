"""The one Prometheus client of the service: pinned times, chunked ranges, bounded concurrency,
one keep-alive HTTP session (over prometheus-api-client) and range answers decoded straight into
numpy arrays. Built once from the settings and handed to whatever reads Prometheus."""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from sloapi.engine.durations import parse_duration
from sloapi.errors import PrometheusUnavailableError, QueryError, WindowError
from sloapi.prometheus.batch import PendingRange, QueryBatch, range_params, ready_url
from sloapi.prometheus.chunks import chunk_bounds
from sloapi.prometheus.decode import RangeSeries, Sample, decode_matrix

log = logging.getLogger(__name__)
DEFAULT_RETENTION = "15d"  # what Prometheus keeps when its retention flag is unset


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

    def submit(self, func: Callable[[], Any]) -> Future[Any]:
        """Run `func` on the client's bounded worker threads."""
        return self._pool.submit(func)

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
            params=range_params(query, _seconds(lo), _seconds(hi), step),
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
            response = requests.get(ready_url(self.url), timeout=min(self.timeout, 5.0))
        except requests.RequestException:
            return False
        return response.status_code == 200

    def batch(self) -> QueryBatch:
        """A batch that de-duplicates identical queries and runs them concurrently."""
        return QueryBatch(self)

    def retention_start(self, now: datetime) -> datetime | None:
        """Oldest instant Prometheus keeps by its time retention flag, or None when unknown."""
        try:
            response = self._session.get(f"{self.url}/api/v1/status/flags", timeout=min(self.timeout, 10.0))
            response.raise_for_status()
            value = response.json()["data"].get("storage.tsdb.retention.time", "")
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("retention of %s unknown: %s", self.url, type(exc).__name__)
            return None
        if not value:
            return None
        if value == "0s":  # flag unset: Prometheus keeps its default
            value = DEFAULT_RETENTION
        try:
            return now - timedelta(seconds=parse_duration(value))
        except WindowError:
            return None
