"""Scrape-time benchmark: our HAProxy exporter vs HAProxy's promex vs the Go haproxy_exporter.

Generates HAProxy configs with N servers (backends of 25), starts haproxy, our exporter and
Debian's `prometheus-haproxy-exporter` on the same stats socket, then:

1. scrapes the three in rounds, interleaved (the order rotates each round, so load on a shared
   machine falls on all alike), each once without compression and once with
   `Accept-Encoding: gzip` as Prometheus asks; medians after one warm-up. The body is read in
   full; CPU seconds are the exporter process's own (HAProxy's for promex) per scrape;
2. runs a real Prometheus scraping the three at the same interval (`bench/haproxy/prom.py`)
   and reads back its `scrape_duration_seconds` and `scrape_body_size_bytes`.

    python bench/haproxy/bench.py --servers 1000 5000 10000 --rounds 9 --prometheus 90
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prom import INTERVAL, measure
from stages import BUILD, DECODE, GZIP, PARSE, READ, RENDER, SEQUENTIAL, STREAMED, ZLIB, stages

from stack.throwaway import free_port, stop, wait_for

PER_BACKEND = 25
GO_EXPORTER = "prometheus-haproxy-exporter"
NAMES = ("ours", "promex", "go")
GOAL_SIZES = (5000, 10000)
# promex families the stats socket cannot give (zlib builds only) or that we name with `_total`
NOT_DERIVED = {"haproxy_process_current_zlib_memory", "haproxy_process_max_zlib_memory"}
RENAMED = {"haproxy_process_failed_resolutions": "haproxy_process_failed_resolutions_total"}


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


@dataclass
class Runs:
    """One exporter's measurements over the rounds."""

    secs: list[float] = field(default_factory=list)
    gz_secs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    gz_cpu: list[float] = field(default_factory=list)
    haproxy_cpu: list[float] = field(default_factory=list)  # HAProxy's CPU during the plain scrapes
    body: bytes = b""
    wire: int = 0
    gz_wire: int = 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(url: str, gz: bool, pid: int, haproxy: int) -> tuple[float, float, float, bytes, int]:
    """(seconds, CPU seconds of `pid`, CPU seconds of HAProxy, body, bytes on the wire) of one
    full scrape.

    With `gz` the body read is compressed if the exporter chose to compress it.
    """
    headers = {"Accept-Encoding": "gzip" if gz else "identity"}
    cpu, haproxy_cpu = cpu_seconds(pid), cpu_seconds(haproxy)
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as resp:
        body = resp.read()
        encoded = resp.headers.get("Content-Encoding") == "gzip"
        if gz and encoded:
            gzip.decompress(body)  # check it is whole (not timed)
    took = time.perf_counter() - start
    used, haproxy_used = cpu_seconds(pid) - cpu, cpu_seconds(haproxy) - haproxy_cpu
    if encoded and not gz:
        raise RuntimeError(f"{url}: compressed although not asked")
    return took, used, haproxy_used, body, len(body)


def rounds(urls: dict[str, str], pids: dict[str, int], count: int) -> dict[str, Runs]:
    """Scrape every exporter `count` times each way, the order rotating every round."""
    runs = {name: Runs() for name in urls}
    haproxy = pids["promex"]
    for name, url in urls.items():  # warm-up
        scrape(url, False, pids[name], haproxy)
    for r in range(count):
        order = list(urls)[r % len(urls) :] + list(urls)[: r % len(urls)]
        for name in order:
            took, cpu, haproxy_cpu, body, wire = scrape(urls[name], False, pids[name], haproxy)
            run = runs[name]
            run.secs.append(took)
            run.cpu.append(cpu)
            run.haproxy_cpu.append(haproxy_cpu)
            run.body, run.wire = body, wire
            took, cpu, _, _, wire = scrape(urls[name], True, pids[name], haproxy)
            run.gz_secs.append(took)
            run.gz_cpu.append(cpu)
            run.gz_wire = wire
    return runs


def families(body: bytes) -> dict[str, str]:
    """Family name -> type."""
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def missing(promex: bytes, ours: bytes) -> list[str]:
    """promex families absent from ours (same type), after the documented exceptions."""
    mine = families(ours)
    return [
        name
        for name, kind in families(promex).items()
        if name not in NOT_DERIVED and mine.get(RENAMED.get(name, name)) != kind
    ]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def bench_one(servers: int, count: int, prom_seconds: float, work: Path) -> dict[str, object]:
    sock = work / f"haproxy-{servers}.sock"
    ports = {n: free_port() for n in ("promex", "ours", "go", "backend")}
    cfg = work / f"haproxy-{servers}.cfg"
    cfg.write_text(haproxy_config(servers, sock, ports["promex"], ports["backend"]))
    haproxy = start(["haproxy", "-db", "-f", str(cfg)], work / "haproxy.log")
    procs = [haproxy]
    try:
        wait_http(f"http://127.0.0.1:{ports['promex']}/metrics")
        ours = start(
            [sys.executable, "-m", "exporters.haproxy", "--haproxy.socket", str(sock),
             "--web.listen-address", f"127.0.0.1:{ports['ours']}", "--haproxy.timeout", "60s"],
            work / "ours.log",
        )  # fmt: skip
        go = start(
            [GO_EXPORTER, f"--haproxy.scrape-uri=unix:{sock}", "--haproxy.timeout=60s",
             f"--web.listen-address=127.0.0.1:{ports['go']}"],
            work / "go.log",
        )  # fmt: skip
        procs += [ours, go]
        wait_http(f"http://127.0.0.1:{ports['ours']}/-/healthy")
        wait_http(f"http://127.0.0.1:{ports['go']}/")
        urls = {n: f"http://127.0.0.1:{ports[n]}/metrics" for n in NAMES}
        pids = {"ours": ours.pid, "promex": haproxy.pid, "go": go.pid}
        print(f"bench: {servers} servers, {count} rounds ...", file=sys.stderr, flush=True)
        runs = rounds(urls, pids, count)
        row: dict[str, object] = {"servers": servers, "runs": runs, "rss": peak_rss_mb(ours.pid)}
        row["missing"] = missing(runs["promex"].body, runs["ours"].body)
        row["stages"] = stages(sock)
        if prom_seconds > 0:
            print(f"bench: Prometheus for {prom_seconds:.0f}s ...", file=sys.stderr, flush=True)
            row["prom"] = measure(
                {n: f"127.0.0.1:{ports[n]}" for n in NAMES}, prom_seconds, work / "prometheus.log"
            )
        row["rss_after_prom"] = peak_rss_mb(ours.pid)
        return row
    finally:
        for p in reversed(procs):
            stop(p, 15)


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


def machine(rounds_: int) -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"Machine: {cpu}, {os.cpu_count()} CPUs (`nproc` {os.cpu_count()}), Python "
        f"{platform.python_version()}; shared with other work: load average {load} at the end "
        f"of the run. Each exporter scraped {rounds_} times each way after one warm-up, the three "
        "interleaved in every round (order rotating), so the load falls on all alike; medians.\n"
    )


def scrape_table(rows: list[dict[str, object]]) -> str:
    out = [
        "| servers | ours (s) | promex (s) | Go exporter (s) | ours / promex | ours / Go "
        "| ours CPU (s) | promex CPU (s) | ours lines | promex lines | Go lines "
        "| ours families | promex families | promex families missing from ours | ours peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        runs: dict[str, Runs] = r["runs"]  # type: ignore[assignment]
        o, p, g = runs["ours"], runs["promex"], runs["go"]
        lines = [x.body.count(b"\n") for x in (o, p, g)]
        miss = ", ".join(r["missing"]) or "none"  # type: ignore[arg-type]
        out.append(
            f"| {r['servers']:,} | {_med(o.secs):.3f} | {_med(p.secs):.3f} | {_med(g.secs):.3f} "
            f"| {_med(o.secs) / _med(p.secs):.2f} | {_med(o.secs) / _med(g.secs):.2f} "
            f"| {_med(o.cpu):.3f} | {_med(p.cpu):.3f} "
            f"| {lines[0]:,} | {lines[1]:,} | {lines[2]:,} "
            f"| {len(families(o.body))} | {len(families(p.body))} | {miss} | {r['rss']:.0f} |"
        )
    return "\n".join(out) + "\n"


def gzip_table(rows: list[dict[str, object]]) -> str:
    out = [
        "| servers | exporter | plain (s) | gzip asked (s) | plain MB | on the wire with gzip (MB) "
        "| CPU plain (s) | CPU gzip asked (s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"ours": "ours", "promex": "promex", "go": "Go exporter"}
    for r in rows:
        runs: dict[str, Runs] = r["runs"]  # type: ignore[assignment]
        for name in NAMES:
            x = runs[name]
            out.append(
                f"| {r['servers']:,} | {labels[name]} | {_med(x.secs):.3f} | {_med(x.gz_secs):.3f} "
                f"| {x.wire / 1e6:.1f} | {x.gz_wire / 1e6:.1f} | {_med(x.cpu):.3f} | {_med(x.gz_cpu):.3f} |"
            )
    return "\n".join(out) + "\n"


def stages_table(rows: list[dict[str, object]]) -> str:
    sizes = " | ".join(f"{r['servers']:,} servers (ms)" for r in rows)
    out = [f"| stage | {sizes} |", "|---|" + "---:|" * len(rows)]
    first: dict[str, float] = rows[0]["stages"]  # type: ignore[assignment]
    for stage in first:
        cells = " | ".join(f"{r['stages'][stage] * 1000:.1f}" for r in rows)  # type: ignore[index]
        out.append(f"| {stage} | {cells} |")
    return "\n".join(out) + "\n"


def goals(rows: list[dict[str, object]]) -> str:
    """One line per size: the goals against promex, met or missed by how much."""
    out = []
    for r in rows:
        runs: dict[str, Runs] = r["runs"]  # type: ignore[assignment]
        ratio = _med(runs["ours"].secs) / _med(runs["promex"].secs)
        cpu = _med(runs["ours"].cpu) / max(_med(runs["promex"].cpu), 1e-9)
        time_goal = "met" if ratio <= 1 else f"missed by {ratio - 1:.0%}"
        rss = r["rss"]
        rss_goal = "met" if rss < 60 else f"missed by {rss - 60:.0f} MB"  # type: ignore[operator]
        fams = "met" if not r["missing"] else "missed"
        gz = _med(runs["ours"].gz_secs) / _med(runs["promex"].gz_secs)
        prom: dict[str, dict[str, float]] | None = r.get("prom")  # type: ignore[assignment]
        seen = (
            f", as Prometheus sees it {prom['ours']['median_s'] / prom['promex']['median_s']:.2f}"
            if prom and prom["promex"]["median_s"] > 0
            else ""
        )
        out.append(
            f"- {r['servers']:,} servers: scrape no longer than promex's {time_goal} "
            f"(ours / promex {ratio:.2f} in time, {cpu:.2f} in CPU; with gzip asked {gz:.2f}{seen}); "
            f"at least promex's families {fams}; peak RSS under 60 MB {rss_goal} ({rss:.0f} MB)"
            + ("." if r["servers"] in GOAL_SIZES else " (not a size the goals name).")
        )
    explained = [r for r in rows if r["servers"] in GOAL_SIZES] or rows[-1:]
    out += ["\n" + bounds(r) for r in explained]
    return "\n".join(out) + "\n"


def bounds(row: dict[str, object]) -> str:
    """What bounds our scrape at one size, from the stages measured on that HAProxy."""
    st = {k: v * 1000 for k, v in row["stages"].items()}  # type: ignore[attr-defined]
    runs: dict[str, Runs] = row["runs"]  # type: ignore[assignment]
    work = st[DECODE] + st[PARSE] + st[BUILD]
    could = min(st[READ], work)
    ours, promex = runs["ours"], runs["promex"]
    saved = st[SEQUENTIAL] - st[STREAMED]
    overlapped = (
        f"{saved:.0f} ms less than one after the other (HAProxy's dump and our {work:.0f} ms overlap)"
        if saved >= 0.5
        else f"no less than one after the other (of the {could:.0f} ms that could overlap, none did)"
    )
    total = (_med(ours.cpu) + _med(ours.haproxy_cpu)) * 1000
    ours_stages = {k: st[k] for k in (DECODE, PARSE, BUILD, RENDER)}
    largest = max(ours_stages, key=ours_stages.__getitem__)
    return (
        f"What bounds it, at {row['servers']:,} servers (stage profile below): HAProxy takes "
        f"{st[READ]:.0f} ms to write `show info;show stat;show ssl cert` (the socket read alone); "
        f"decoding, parsing and building the families take {work:.0f} ms of CPU ({st[DECODE]:.0f} + "
        f"{st[PARSE]:.0f} + {st[BUILD]:.0f}). One after the other, reading, parsing and building "
        f"take {st[SEQUENTIAL]:.0f} ms of wall time; streamed, as the exporter does (the socket drained "
        f"first, rows parsed a block at a time while HAProxy has no more yet), {st[STREAMED]:.0f} ms: "
        f"{overlapped}. Rendering and encoding the "
        f"text then takes {st[RENDER]:.0f} ms, which cannot start before the last row (a family's "
        f"samples come together). Our own path is thus about {st[STREAMED] + st[RENDER]:.0f} ms "
        "before the HTTP server's socket writes; the largest of our CPU stages is "
        f'"{largest}" ({st[largest]:.0f} ms). promex spends {_med(promex.cpu) * 1000:.0f} ms of '
        f"HAProxy's CPU on its whole scrape ({_med(promex.secs) * 1000:.0f} ms of wall time here); ours "
        f"took {_med(ours.cpu) * 1000:.0f} ms of the exporter's CPU and {_med(ours.haproxy_cpu) * 1000:.0f} "
        f"ms of HAProxy's for the dump ({_med(ours.secs) * 1000:.0f} ms of wall time): {total:.0f} ms of "
        f"the machine's CPU against promex's {_med(promex.cpu) * 1000:.0f} ms, which bounds our wall "
        "time against promex's whenever both CPUs are busy. "
        f"{compression(row)} Wall times above CPU times are waits for a CPU on a loaded machine, "
        "which fall on every exporter alike since the rounds interleave."
    )


def _ms(seconds: float) -> str:
    """A signed difference in whole milliseconds (never "-0")."""
    return f"{round(seconds * 1000) + 0:+d}"


def compression(row: dict[str, object]) -> str:
    """What gzip costs and saves us at one size, from the stages and the gzip-asked scrapes."""
    st = {k: v * 1000 for k, v in row["stages"].items()}  # type: ignore[attr-defined]
    ours: Runs = row["runs"]["ours"]  # type: ignore[index]
    return (
        f"Compression: gzip (ISA-L, level 1) costs {st[GZIP] - st[RENDER]:.0f} ms of CPU on top of "
        f"rendering (zlib at level 1 would cost {st[ZLIB] - st[RENDER]:.0f} ms; against a plain scrape, "
        f"a gzip-asked one took {_ms(_med(ours.gz_cpu) - _med(ours.cpu))} ms of the exporter's "
        f"CPU, in ticks of 10 ms, and {_ms(_med(ours.gz_secs) - _med(ours.secs))} ms of wall "
        "time) and cuts the body "
        f"from {ours.wire / 1e6:.1f} MB to {ours.gz_wire / 1e6:.1f} MB "
        f"({ours.wire / max(ours.gz_wire, 1):.0f}x less) on the wire and in Prometheus' reads."
    )


def prom_table(rows: list[dict[str, object]]) -> str:
    out = [
        "| servers | exporter | scrape_duration_seconds median | max | scrape_body_size_bytes (MB) "
        "| samples | scrapes | failed | offset in the interval (s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"ours": "ours", "promex": "promex", "go": "Go exporter"}
    for r in rows:
        prom: dict[str, dict[str, float]] | None = r.get("prom")  # type: ignore[assignment]
        if not prom:
            continue
        for name in NAMES:
            x = prom[name]
            out.append(
                f"| {r['servers']:,} | {labels[name]} | {x['median_s']:.3f} | {x['max_s']:.3f} "
                f"| {x['bytes'] / 1e6:.1f} | {x['samples']:,.0f} | {x['scrapes']:.0f} "
                f"| {x['failed']:.0f} | {x['offset_s']:.1f} |"
            )
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", type=int, nargs="+", default=[1000, 5000, 10000])
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--prometheus", type=float, default=90, help="seconds of Prometheus (0: none)")
    args = p.parse_args()
    for tool in ("haproxy", GO_EXPORTER, "prometheus"):
        if shutil.which(tool) is None:
            print(f"{tool} not installed", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="nines-bench-") as tmp:
        rows = [bench_one(n, args.rounds, args.prometheus, Path(tmp)) for n in args.servers]
    print(machine(args.rounds))
    print("Goals (issue 18):\n")
    print(goals(rows))
    print("Full scrapes without compression (`Accept-Encoding: identity`), body read in full:\n")
    print(scrape_table(rows))
    print(
        "Compression: the same scrapes asking for gzip as Prometheus does. promex does not "
        "compress unless HAProxy's compression filter is configured for it; ours and the Go "
        "exporter gzip when asked.\n"
    )
    print(gzip_table(rows))
    print(
        "Where our scrape's time goes, each stage timed in the bench process on the same HAProxy "
        "(`stages.py`: the first three in wall time, medians of five interleaved; the rest in CPU "
        "time on one recorded answer, best of five):\n"
    )
    print(stages_table(rows))
    if args.prometheus > 0:
        print(
            f"A real Prometheus scraping the three every {INTERVAL} s (timeout {INTERVAL} s), "
            f"{args.prometheus:.0f} s per size, compression negotiated by Prometheus, samples "
            "dropped by `metric_relabel_configs` after parsing (see `prom.py`): "
            "`scrape_duration_seconds` covers the request, decompression and parsing.\n"
        )
        print(prom_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
