"""Fixtures of the SLO service's tests: a real Prometheus holding known history.

`prometheus_history(name, series)` (session scope) backfills `series` (see `stack.history`)
into a fresh TSDB, starts Prometheus on it (127.0.0.1, a free port) and returns a
`stack.history.Prometheus` (url, port, data_dir). Every Prometheus started is stopped at the
end of the session. `vm_url` is a throwaway victoria-metrics holding the same `history` as
`prom_url` (the conformance tests compare the two).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from attribution_history import ShopHistory
from slo_history import History

from stack.history import Prometheus, Series, backfill, start_prometheus
from stack.throwaway import wait_for
from stack.vmhistory import start_victoria


def start_history(
    base: Path, series: Iterable[Series] | None = None, rule_files: Iterable[Path] = ()
) -> Prometheus:
    """Backfill `series` into a fresh TSDB under `base` and start Prometheus on it with `rule_files`."""
    data = base / "data"
    data.mkdir(parents=True)
    if series is not None:
        backfill(series, data, timeout=600)
    config = base / "prometheus.yml"
    rules = "".join(f"  - {p}\n" for p in rule_files)
    config.write_text(
        "global:\n  evaluation_interval: 30s\n" + (f"rule_files:\n{rules}" if rules else ""),
        encoding="utf-8",
    )
    return start_prometheus(
        config, data, base / "prometheus.log", ["--web.enable-lifecycle", "--query.max-samples=200000000"]
    )


@pytest.fixture(scope="session")
def prometheus_history(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Prometheus]]:
    """Factory: `prometheus_history(name, series, rule_files=())` -> a started `Prometheus`.

    The same `name` twice in a session returns the first instance.
    """
    started: dict[str, Prometheus] = {}

    def make(
        name: str, series: Iterable[Series] | None = None, rule_files: Iterable[Path] = ()
    ) -> Prometheus:
        if name not in started:
            started[name] = start_history(tmp_path_factory.mktemp(f"prom-{name}"), series, rule_files)
        return started[name]

    yield make
    for instance in started.values():
        instance.stop()


@pytest.fixture(scope="session")
def history() -> History:
    """The SLO tests' known history, ending at the last whole hour before now minus one hour."""
    return History(end=int(time.time()) // 3600 * 3600 - 3600)


@pytest.fixture(scope="session")
def prom_url(prometheus_history: Callable[..., Prometheus], history: History) -> str:
    """URL of a Prometheus serving `history`."""
    return prometheus_history("sloapi-status", history.series()).url


@pytest.fixture(scope="session")
def vm_url(tmp_path_factory: pytest.TempPathFactory, history: History) -> Iterator[str]:
    """URL of a victoria-metrics holding `history` (the same samples as `prom_url`)."""
    base = tmp_path_factory.mktemp("vm-history")
    vm = start_victoria(base / "data", base / "victoria-metrics.log")
    try:
        imported = vm.import_series(history.series())
        expected = str(len(history.sample_times()))
        query = {"query": "count_over_time(pgbouncer_up[40d])", "time": str(history.end)}

        def visible() -> bool:
            body = httpx.get(f"{vm.url}/api/v1/query", params=query, timeout=30).json()
            return [r["value"][1] for r in body["data"]["result"]] == [expected]

        wait_for(visible, 60, "imported history searchable", step=0.5, ignore=(httpx.HTTPError,))
        assert imported == 5 * len(history.sample_times())
        yield vm.url
    finally:
        vm.stop()


@pytest.fixture(scope="session")
def shop() -> ShopHistory:
    """The shop's history (attribution_history.py), ending at the last whole hour before now
    minus one hour."""
    return ShopHistory(end=int(time.time()) // 3600 * 3600 - 3600)


@pytest.fixture(scope="session")
def shop_prom(prometheus_history: Callable[..., Prometheus], shop: ShopHistory) -> Prometheus:
    """A Prometheus serving the shop's history."""
    return prometheus_history("sloapi-shop", shop.series())
