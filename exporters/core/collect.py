"""Parallel collection of targets, each bounded by its own timeout; `collect` never raises."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from exporters.core.config import Target
from exporters.core.errors import ParseError, TargetError
from exporters.core.logs import mask
from exporters.core.metrics import Family, merge

log = logging.getLogger("exporters.collect")
# An exporter's scrape function: reads one target, returns its families; may raise.
Scrape = Callable[[Target], Iterable[Family]]
ERROR_KINDS = ("timeout", "target", "parse", "internal")


def error_kind(exc: BaseException) -> str:
    """Classify a scrape failure: `timeout`, `target` (I/O), `parse` or `internal`."""
    if isinstance(exc, TimeoutError | FutureTimeout):
        return "timeout"
    if isinstance(exc, ParseError):
        return "parse"
    if isinstance(exc, TargetError | OSError):
        return "target"
    return "internal"


class Collector:
    """Collects every target in parallel and adds `<ns>_up`, scrape duration and error counters.

    Args:
        namespace: metric prefix, e.g. `haproxy`.
        targets: the configured targets (names unique).
        scrape: the exporter's scrape function.
        target_label: add `target="<name>"` to every series (several targets / config file).
        clock: monotonic clock, a parameter for tests.
    """

    def __init__(
        self,
        namespace: str,
        targets: Sequence[Target],
        scrape: Scrape,
        target_label: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace = namespace
        self.targets = {t.name: t for t in targets}
        self._scrape = scrape
        self._target_label = target_label
        self._clock = clock
        self._errors = {(t.name, k): 0 for t in targets for k in ERROR_KINDS}
        self._last_error: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=min(64, 2 * len(self.targets) + 2), thread_name_prefix=f"{namespace}-scrape"
        )

    def close(self) -> None:
        """Stop the worker threads (those running finish in the background)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def collect(self, max_timeout: float | None = None) -> list[Family]:
        """Collect all targets; `max_timeout` caps each target's timeout (e.g. Prometheus' own)."""
        return self._collect(list(self.targets.values()), max_timeout)

    def collect_one(self, name: str, max_timeout: float | None = None) -> list[Family] | None:
        """Collect one configured target by name; None if no such target (nothing is contacted)."""
        target = self.targets.get(name)
        if target is None:
            return None
        return self._collect([target], max_timeout)

    def _run(self, target: Target) -> tuple[list[Family] | Exception, float]:
        """Scrape one target in a worker; its own duration is measured here, failure or not."""
        start = self._clock()
        try:
            result: list[Family] | Exception = list(self._scrape(target))
        except Exception as exc:  # handed to `_collect`, which logs and counts it
            result = exc
        return result, self._clock() - start

    def _constant_labels(self, target: Target) -> dict[str, str]:
        labels = {"target": target.name} if self._target_label else {}
        labels.update(target.labels)
        return labels

    def _collect(self, targets: list[Target], max_timeout: float | None) -> list[Family]:
        ns = self.namespace
        up = Family(f"{ns}_up", "gauge", "1 if the last scrape of the target succeeded, else 0.")
        duration = Family(
            f"{ns}_exporter_scrape_duration_seconds",
            "gauge",
            "Seconds the last scrape of the target took.",
        )
        errors = Family(
            f"{ns}_exporter_scrape_errors_total",
            "counter",
            "Failed scrapes of the target since the exporter started, by kind of error.",
            ("kind",),
        )
        start = self._clock()
        futures: list[tuple[Target, Future[tuple[list[Family] | Exception, float]] | None]] = []
        for t in targets:
            try:
                futures.append((t, self._pool.submit(self._run, t)))
            except RuntimeError:  # pool shut down
                futures.append((t, None))
        out: list[Family] = []
        meta: list[Family] = []
        for target, fut in futures:
            timeout = target.timeout if max_timeout is None else min(target.timeout, max_timeout)
            ok, took = False, timeout
            try:
                if fut is None:
                    raise RuntimeError("exporter is shutting down")
                remaining = max(0.0, timeout - (self._clock() - start))
                result, took = fut.result(timeout=remaining)
                if isinstance(result, Exception):
                    raise result
                families, ok = result, True
            except Exception as exc:  # the target boundary: one target never fails a scrape
                if fut is not None and not fut.done():
                    fut.cancel()
                    took = timeout
                elif fut is None:
                    took = 0.0
                families = []
                self._failed(target, exc, timeout)
            else:
                self._succeeded(target)
            labels = self._constant_labels(target)
            u = Family(up.name, up.type, up.help)
            u.add((), 1.0 if ok else 0.0)
            d = Family(duration.name, duration.type, duration.help)
            d.add((), took)
            e = Family(errors.name, errors.type, errors.help, errors.labels)
            with self._lock:
                for kind in ERROR_KINDS:
                    e.add((kind,), self._errors[(target.name, kind)])
            meta.extend(f.with_labels(labels) for f in (u, d, e))
            out.extend(f.with_labels(labels) for f in families)
        return merge(meta + out)

    def _failed(self, target: Target, exc: BaseException, timeout: float) -> None:
        kind = error_kind(exc)
        if kind == "timeout":
            message = f"no answer within {timeout:g}s"
        else:
            message = mask(str(exc)) or type(exc).__name__
        with self._lock:
            self._errors[(target.name, kind)] += 1
            changed = self._last_error.get(target.name) != message
            self._last_error[target.name] = message
        level = logging.WARNING if changed else logging.DEBUG
        log.log(
            level,
            "scrape failed",
            extra={"fields": {"target": target.name, "kind": kind, "error": message}},
            exc_info=kind == "internal" and changed,
        )

    def _succeeded(self, target: Target) -> None:
        with self._lock:
            was_down = self._last_error.pop(target.name, None) is not None
        if was_down:
            log.info("scrape succeeded again", extra={"fields": {"target": target.name}})
