"""Benchmark of the monthly report: 100 SLOs, a 30-day month at 1-minute resolution, PNGs included.

1. In memory: per-step series of every SLO already in pandas (half event SLIs, half raw ratio
   SLIs, with outages); times the maths, the 100 PNG charts, JSON/CSV/text/HTML and the MIME mail.
2. End to end (skip with --no-prometheus): the same number of SLOs as raw-ratio gauges backfilled
   into a throwaway Prometheus (promtool, 168h blocks), then `ReportService.compute` fetching every
   SLO's month from it (range queries chunked under 11,000 points) plus charts and renderings,
   `--runs` times (medians shown), then one measured run (`profile.py`): CPU time of sloapi's
   parts and of Prometheus's process, and every range request replayed with `stats=all`.

Usage: .venv/bin/python bench/reports/run.py [--slos 100] [--runs 3] [--no-prometheus]
Prints the Markdown section of bench/README.md (tables, the 3 s goal's verdict, what bounds it).
Work files: bench/.work/reports/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(REPO))

from bench.reports.profile import Meter, Replay, process_cpu, replay  # noqa: E402
from sloapi.reports.charts import render_charts  # noqa: E402
from sloapi.reports.compute import ReportOptions, SLOSeries  # noqa: E402
from sloapi.reports.html import data_uris, to_html  # noqa: E402
from sloapi.reports.mail import build_message  # noqa: E402
from sloapi.reports.month import Month  # noqa: E402
from sloapi.reports.render import to_csv, to_json, to_text  # noqa: E402
from sloapi.reports.summary import build_report  # noqa: E402

WORK = REPO / "bench" / ".work" / "reports"
MONTH = Month(2026, 9, "UTC")
NOW = datetime(2026, 10, 2, tzinfo=UTC)
STEP = timedelta(minutes=1)
GOAL_SECONDS = 3.0


def synthetic(n: int, seed: int = 7) -> list[SLOSeries]:
    """N SLOs over MONTH: even ones count events, odd ones are raw ratios; a few outages each."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(MONTH.start + STEP, MONTH.end, freq=STEP, tz=UTC)
    steps = len(index)
    result = []
    for i in range(n):
        bad = np.zeros(steps)
        for _ in range(rng.integers(1, 6)):
            start = int(rng.integers(0, steps - 120))
            bad[start : start + int(rng.integers(2, 90))] = rng.uniform(0.02, 1.0)
        bad += rng.uniform(0, 0.0004, steps)
        labels = {"component": ["haproxy", "pgbouncer", "postgresql-primary", "etcd"][i % 4]}
        if i % 2 == 0:
            total = rng.poisson(200, steps).astype(float)
            frame = pd.DataFrame(
                {"errors": np.floor(total * np.minimum(bad, 1)), "total": total}, index=index
            )
        else:
            frame = pd.DataFrame({"error_ratio": np.minimum(bad, 1)}, index=index)
        holes = rng.integers(0, steps, 30)
        frame.iloc[holes] = np.nan
        result.append(SLOSeries(f"svc{i % 10}-slo{i:03d}", Decimal("0.999"), frame, labels=labels))
    return result


def render_all(report) -> dict[str, float]:
    """Charts and every rendering, timed."""
    times = {}
    t = time.perf_counter()
    charts = render_charts(report.slos)
    times["charts (PNG)"] = time.perf_counter() - t
    t = time.perf_counter()
    to_json(report), to_csv(report), to_text(report), to_html(report, data_uris(charts))
    times["JSON + CSV + text + HTML"] = time.perf_counter() - t
    t = time.perf_counter()
    message = build_message(report, charts, sender="nines@example.com", recipient="ops@example.com")
    size = len(message.as_bytes())
    times["MIME mail"] = time.perf_counter() - t
    times["mail bytes"] = size
    return times


def in_memory(n: int) -> dict[str, float]:
    """Phase 1."""
    series = synthetic(n)
    start = time.perf_counter()
    report = build_report(MONTH, series, NOW, ReportOptions(step=STEP))
    times = {"maths": time.perf_counter() - start}
    times.update(render_all(report))
    times["total"] = time.perf_counter() - start
    times["incidents"] = sum(len(slo.incidents) for slo in report.slos)
    return times


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backfill(n: int) -> Path:
    """N gauges (one sample a minute, a day of margin on each side) as TSDB blocks."""
    data = WORK / "data"
    shutil.rmtree(WORK, ignore_errors=True)
    data.mkdir(parents=True)
    om = WORK / "history.om"
    rng = np.random.default_rng(11)
    first = int((MONTH.start - timedelta(days=1)).timestamp())
    last = int((MONTH.end + timedelta(days=1)).timestamp())
    stamps = np.arange(first, last + 1, 60)
    with om.open("w", encoding="utf-8") as out:
        out.write("# TYPE bench_error_ratio gauge\n")
        for i in range(n):
            value = np.zeros(len(stamps))
            for _ in range(3):
                s = int(rng.integers(0, len(stamps) - 100))
                value[s : s + int(rng.integers(2, 60))] = 1.0
            prefix = f'bench_error_ratio{{slo="{i}"}} '
            out.writelines(f"{prefix}{v:g} {t}\n" for t, v in zip(stamps, value, strict=True))
        out.write("# EOF\n")
    cmd = [
        "promtool",
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "--max-block-duration=168h",
        str(om),
        str(data),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    om.unlink()
    return data


def write_specs(n: int) -> Path:
    """Sloth specs of the N raw-ratio SLOs."""
    folder = WORK / "slos"
    folder.mkdir(parents=True, exist_ok=True)
    slos = "".join(
        f"  - name: slo{i:03d}\n    objective: 99.9\n    sli:\n      raw:\n"
        f'        error_ratio_query: avg_over_time(bench_error_ratio{{slo="{i}"}}[{{{{.window}}}}])\n'
        "    alerting:\n      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n"
        for i in range(n)
    )
    (folder / "bench.yml").write_text(
        f"version: prometheus/v1\nservice: bench\nslos:\n{slos}", encoding="utf-8"
    )
    return folder


@dataclass
class Profile:
    """One measured run: CPU seconds of sloapi's parts and of Prometheus, and the replay."""

    wall: float
    sloapi_cpu: float
    prometheus_cpu: float
    parts: dict[str, float]
    calls: dict[str, int]
    replay: Replay


def start_prometheus(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on `data` at a free loopback port, ready."""
    port = free_port()
    log = (WORK / "prometheus.log").open("wb")
    (WORK / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={WORK / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
         "--storage.tsdb.retention.time=3650d", f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("Prometheus did not get ready")


@contextmanager
def report_service(url: str, specs: Path) -> Iterator[Any]:
    """A `ReportService` on `url` with a fresh client and database."""
    from sloapi.config import Settings
    from sloapi.prometheus import PromClient
    from sloapi.reports.service import ReportService
    from sloapi.specs import load_dir
    from sloapi.storage.db import make_engine, make_session_factory
    from sloapi.storage.migrate import upgrade

    db = WORK / "bench.db"
    db.unlink(missing_ok=True)
    settings = Settings(
        prometheus_url=url, database_url=f"sqlite:///{db}", slos_dir=specs, report_timezone="UTC"
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    prom = PromClient.from_settings(settings)
    try:
        yield ReportService(
            settings, load_dir(settings.slos_dir), prom, make_session_factory(engine), clock=lambda: NOW
        )
    finally:
        prom.close()
        engine.dispose()


def report_once(url: str, specs: Path) -> dict[str, float]:
    """One end-to-end report: stage times."""
    with report_service(url, specs) as service:
        start = time.perf_counter()
        report = service.compute(MONTH)
        times = {"fetch + maths": time.perf_counter() - start}
        times.update(render_all(report))
        times["total"] = time.perf_counter() - start
    times["coverage"] = min(slo.coverage_ratio for slo in report.slos)
    times["incidents"] = sum(len(slo.incidents) for slo in report.slos)
    return times


def measured_run(url: str, pid: int, specs: Path) -> Profile:
    """One more fetch + maths, measured (`profile.Meter`), then its range requests replayed."""
    with report_service(url, specs) as service, Meter().watching() as meter:
        prom_cpu, own_cpu = process_cpu(pid), time.process_time()
        start = time.perf_counter()
        service.compute(MONTH)
        wall = time.perf_counter() - start
        prom_cpu, own_cpu = process_cpu(pid) - prom_cpu, time.process_time() - own_cpu
    return Profile(wall, own_cpu, prom_cpu, dict(meter.cpu), dict(meter.calls), replay(url, meter.ranges))


def end_to_end(n: int, runs: int) -> tuple[dict[str, float], Profile]:
    """Phase 2: stage medians over `runs` reports, and one measured run."""
    start = time.perf_counter()
    data = backfill(n)
    prep = time.perf_counter() - start
    specs = write_specs(n)
    proc, url = start_prometheus(data)
    try:
        samples = [report_once(url, specs) for _ in range(runs)]
        times = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
        times["backfill (setup, not timed)"] = prep
        return times, measured_run(url, proc.pid, specs)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _shown(stage: str, value: float) -> str:
    if stage == "mail bytes":
        return f"{value:,.0f}"
    if stage == "incidents":
        return f"{value:.0f}"
    return f"{value:.3f}"


def print_table(rows: list[tuple[str, dict[str, float]]]) -> None:
    """The stage table."""
    print("| run | stage | seconds |")
    print("|---|---|---:|")
    for name, times in rows:
        for stage, value in times.items():
            print(f"| {name} | {stage} | {_shown(stage, value)} |")


def print_profile(p: Profile) -> None:
    """Where the time of fetch + maths goes (the measured run)."""
    r = p.replay
    cpus = os.cpu_count() or 1
    rest = p.sloapi_cpu - sum(p.parts.values())
    print(f"\n**Where fetch + maths goes** (one more run, measured: {p.wall:.2f} s wall):\n")
    print("| part | CPU seconds | calls |")
    print("|---|---:|---:|")
    for part in ("HTTP", "decoding", "maths"):
        print(f"| sloapi: {part} | {p.parts.get(part, 0.0):.3f} | {p.calls.get(part, 0):,} |")
    print(f"| sloapi: the rest (series, threads, pandas) | {max(rest, 0.0):.3f} | |")
    print(f"| sloapi: whole process | {p.sloapi_cpu:.3f} | |")
    print(f"| Prometheus: whole process | {p.prometheus_cpu:.3f} | |")
    print(
        f"\nThe report sent {r.requests:,} range requests answering {r.points:,} points "
        f"({r.bytes / 1e6:.1f} MB of JSON). Sent again one at a time: {r.wall:.2f} s, of which "
        f"Prometheus's own evaluation (`stats=all`, `evalTotalTime`) {r.evaluation:.2f} s; the rest "
        "is its JSON encoding and the HTTP exchange. sloapi and Prometheus together used "
        f"{p.sloapi_cpu + p.prometheus_cpu:.2f} s of CPU: on this machine's {cpus} CPUs, at least "
        f"{(p.sloapi_cpu + p.prometheus_cpu) / cpus:.2f} s of wall time even with both always busy."
    )


def print_verdict(prom: dict[str, float], p: Profile) -> None:
    """The 3 s goal: met, or by how much it is missed and what bounds it."""
    total = prom["total"]
    after = total - prom["fetch + maths"]
    if total < GOAL_SECONDS:
        print(
            f"\n**Goal met**: 100 SLOs from Prometheus end to end in {total:.2f} s "
            f"(goal under {GOAL_SECONDS:.0f} s; median of the runs)."
        )
        return
    over = total - GOAL_SECONDS
    cpu = p.sloapi_cpu + p.prometheus_cpu
    cpus = os.cpu_count() or 1
    print(
        f"\n**Goal not reached**: 100 SLOs from Prometheus end to end in {total:.2f} s, "
        f"{over:.2f} s ({total / GOAL_SECONDS:.2f}x) over the {GOAL_SECONDS:.0f} s goal. Charts, "
        f"renderings and mail take {after:.2f} s after the fetch. Fetch + maths "
        f"({prom['fetch + maths']:.2f} s) is bounded by CPU: sloapi's process needs "
        f"{p.sloapi_cpu:.2f} s (HTTP {p.parts.get('HTTP', 0.0):.2f} s, decoding "
        f"{p.parts.get('decoding', 0.0):.2f} s, maths {p.parts.get('maths', 0.0):.2f} s) and "
        f"Prometheus's {p.prometheus_cpu:.2f} s, {cpu:.2f} s together on {cpus} CPUs shared with "
        "whatever else the machine runs (profile below)."
    )


def main() -> int:
    """Run and print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-prometheus", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    started = datetime.now(UTC)
    rows = [("in memory", in_memory(args.slos))]
    profile = None
    if not args.no_prometheus:
        prom, profile = end_to_end(args.slos, args.runs)
        rows.append(("from Prometheus", prom))
    steps = int(MONTH.seconds // 60)
    print(
        f"`python bench/reports/run.py` ({started:%Y-%m-%d %H:%M} UTC, load average {load[0]:.2f} "
        f"before the run, {os.getloadavg()[0]:.2f} after): {args.slos} SLOs, {MONTH.title} "
        f"({steps:,} one-minute steps each); from Prometheus: medians of {args.runs} runs, "
        "each with a fresh client.\n"
    )
    print_table(rows)
    if profile is not None:
        print_verdict(rows[1][1], profile)
        print_profile(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
