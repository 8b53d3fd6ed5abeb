"""The framework's `Collector`, with the cluster-wide series once per cluster.

The scrape function's cluster-scoped families (see `exporters.patroni.dedupe`) are kept aside
per target instead of being labelled with the target; after each collection those of the
targets that succeeded are merged into one copy per cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.metrics import Family
from exporters.core.spec import Scrape
from exporters.patroni.dedupe import is_cluster_scoped, node_name, shared_families


class PatroniCollector(Collector):
    """`Collector` that de-duplicates the cluster series across targets.

    Args:
        namespace, targets, scrape, target_label, clock: as `Collector`'s.
        on_close: called by `close()` after the worker threads stop (e.g. the scraper's close).
    """

    def __init__(
        self,
        namespace: str,
        targets: Sequence[Target],
        scrape: Scrape,
        target_label: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._on_close = on_close
        self._shared: dict[str, list[Family]] = {}
        self._owner: dict[str, str | None] = {}
        self._shared_lock = threading.Lock()
        self._inner = scrape
        super().__init__(namespace, targets, self._split, target_label, clock)

    def _split(self, target: Target) -> Iterable[Family]:
        families = list(self._inner(target))
        with self._shared_lock:
            self._shared[target.name] = [f for f in families if is_cluster_scoped(f)]
            self._owner[target.name] = node_name(families)
        return [f for f in families if not is_cluster_scoped(f)]

    def close(self) -> None:
        """Stop the worker threads, then run `on_close`."""
        super().close()
        if self._on_close is not None:
            self._on_close()

    def collect(self, max_timeout: float | None = None) -> list[Family]:
        """Collect all targets (see `Collector.collect`), cluster series once per cluster."""
        out = super().collect(max_timeout)
        return out + self._shared_of(out, list(self.targets.values()))

    def collect_one(self, name: str, max_timeout: float | None = None) -> list[Family] | None:
        """Collect one target (see `Collector.collect_one`)."""
        out = super().collect_one(name, max_timeout)
        if out is None:
            return None
        return out + self._shared_of(out, [self.targets[name]])

    def _shared_of(self, out: list[Family], targets: list[Target]) -> list[Family]:
        up: dict[str, float] = {}
        for fam in out:
            if fam.name == f"{self.namespace}_up":
                for labels, value in fam.samples():
                    up[labels.get("target", "")] = value
        results, owners = [], []
        with self._shared_lock:
            for t in targets:
                ok = up.get(t.name) if "" not in up else up[""] if len(targets) == 1 else None
                if ok == 1 and t.name in self._shared:
                    results.append((t.labels, self._shared[t.name]))
                    owners.append(self._owner.get(t.name))
        return shared_families(results, owners)
