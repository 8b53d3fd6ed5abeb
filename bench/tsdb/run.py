"""Benchmark of sloapi on each time series database: Prometheus 2.42 and VictoriaMetrics 1.79.

In one run, the same data goes into a throwaway Prometheus (promtool backfill) and a throwaway
victoria-metrics (`/api/v1/import/prometheus`), and sloapi is timed against each:

1. `GET /api/v1/slos` for 1,000 SLOs read from their recorded series (`slo:*`, as the generated
   rules record them; `sloapi serve` from bench/sloapi, the specs of bench/sloapi).
2. The month report of 100 raw-ratio SLOs at 1-minute resolution (`ReportService.compute` with
   the specs and month of bench/reports: range queries chunked under 11,000 points, charts and
   renderings).

Usage: .venv/bin/python bench/tsdb/run.py [--slos 1000] [--report-slos 100] [--repeat 7]
Prints a markdown section. Work files go to bench/.work/tsdb/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.reports import run as reports  # noqa: E402
from bench.sloapi import run as sloapi_bench  # noqa: E402
from sloapi.rules.generate import PERIOD_EVENTS  # noqa: E402
from stack.history import Series, backfill, start_prometheus  # noqa: E402
from stack.throwaway import stop  # noqa: E402
from stack.vmhistory import start_victoria  # noqa: E402

WORK = REPO / "bench" / ".work" / "tsdb"
BURN = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
BACKENDS = ("Prometheus 2.42", "VictoriaMetrics 1.79")


def recorded_series(ids: list[tuple[str, str]], end: int) -> list[Series]:
    """The `slo:*` series the listing reads, for every SLO (its events over the period included:
    without them an event SLO's rules cannot tell no traffic): 10 minutes of 30-second samples."""
    times = range(end - 600, end + 1, 30)
    series: list[Series] = []
    for i, (service, name) in enumerate(ids):
        labels = {"sloth_id": f"{service}-{name}", "sloth_service": service, "sloth_slo": name}
        ratio = 0.0001 * (1 + i % 13)
        values = {"slo:time_period:days": 30.0, "slo:data_coverage:ratio": 0.999,
                  "slo:sli_error:ratio_rate30d": ratio, PERIOD_EVENTS: 2.6e6}  # fmt: skip
        values.update({f"slo:sli_error:ratio_rate{w}": ratio * (1 + j) for j, w in enumerate(BURN)})
        for metric, value in values.items():
            window = metric.rsplit("rate", 1)[1] if "ratio_rate" in metric else "30d"
            series.append((metric, "gauge", {**labels, "sloth_window": window}, [(t, value) for t in times]))
    return series


def month_series(n: int) -> list[Series]:
    """bench/reports' history: N error-ratio gauges, one sample a minute, three outages each."""
    rng = np.random.default_rng(11)
    first = int((reports.MONTH.start - timedelta(days=1)).timestamp())
    last = int((reports.MONTH.end + timedelta(days=1)).timestamp())
    stamps = np.arange(first, last + 1, 60)
    series: list[Series] = []
    for i in range(n):
        value = np.zeros(len(stamps))
        for _ in range(3):
            s = int(rng.integers(0, len(stamps) - 100))
            value[s : s + int(rng.integers(2, 60))] = 1.0
        points = list(zip(stamps.tolist(), value.tolist(), strict=True))
        series.append(("bench_error_ratio", "gauge", {"slo": str(i)}, points))
    return series


@contextmanager
def backends(series: list[Series]) -> Iterator[dict[str, str]]:
    """A Prometheus and a victoria-metrics holding `series`; yields name -> URL."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    with ExitStack() as stack:
        backfill(series, WORK / "prometheus")
        (WORK / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
        prom = start_prometheus(WORK / "prometheus.yml", WORK / "prometheus", WORK / "prometheus.log",
                                timeout=600)  # fmt: skip
        stack.callback(prom.stop)
        vm = start_victoria(WORK / "victoria-metrics", WORK / "victoria-metrics.log")
        stack.callback(vm.stop)
        vm.import_series(series, timeout=1800)
        time.sleep(2)  # the last imported part becomes searchable
        yield dict(zip(BACKENDS, (prom.url, vm.url), strict=True))


def listing(urls: dict[str, str], n: int, end: int, repeat: int) -> dict[str, tuple[list[float], int]]:
    """Wall times of `GET /api/v1/slos` per backend, and how many SLOs came from rules."""
    listed, _raw = sloapi_bench.write_specs(n)
    out = {}
    for name, url in urls.items():
        proc, api = sloapi_bench.start_sloapi(listed, url, "tsdb-" + name.split()[0].lower())
        try:
            times, body = sloapi_bench.timed_get(f"{api}/api/v1/slos", {"at": str(end)}, repeat)
        finally:
            stop(proc, 60)
        out[name] = (times, sum(s["source"] == "rules" and s["sli"] is not None for s in body["slos"]))
    return out


def month_report(url: str, n: int) -> tuple[float, float]:
    """(seconds to fetch and compute the month of N SLOs, lowest coverage)."""
    from sloapi.config import Settings
    from sloapi.prometheus import PromClient
    from sloapi.reports.service import ReportService
    from sloapi.specs import load_dir
    from sloapi.storage.db import make_engine, make_session_factory
    from sloapi.storage.migrate import upgrade

    db = WORK / f"report-{os.getpid()}-{time.monotonic_ns()}.db"
    settings = Settings(prometheus_url=url, database_url=f"sqlite:///{db}", slos_dir=reports.write_specs(n),
                        report_timezone="UTC")  # type: ignore[call-arg]  # fmt: skip
    engine = make_engine(settings.database_url)
    upgrade(engine)
    prom = PromClient.from_settings(settings)
    service = ReportService(
        settings, load_dir(settings.slos_dir), prom, make_session_factory(engine), clock=lambda: reports.NOW
    )
    try:
        started = time.perf_counter()
        report = service.compute(reports.MONTH)
        took = time.perf_counter() - started
    finally:
        prom.close()
        engine.dispose()
    return took, min(slo.coverage_ratio for slo in report.slos)


def timed(func: Callable[[], tuple[float, float]], repeat: int) -> tuple[list[float], float]:
    """`repeat` runs of `func` after one warm-up: their seconds and the last coverage."""
    func()
    runs = [func() for _ in range(repeat)]
    return [r[0] for r in runs], runs[-1][1]


def main() -> int:
    """Run both parts against both backends and print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--report-slos", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--report-repeat", type=int, default=3)
    args = parser.parse_args()
    end = int(time.time()) // 60 * 60
    ids = sloapi_bench.slo_ids(args.slos)
    series = recorded_series(ids, end) + month_series(args.report_slos)
    print(f"loading {sum(1 for _ in series)} series into both backends...", file=sys.stderr, flush=True)
    loaded = time.perf_counter()
    with backends(series) as urls:
        setup = time.perf_counter() - loaded
        lists = listing(urls, args.slos, end, args.repeat)
        months = {name: timed(lambda u=url: month_report(u, args.report_slos), args.report_repeat)
                  for name, url in urls.items()}  # fmt: skip
    med = statistics.median
    header = " | ".join(BACKENDS)
    print(f"| task (one run, same data in both, medians) | {header} |")
    print("|---|---:|---:|")
    cells = " | ".join(f"{med(lists[b][0]):.3f} s ({lists[b][1]:,} from rules)" for b in BACKENDS)
    print(f"| `GET /api/v1/slos`, {args.slos:,} SLOs from recorded `slo:*` series, "
          f"median of {args.repeat} | {cells} |")  # fmt: skip
    cells = " | ".join(f"{med(months[b][0]):.2f} s (coverage {months[b][1]:.4f})" for b in BACKENDS)
    print(f"| month report fetch + maths, {args.report_slos} SLOs x 43,200 one-minute steps "
          f"({reports.MONTH.title}), median of {args.report_repeat} | {cells} |")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nVictoriaMetrics runs without its response cache (`-search.disableCache`, as the stack runs it "
          f"for sloapi's grids, docs/scale.md); Prometheus with its defaults. Loading the data into both "
          f"took {setup:.0f} s (not timed). Load average at the end {load} "
          "(2 CPUs shared with other work).")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
