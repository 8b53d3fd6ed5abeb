"""Benchmark of the SLO service against slo-generator on the same Prometheus.

1. `GET /api/v1/slos/{id}/status?window=30d` for one SLO over raw data only (31 days of
   30-second samples backfilled with promtool), computed at 1-minute resolution, alternating
   with slo-generator 2.6.0 (bench/.venv-slogen) computing the same SLO; Prometheus's CPU per
   answer and its own time per query (`status_profile.py`).
2. `GET /api/v1/slos` for N SLOs (default 1,000) whose recording rules run in Prometheus
   (the raw counters come from a small live exporter in this process), and slo-generator
   computing the same SLOs from the same Prometheus.

Usage: .venv/bin/python bench/sloapi/run.py [--slos 1000] [--repeat 9]
Prints the Markdown section of bench/README.md. Work files go to bench/.work/sloapi/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml

from stack import history
from stack.history import Prometheus, Series
from stack.throwaway import free_port, stop, wait_for

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # `bench.…` when run as a script, as bench/tsdb/run.py imports this

from bench.sloapi.status_profile import sloapi_parts, slogen_ms  # noqa: E402

WORK = REPO / "bench" / ".work" / "sloapi"
SLOGEN = REPO / "bench" / ".venv-slogen" / "bin" / "python"
DAY = 86400
NOT_YET = (httpx.HTTPError, ValueError, KeyError)  # errors of a service still starting


def slo_ids(n: int) -> list[tuple[str, str]]:
    """(service, name) of the N benchmark SLOs: 10 services x N/10."""
    return [(f"svc{i % 10}", f"slo{i:04d}") for i in range(n)]


def write_specs(n: int) -> tuple[Path, Path]:
    """Sloth specs of the N listed SLOs and of the raw one, in two folders."""
    listed, raw = WORK / "slos", WORK / "slos-raw"
    for folder in (listed, raw):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    by_service: dict[str, list[dict]] = {}
    for service, name in slo_ids(n):
        sel = f'slo="{service}-{name}"'
        by_service.setdefault(service, []).append(
            {
                "name": name,
                "objective": 99.9,
                "sli": {
                    "events": {
                        "error_query": f'sum(rate(bench_requests_total{{{sel},code="5xx"}}'
                        "[{{.window}}]))",
                        "total_query": f"sum(rate(bench_requests_total{{{sel}}}[{{{{.window}}}}]))",
                    }
                },
                "alerting": {"name": "BenchBurn"},
            }
        )
    for service, slos in by_service.items():
        doc = {"version": "prometheus/v1", "service": service, "slos": slos}
        (listed / f"{service}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    raw_doc = {
        "version": "prometheus/v1",
        "service": "raw",
        "slos": [
            {
                "name": "availability",
                "objective": 99.9,
                "sli": {
                    "events": {
                        "error_query": 'sum(rate(bench_raw_requests_total{code="5xx"}[{{.window}}]))',
                        "total_query": "sum(rate(bench_raw_requests_total[{{.window}}]))",
                    }
                },
            }
        ],
    }
    (raw / "raw.yml").write_text(yaml.safe_dump(raw_doc, sort_keys=False))
    return listed, raw


def raw_history(end: int) -> list[Series]:
    """31 days of 30-second samples of `bench_raw_requests_total` (errors triple at 03:00)."""
    start = end - 31 * DAY

    def samples(code: str, per_step: float) -> Iterator[tuple[float, float | None]]:
        value = 0.0
        for ts in range(start, end + 1, 30):
            yield ts, value
            value += per_step * (3 if (ts // 3600) % 24 == 3 and code == "5xx" else 1)

    return [
        ("bench_raw_requests_total", "counter", {"code": code}, samples(code, per_step))
        for code, per_step in (("2xx", 300.0), ("5xx", 0.3))
    ]


class LiveCounters(BaseHTTPRequestHandler):
    """Serves `bench_requests_total{slo,code}` for every SLO, growing with time."""

    ids: list[str] = []
    started = time.time()

    def do_GET(self) -> None:
        elapsed = time.time() - self.started
        lines = ["# TYPE bench_requests_total counter"]
        for i, slo in enumerate(self.ids):
            ok = 10.0 * elapsed
            bad = (0.001 + (i % 7) * 0.002) * 10.0 * elapsed
            lines.append(f'bench_requests_total{{slo="{slo}",code="2xx"}} {ok:.3f}')
            lines.append(f'bench_requests_total{{slo="{slo}",code="5xx"}} {bad:.3f}')
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


def write_prometheus_config(rules: Path | None, exporter_port: int) -> Path:
    """Scrape the live counters every 10 s; evaluate `rules` when given."""
    config = WORK / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "10s", "evaluation_interval": "30s"},
                "rule_files": [str(rules)] if rules else [],
                "scrape_configs": [
                    {
                        "job_name": "bench",
                        "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
                    }
                ],
            }
        )
    )
    return config


def start_prometheus(data: Path, rules: Path | None, exporter_port: int) -> Prometheus:
    """Prometheus on the backfilled data, scraping the live counters (see the config above)."""
    config = write_prometheus_config(rules, exporter_port)
    return history.start_prometheus(
        config, data, WORK / "prometheus.log", ["--web.enable-lifecycle"], timeout=600
    )


def count(url: str, query: str) -> int:
    """Value of `count(query)` now (0 when empty)."""
    result = httpx.get(f"{url}/api/v1/query", params={"query": f"count({query})"}, timeout=30)
    data = result.json()["data"]["result"]
    return int(float(data[0]["value"][1])) if data else 0


def start_sloapi(slos: Path, prom: str, name: str) -> tuple[subprocess.Popen, str]:
    """`sloapi serve` on a free port."""
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "SLOAPI_DATABASE_URL": f"sqlite:///{WORK / (name + '.db')}",
        "SLOAPI_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "sloapi"), "serve", "--slos", str(slos),
         "--prometheus-url", prom, "--port", str(port)],
        env=env, stdin=subprocess.DEVNULL, stdout=(WORK / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: httpx.get(f"{url}/healthz", timeout=5).status_code == 200,
        300,
        f"{name} ready",
        ignore=NOT_YET,
    )
    return proc, url


def _ok(response: httpx.Response) -> None:
    """Raise with what the service said when it did not answer 200."""
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url}: HTTP {response.status_code}: {response.text[:500]}")


def timed_get(url: str, params: dict, repeat: int) -> tuple[list[float], dict]:
    """Wall times of `repeat` GETs (after one warm-up) and the last body."""
    times, body = [], {}
    with httpx.Client(timeout=120) as client:
        _ok(client.get(url, params=params))
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, params=params)
            times.append(time.perf_counter() - started)
            _ok(response)
            body = response.json()
    return times, body


def write_slogen(n: int, prom: str) -> tuple[Path, Path, Path]:
    """slo-generator configs for the same SLOs (all of them, and the raw one)."""
    base = WORK / "slogen"
    shutil.rmtree(base, ignore_errors=True)
    listed, raw = base / "slos", base / "raw"
    listed.mkdir(parents=True)
    raw.mkdir()
    shared = base / "config.yaml"
    shared.write_text(
        yaml.safe_dump(
            {
                "backends": {"prometheus": {"url": prom}},
                "exporters": {},
                "error_budget_policies": {
                    "default": {
                        "steps": [
                            {"name": "30 days", "burn_rate_threshold": 1, "alert": False,
                             "message_alert": "burning", "message_ok": "ok",
                             "window": 30 * DAY},
                        ]
                    }
                },
            }
        )
    )  # fmt: skip

    def slo(name: str, good: str, valid: str) -> dict:
        return {
            "apiVersion": "sre.google.com/v2",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "labels": {"service_name": "bench", "slo_name": name}},
            "spec": {
                "description": name,
                "backend": "prometheus",
                "method": "good_bad_ratio",
                "exporters": [],
                "service_level_indicator": {"filter_good": good, "filter_valid": valid},
                "goal": 0.999,
            },
        }

    for service, name in slo_ids(n):
        sid = f"{service}-{name}"
        doc = slo(sid, f'bench_requests_total{{slo="{sid}",code="2xx"}}',
                  f'bench_requests_total{{slo="{sid}"}}')  # fmt: skip
        (listed / f"{sid}.yaml").write_text(yaml.safe_dump(doc))
    doc = slo("raw-availability", 'bench_raw_requests_total{code="2xx"}', "bench_raw_requests_total")
    (raw / "raw.yaml").write_text(yaml.safe_dump(doc))
    return listed, raw, shared


def run_slogen(folder: Path, shared: Path, repeat: int) -> list[float]:
    """Wall times of slo-generator computing every config of `folder`."""
    out = subprocess.run(
        [str(SLOGEN), str(Path(__file__).with_name("slogen_driver.py")), str(folder),
         str(shared), str(repeat)],
        check=True, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    return list(json.loads(out.stdout.strip().splitlines()[-1])["runs"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Alternated:
    """One raw status and slo-generator's run of the same SLO, alternately, `rounds` times."""

    sloapi: list[float] = field(default_factory=list)
    slogen: list[float] = field(default_factory=list)
    prom_cpu: dict[str, float] = field(default_factory=lambda: {"sloapi": 0.0, "slogen": 0.0})
    api_cpu: float = 0.0
    status: dict = field(default_factory=dict)


def alternate(
    url: str, params: dict, slogen: tuple[Path, Path], pids: tuple[int, int], rounds: int
) -> Alternated:
    """`rounds` x (one sloapi status, then slo-generator: four runs, the first a warm-up),
    after one warm-up status; Prometheus's and sloapi's CPU during each."""
    prom_pid, api_pid = pids
    out = Alternated()
    with httpx.Client(timeout=120) as client:
        _ok(client.get(url, params=params))
        for _ in range(rounds):
            prom, api, started = cpu_seconds(prom_pid), cpu_seconds(api_pid), time.perf_counter()
            response = client.get(url, params=params)
            out.sloapi.append(time.perf_counter() - started)
            out.prom_cpu["sloapi"] += cpu_seconds(prom_pid) - prom
            out.api_cpu += cpu_seconds(api_pid) - api
            response.raise_for_status()
            out.status = response.json()
            prom = cpu_seconds(prom_pid)
            out.slogen.append(statistics.median(run_slogen(*slogen, 4)[1:]))
            out.prom_cpu["slogen"] += (cpu_seconds(prom_pid) - prom) / 4
    return out


def has_all(url: str, metric: str, n: int) -> bool:
    """Whether `metric` has `n` series now."""
    return count(url, metric) >= n


def listing(
    prom: Prometheus, rules: Path, listed: Path, args: argparse.Namespace, exporter_port: int, procs: list
) -> tuple[list[float], dict, tuple[float, float]]:
    """Load the SLOs' rules, wait for their first figures, time `GET /api/v1/slos`; Prometheus's
    and sloapi's CPU per listing (Prometheus's includes its rule evaluation meanwhile)."""
    prom_url = prom.url
    write_prometheus_config(rules, exporter_port)
    httpx.post(f"{prom_url}/-/reload", timeout=120).raise_for_status()
    print(f"waiting for {args.slos} SLOs' recording rules...", file=sys.stderr)
    for metric in ("slo:time_period:days", "slo:sli_error:ratio_rate5m",
                   "slo:sli_error:ratio_rate30d", "slo:data_coverage:ratio"):  # fmt: skip
        wait_for(partial(has_all, prom_url, metric, args.slos), 600, metric, step=1, ignore=NOT_YET)
    api, api_url = start_sloapi(listed, prom_url, "sloapi-list")
    procs.append(api)
    prom_cpu, api_cpu = cpu_seconds(prom.process.pid), cpu_seconds(api.pid)
    times, body = timed_get(f"{api_url}/api/v1/slos", {}, args.repeat)
    calls = len(times) + 1  # and the warm-up
    used = ((cpu_seconds(prom.process.pid) - prom_cpu) / calls, (cpu_seconds(api.pid) - api_cpu) / calls)
    return times, body, used


def main() -> None:
    """Run the benchmark and print its Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--slogen-repeat", type=int, default=1)
    parser.add_argument(
        "--rules-interval", type=int, default=60, help="evaluation interval of the SLO rules (s)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    WORK.mkdir(parents=True, exist_ok=True)
    listed, raw = write_specs(args.slos)
    rules = WORK / "slo.rules.yml"
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "sloapi"), "rules", str(listed), "--out", str(rules)],
        check=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "SLOAPI_RULES_INTERVAL_SECONDS": str(args.rules_interval)},
    )  # fmt: skip
    data = WORK / "data"
    shutil.rmtree(data, ignore_errors=True)
    end = int(time.time()) // 60 * 60
    history.backfill(raw_history(end), data)
    LiveCounters.ids = [f"{s}-{n}" for s, n in slo_ids(args.slos)]
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), LiveCounters)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    prom = start_prometheus(data, None, exporter.server_address[1])
    prom_url = prom.url
    procs = [prom.process]
    try:
        # 1. one SLO over raw data, while Prometheus holds no recording rules
        raw_api, raw_url = start_sloapi(raw, prom_url, "sloapi-raw")
        procs.append(raw_api)
        sg_listed, sg_raw, shared = write_slogen(args.slos, prom_url)
        raw_runs = alternate(
            f"{raw_url}/api/v1/slos/raw-availability/status",
            {"window": "30d", "at": str(end)},
            (sg_raw, shared),
            (prom.process.pid, raw_api.pid),
            args.repeat,
        )
        parts, sg_ms = sloapi_parts(prom_url, raw, end), slogen_ms(prom_url, end)
        # 2. all SLOs, with their recording rules loaded and evaluated
        list_times, body, list_cpu = listing(prom, rules, listed, args, exporter.server_address[1], procs)
        print("running slo-generator...", file=sys.stderr)
        sg_list = run_slogen(sg_listed, shared, args.slogen_repeat)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            stop(proc, 60)
        exporter.shutdown()
    listed_runs = (list_times, body, sg_list, list_cpu)
    report(args, (began, load_before, os.getloadavg()), raw_runs, (parts, sg_ms), listed_runs)


def report(
    args: argparse.Namespace,
    when: tuple[str, tuple[float, float, float], tuple[float, float, float]],
    raw: Alternated,
    profile: tuple[dict[str, tuple[int, float]], float],
    listed: tuple[list[float], dict, list[float], tuple[float, float]],
) -> None:
    """Print the section: the table, the goals' verdicts and what bounds the raw status."""
    med = statistics.median
    began, before, after = when
    list_times, body, sg_list, (list_prom_cpu, list_api_cpu) = listed
    sources = ", ".join(sorted({s["source"] for s in body["slos"]}))
    raw_med, sg_med = med(raw.sloapi), med(raw.slogen)
    n = len(raw.sloapi)
    print(f"`python bench/sloapi/run.py`, {began}; load average {before[0]:.2f} before the run, "
          f"{after[0]:.2f} after it (2 CPUs). The raw status and slo-generator alternate, "
          f"{n} rounds.\n")  # fmt: skip
    print(f"| task ({args.slos} SLOs, Prometheus 2.42, this machine) | sloapi | slo-generator 2.6.0 |")
    print("|---|---|---|")
    print(f"| all SLOs' status (sloapi `GET /api/v1/slos`, from recording rules: {sources}; "
          f"slo-generator computes each from raw counters) | {med(list_times):.3f} s median of "
          f"{len(list_times)} | {med(sg_list):.2f} s ({len(sg_list)} run) |")  # fmt: skip
    print(f"| one SLO, 30-day window over raw data, no recording rules loaded (sloapi at 1-minute "
          f"resolution, {raw.status['data']['coverage_ratio']:.4f} coverage, burn rates of 7 windows) "
          f"| {raw_med:.3f} s median of {n} | {sg_med:.3f} s median of {n} |")  # fmt: skip
    print(f"\nsloapi raw status SLI {raw.status['sli']:.6f}; listing returned {body['count']} SLOs\n")
    listing_met = med(list_times) <= 0.2
    print(
        f"- 1,000 statuses from recording rules: {med(list_times):.3f} s, goal (0.2 s) "
        + ("**met**." if listing_met else f"**not met, by {med(list_times) - 0.2:.3f} s**.")
    )
    if not listing_met:
        print(f"  What bounds it: CPU per listing {list_api_cpu * 1000:.0f} ms in sloapi (its instant "
              f"queries' answers of {args.slos} series read, {args.slos} statuses built and encoded) "
              f"and {list_prom_cpu * 1000:.0f} ms in Prometheus (those queries and its rule "
              f"evaluation meanwhile), 2 CPUs shared with the load ({after[0]:.2f} at the end).")  # fmt: skip
    ratio = raw_med / sg_med
    print(
        f"- One SLO over 30 days of raw data: {raw_med:.3f} s against slo-generator's {sg_med:.3f} s, "
        f"{ratio:.2f}x: goal (no slower) "
        + ("**met**." if ratio <= 1 else f"**not met, by {ratio - 1:.0%}**.")
    )
    parts, sg_ms = profile
    prom_cpu = {k: v / n * 1000 for k, v in raw.prom_cpu.items()}
    print("\nWhere one raw status's time goes: Prometheus's own time per query (`stats=all`, "
          "`execTotalTime`, median of five) by what the query is for, and CPU per answer "
          "measured during the rounds above:\n")  # fmt: skip
    print("| | requests | Prometheus time (ms) |\n|---|---:|---:|")
    for name, (count, ms) in parts.items():
        print(f"| sloapi: {name} | {count} | {ms:.1f} |")
    total = sum(ms for _c, ms in parts.values())
    print(f"| sloapi: all | {sum(c for c, _ms in parts.values())} | {total:.1f} |")
    print(f"| slo-generator: `sum(increase(...[30d]))` of good and valid | 2 | {sg_ms:.1f} |\n")
    print(f"Prometheus CPU per answer: {prom_cpu['sloapi']:.0f} ms for sloapi's status, "
          f"{prom_cpu['slogen']:.0f} ms for slo-generator's; sloapi's own CPU "
          f"{raw.api_cpu / n * 1000:.0f} ms per status (HTTP, queries, figures).")  # fmt: skip
    if raw_med > sg_med:
        requests = sum(c for c, _ms in parts.values())
        print(bound((total, requests), sg_ms, raw.api_cpu / n * 1000, after[0]))
    print(DONE)


def bound(sloapi: tuple[float, int], slogen_ms: float, api_cpu_ms: float, load: float) -> str:
    """What bounds the raw status, from the figures measured (`sloapi`: Prometheus ms, requests)."""
    sloapi_ms, requests = sloapi
    common = (f"sloapi's queries take {sloapi_ms:.1f} ms of Prometheus's time against slo-generator's "
              f"{slogen_ms:.1f} ms; sloapi's own CPU is {api_cpu_ms:.0f} ms per status, and every "
              f"process shares the 2 CPUs with the machine's load ({load:.2f} at the end).")  # fmt: skip
    if sloapi_ms > slogen_ms:
        return (f"\nWhat bounds the raw status: Prometheus's evaluation first. {common} The "
                f"{sloapi_ms - slogen_ms:.1f} ms more are the sample counts behind the coverage and "
                "the burn rates slo-generator does not compute; sloapi's queries run concurrently, "
                "slo-generator's two one after the other.")  # fmt: skip
    return (f"\nWhat bounds the raw status: not Prometheus's evaluation. {common} What is left is "
            f"sloapi's own work (an HTTP server, {requests} requests' client work, the answer) and "
            "waiting for a CPU.")  # fmt: skip


DONE = """
How the raw status gets there: the window's errors and total come from the SLI's own queries
over each tile of the window (one instant query a tile, both joined), as slo-generator's
`increase` does; the burn rates of the 7 windows from one instant query. Coverage (the share of
one-minute steps where the SLI has data) comes from counting samples rather than evaluating
43,200 steps: the series of the total query with the most samples now is counted by 20-minute
unit (one range query a tile), and a unit holding the usual count of a scrape interval of at
most half a minute has every step covered. Units where that series is not regular count as
whole when the most samples any series has there is that series' usual count and none has
more; units still irregular (a scrape gap, a stopped target, another interval), and SLIs whose
total query is not `rate`/`increase` of one selector, are counted step by step as before, so a
gap of a few minutes still shows and the figures are those of the step-by-step path."""


if __name__ == "__main__":
    main()
