"""Fixtures of the SLO service's tests: a real Prometheus holding known history.

`prometheus_history(name, series)` (session scope) writes `series` as OpenMetrics, turns them
into TSDB blocks with `promtool tsdb create-blocks-from openmetrics --max-block-duration=168h`,
starts `prometheus` on 127.0.0.1 and a free port and returns a `PromInstance` (url, dir). Each
series is `(metric_name, type, labels, samples)`, `type` one of `counter` / `gauge`, samples an
iterable of `(unix_seconds, value)` in time order (value None: no sample). Every Prometheus
started is stopped at the end of the session.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from slo_history import History

Sample = tuple[float, float | None]
SeriesDef = tuple[str, str, Mapping[str, str], Iterable[Sample]]


@dataclass
class PromInstance:
    """A running test Prometheus."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in sorted(labels.items())
    )
    return "{" + inner + "}"


def write_openmetrics(out: IO[str], series: Iterable[SeriesDef]) -> int:
    """Write series as OpenMetrics (families grouped, `# EOF` last); returns samples written."""
    by_family: dict[str, list[SeriesDef]] = {}
    for item in series:
        by_family.setdefault(item[0], []).append(item)
    count = 0
    for name, items in by_family.items():
        kind = items[0][1]
        family = name.removesuffix("_total") if kind == "counter" else name
        out.write(f"# TYPE {family} {kind}\n")
        for _name, _kind, labels, samples in items:
            prefix = name + _labels(labels)
            for ts, value in samples:
                if value is None:
                    continue
                out.write(f"{prefix} {value!r} {ts:.3f}\n")
                count += 1
    out.write("# EOF\n")
    return count


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus not ready after {timeout}s")


def start_prometheus(
    base: Path, series: Iterable[SeriesDef] | None = None, rule_files: Iterable[Path] = ()
) -> PromInstance:
    """Backfill `series` into a fresh TSDB under `base` and start Prometheus on it."""
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir()
    if series is not None:
        om = base / "history.om"
        with om.open("w", encoding="utf-8") as out:
            write_openmetrics(out, series)
        subprocess.run(
            [
                "promtool", "tsdb", "create-blocks-from", "openmetrics",
                "--max-block-duration=168h", str(om), str(data),
            ],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        om.unlink()
    config = base / "prometheus.yml"
    rules = "".join(f"  - {p}\n" for p in rule_files)
    config.write_text(
        "global:\n  evaluation_interval: 30s\n" + (f"rule_files:\n{rules}" if rules else ""),
        encoding="utf-8",
    )
    port = free_port()
    log = base / "prometheus.log"
    proc = subprocess.Popen(
        [
            "prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=3650d", f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle", "--query.max-samples=200000000",
        ],
        stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return PromInstance(url=url, port=port, data_dir=data, process=proc)


def stop_prometheus(instance: PromInstance) -> None:
    """Stop a Prometheus started by `start_prometheus`."""
    instance.process.terminate()
    try:
        instance.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        instance.process.kill()
        instance.process.wait()


@pytest.fixture(scope="session")
def prometheus_history(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., PromInstance]]:
    """Factory: `prometheus_history(name, series, rule_files=())` -> a started `PromInstance`.

    The same `name` twice in a session returns the first instance.
    """
    started: dict[str, PromInstance] = {}

    def make(
        name: str, series: Iterable[SeriesDef] | None = None, rule_files: Iterable[Path] = ()
    ) -> PromInstance:
        if name not in started:
            base = tmp_path_factory.mktemp(f"prom-{name}")
            started[name] = start_prometheus(base, series, rule_files)
        return started[name]

    yield make
    for instance in started.values():
        stop_prometheus(instance)


@pytest.fixture(scope="session")
def history() -> History:
    """The SLO tests' known history, ending at the last whole hour before now minus one hour."""
    return History(end=int(time.time()) // 3600 * 3600 - 3600)


@pytest.fixture(scope="session")
def prom_url(prometheus_history: Callable[..., PromInstance], history: History) -> str:
    """URL of a Prometheus serving `history`."""
    return prometheus_history("sloapi-status", history.series()).url
