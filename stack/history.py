"""A throwaway Prometheus holding known history, for tests and benchmarks.

`backfill(series, data)` writes series as OpenMetrics and turns them into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics --max-block-duration=168h`; `start_prometheus`
serves a TSDB on 127.0.0.1 and a free port with a retention long enough to keep old samples.
A series is `(metric_name, type, labels, samples)`: `type` is `counter` or `gauge`, samples an
iterable of `(unix_seconds, value)` in time order (value None: no sample).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

from stack.throwaway import Server, free_port, start_server

Sample = tuple[float, float | None]
Series = tuple[str, str, Mapping[str, str], Iterable[Sample]]

BLOCK_DURATION = "168h"
RETENTION = "3650d"


def label_text(labels: Mapping[str, str]) -> str:
    """`{a="1",b="2"}` (sorted, escaped), or "" for no labels."""
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in sorted(labels.items())
    )
    return "{" + inner + "}"


def write_openmetrics(out: IO[str], series: Iterable[Series]) -> int:
    """Write series as OpenMetrics (families grouped, `# EOF` last); returns samples written."""
    by_family: dict[str, list[Series]] = {}
    for item in series:
        by_family.setdefault(item[0], []).append(item)
    count = 0
    for name, items in by_family.items():
        kind = items[0][1]
        family = name.removesuffix("_total") if kind == "counter" else name
        out.write(f"# TYPE {family} {kind}\n")
        for _name, _kind, labels, samples in items:
            prefix = name + label_text(labels)
            for ts, value in samples:
                if value is None:
                    continue
                out.write(f"{prefix} {float(value)!r} {ts:.3f}\n")
                count += 1
    out.write("# EOF\n")
    return count


def backfill(series: Iterable[Series], data: Path, timeout: float = 900.0) -> int:
    """Add `series` to the TSDB in `data` (created when missing) as blocks; returns samples written.

    Raises:
        subprocess.CalledProcessError: promtool refused the input.
    """
    data.mkdir(parents=True, exist_ok=True)
    om = data.parent / f"{data.name}.om"
    try:
        with om.open("w", encoding="utf-8") as out:
            count = write_openmetrics(out, series)
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics",
             f"--max-block-duration={BLOCK_DURATION}", str(om), str(data)],
            check=True, capture_output=True, timeout=timeout,
        )  # fmt: skip
    finally:
        om.unlink(missing_ok=True)
    return count


class Prometheus(Server):
    """A running throwaway Prometheus."""


def start_prometheus(
    config: Path, data: Path, log: Path, flags: Sequence[str] = (), timeout: float = 120.0
) -> Prometheus:
    """Start Prometheus with `config` on the TSDB in `data` and wait until it is ready.

    It listens on 127.0.0.1 and a free port, keeps `RETENTION` of data and takes `--web.*` /
    `--query.*` `flags` as given. Output goes to `log`.

    Raises:
        RuntimeError: Prometheus exited before it was ready.
        TimeoutError: not ready after `timeout` seconds.
    """
    port = free_port()
    argv = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address=127.0.0.1:{port}",
            *flags]  # fmt: skip
    proc = start_server(argv, log, f"http://127.0.0.1:{port}/-/ready", timeout)
    return Prometheus(url=f"http://127.0.0.1:{port}", port=port, data_dir=data, process=proc)
