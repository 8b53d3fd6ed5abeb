"""A throwaway victoria-metrics holding known history, for tests and benchmarks.

The same series as `stack.history` (`(metric_name, type, labels, samples)`) are written as
Prometheus text with millisecond timestamps and posted to `/api/v1/import/prometheus`;
`start_victoria` serves a fresh data directory on 127.0.0.1 and a free port, keeping any age of
data and answering every query from raw data (no response cache: history is imported after start).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import httpx

from stack.history import Series, label_text
from stack.throwaway import Server, free_port, start_server

RETENTION = "100y"
#: Lines posted per import request (a few MB each).
BATCH_LINES = 50_000


def prometheus_lines(series: Iterable[Series]) -> Iterator[str]:
    """Prometheus text lines `name{labels} value timestamp_ms` (samples of value None skipped)."""
    for name, _kind, labels, samples in series:
        prefix = name + label_text(labels)
        for ts, value in samples:
            if value is not None:
                yield f"{prefix} {float(value)!r} {round(ts * 1000)}\n"


class VictoriaMetrics(Server):
    """A running throwaway victoria-metrics."""

    def import_series(self, series: Iterable[Series], timeout: float = 300.0) -> int:
        """Import `series` and make them searchable; returns samples imported.

        Raises:
            httpx.HTTPStatusError: victoria-metrics refused a batch.
        """
        count = 0
        with httpx.Client(base_url=self.url, timeout=timeout) as client:
            buffer = io.StringIO()
            lines = 0
            for line in prometheus_lines(series):
                buffer.write(line)
                lines += 1
                if lines == BATCH_LINES:
                    _post(client, buffer.getvalue())
                    count += lines
                    buffer, lines = io.StringIO(), 0
            if lines:
                _post(client, buffer.getvalue())
                count += lines
            client.get("/internal/force_flush").raise_for_status()
        return count


def _post(client: httpx.Client, text: str) -> None:
    client.post("/api/v1/import/prometheus", content=text.encode()).raise_for_status()


def start_victoria(
    data: Path, log: Path, flags: Sequence[str] = (), timeout: float = 60.0, *, cache: bool = False
) -> VictoriaMetrics:
    """Start victoria-metrics on `data` (127.0.0.1, a free port) and wait until it is healthy.

    Without `cache`, `-search.disableCache`: history imported after the start is seen at once, and
    range queries keep the grid they ask for.

    Raises:
        RuntimeError: it exited before it was ready.
        TimeoutError: not ready after `timeout` seconds.
    """
    port = free_port()
    uncached = [] if cache else ["-search.disableCache"]
    argv = ["victoria-metrics", f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={data}",
            f"-retentionPeriod={RETENTION}", *uncached, *flags]  # fmt: skip
    proc = start_server(argv, log, f"http://127.0.0.1:{port}/health", timeout)
    return VictoriaMetrics(url=f"http://127.0.0.1:{port}", port=port, data_dir=data, process=proc)
