"""Scrape-time benchmark: our HAProxy exporter vs the Go haproxy_exporter vs HAProxy's promex.

Generates HAProxy configs with N servers (backends of 25), starts haproxy, our exporter and
Debian's `prometheus-haproxy-exporter` on the same stats socket, times full scrapes (median of
--runs after one warm-up; body read in full, no compression) and prints a markdown table.

    python bench/haproxy/bench.py --servers 1000 5000 10000 --runs 7
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from stack.throwaway import free_port, stop, wait_for

PER_BACKEND = 25
GO_EXPORTER = "prometheus-haproxy-exporter"


def haproxy_config(servers: int, sock: Path, promex_port: int, backend_port: int) -> str:
    lines = [
        "global",
        f"    stats socket {sock} mode 600 level admin",
        "    maxconn 1000",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 30s",
        "    timeout server 30s",
        "frontend prom",
        f"    bind 127.0.0.1:{promex_port}",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "frontend web",
        f"    bind 127.0.0.1:{free_port()}",
        "    default_backend be0",
    ]
    for b in range((servers + PER_BACKEND - 1) // PER_BACKEND):
        lines += [f"backend be{b}", "    balance roundrobin"]
        for s in range(min(PER_BACKEND, servers - b * PER_BACKEND)):
            lines.append(f"    server srv{s} 127.0.0.1:{backend_port} weight {1 + s % 10}")
    return "\n".join(lines) + "\n"


def wait_http(url: str, timeout: float = 60) -> None:
    def answers() -> bool:
        with urllib.request.urlopen(url, timeout=5) as resp:
            resp.read()
        return True

    wait_for(answers, timeout, url, ignore=(OSError,))


def scrape(url: str) -> tuple[float, int, int]:
    start = time.perf_counter()
    req = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        body = resp.read()
    return time.perf_counter() - start, len(body), body.count(b"\n")


def timed(url: str, runs: int) -> tuple[float, int, int]:
    scrape(url)  # warm-up
    results = [scrape(url) for _ in range(runs)]
    return statistics.median(r[0] for r in results), results[-1][1], results[-1][2]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def bench_one(servers: int, runs: int, work: Path) -> dict[str, float]:
    sock = work / f"haproxy-{servers}.sock"
    ports = {n: free_port() for n in ("promex", "ours", "go", "backend")}
    cfg = work / f"haproxy-{servers}.cfg"
    cfg.write_text(haproxy_config(servers, sock, ports["promex"], ports["backend"]))
    procs = [start(["haproxy", "-db", "-f", str(cfg)], work / "haproxy.log")]
    try:
        wait_http(f"http://127.0.0.1:{ports['promex']}/metrics")
        ours = start(
            [sys.executable, "-m", "exporters.haproxy", "--haproxy.socket", str(sock),
             "--web.listen-address", f"127.0.0.1:{ports['ours']}", "--haproxy.timeout", "60s"],
            work / "ours.log",
        )  # fmt: skip
        procs.append(ours)
        procs.append(
            start(
                [
                    GO_EXPORTER,
                    f"--haproxy.scrape-uri=unix:{sock}",
                    "--haproxy.timeout=60s",
                    f"--web.listen-address=127.0.0.1:{ports['go']}",
                ],
                work / "go.log",
            )
        )
        wait_http(f"http://127.0.0.1:{ports['ours']}/-/healthy")
        wait_http(f"http://127.0.0.1:{ports['go']}/")
        row: dict[str, float] = {"servers": servers}
        for name in ("ours", "go", "promex"):
            secs, size, lines = timed(f"http://127.0.0.1:{ports[name]}/metrics", runs)
            row[f"{name}_s"], row[f"{name}_mb"], row[f"{name}_lines"] = secs, size / 1e6, lines
        row["ours_rss_mb"] = peak_rss_mb(ours.pid)
        return row
    finally:
        for p in reversed(procs):
            stop(p, 15)


def table(rows: list[dict[str, float]], runs: int) -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    head = (
        f"Machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"median of {runs} full scrapes after one warm-up; load average at the end "
        f"{os.getloadavg()[0]:.1f}.\n\n"
        "| servers | ours (s) | Go exporter (s) | promex (s) | ours / Go | ours lines | Go lines "
        "| promex lines | ours MB | ours peak RSS (MB) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['servers']:,.0f} | {r['ours_s']:.3f} | {r['go_s']:.3f} | {r['promex_s']:.3f} "
        f"| {r['ours_s'] / r['go_s']:.2f} | {r['ours_lines']:,.0f} | {r['go_lines']:,.0f} "
        f"| {r['promex_lines']:,.0f} | {r['ours_mb']:.1f} | {r['ours_rss_mb']:.0f} |\n"
        for r in rows
    )
    return head + body


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", type=int, nargs="+", default=[1000, 5000, 10000])
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    for tool in ("haproxy", GO_EXPORTER):
        if shutil.which(tool) is None:
            print(f"{tool} not installed", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="nines-bench-") as tmp:
        rows = [bench_one(n, max(5, args.runs), Path(tmp)) for n in args.servers]
    print(table(rows, max(5, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
