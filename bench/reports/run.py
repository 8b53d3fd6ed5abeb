"""Benchmark of the monthly report: 100 SLOs, a 30-day month at 1-minute resolution, PNGs included.

1. In memory: per-step series of every SLO already in pandas (half event SLIs, half raw ratio
   SLIs, with outages); times the maths, the 100 PNG charts, JSON/CSV/text/HTML and the MIME mail.
2. End to end (skip with --no-prometheus): the same number of SLOs as raw-ratio gauges backfilled
   into a throwaway Prometheus (promtool, 168h blocks), then `ReportService.compute` fetching every
   SLO's month from it (range queries chunked under 11,000 points) plus charts and renderings.

Usage: .venv/bin/python bench/reports/run.py [--slos 100] [--no-prometheus]
Prints a markdown table (and whether the 20 s target is met). Work files: bench/.work/reports/.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(REPO))

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


def render_all(report) -> dict[str, float]:  # type: ignore[no-untyped-def]
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


def end_to_end(n: int) -> dict[str, float]:
    """Phase 2."""
    from sloapi.config import Settings
    from sloapi.prometheus import PromClient
    from sloapi.reports.service import ReportService
    from sloapi.specs import load_dir
    from sloapi.storage.db import make_engine, make_session_factory
    from sloapi.storage.migrate import upgrade

    t = time.perf_counter()
    data = backfill(n)
    prep = time.perf_counter() - t
    port = free_port()
    log = (WORK / "prometheus.log").open("wb")
    (WORK / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={WORK / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
         "--storage.tsdb.retention.time=3650d", f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        settings = Settings(
            prometheus_url=url, database_url=f"sqlite:///{WORK / 'bench.db'}",
            slos_dir=write_specs(n), report_timezone="UTC",
        )  # fmt: skip
        engine = make_engine(settings.database_url)
        upgrade(engine)
        prom = PromClient.from_settings(settings)
        service = ReportService(
            settings, load_dir(settings.slos_dir), prom, make_session_factory(engine), clock=lambda: NOW
        )
        start = time.perf_counter()
        report = service.compute(MONTH)
        times = {"fetch + maths": time.perf_counter() - start}
        times.update(render_all(report))
        times["total"] = time.perf_counter() - start
        times["backfill (setup, not timed)"] = prep
        times["coverage"] = min(slo.coverage_ratio for slo in report.slos)
        prom.close()
        engine.dispose()
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def main() -> int:
    """Run and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=100)
    parser.add_argument("--no-prometheus", action="store_true")
    args = parser.parse_args()
    rows = [("in memory", in_memory(args.slos))]
    if not args.no_prometheus:
        rows.append(("from Prometheus", end_to_end(args.slos)))
    steps = int(MONTH.seconds // 60)
    print(f"Monthly report, {args.slos} SLOs, {MONTH.title} ({steps:,} one-minute steps each)\n")
    print("| run | stage | seconds |")
    print("|---|---|---:|")
    for name, times in rows:
        for stage, value in times.items():
            shown = (
                f"{value:,.0f}"
                if stage == "mail bytes"
                else f"{value:.3f}"
                if stage != "incidents"
                else f"{value:.0f}"
            )
            print(f"| {name} | {stage} | {shown} |")
    worst = max(times["total"] for _, times in rows)
    verdict = "met" if worst < 20 else "NOT met"
    print(f"\nSlowest total: {worst:.1f} s (target under 20 s: {verdict}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
