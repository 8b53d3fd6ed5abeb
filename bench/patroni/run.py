"""Benchmark: the Patroni exporter scraping 30 targets (10 clusters x 3) in parallel.

Against a small fake Patroni REST API (bench/patroni/fake_patroni.py, one process, 30 ports).
Each scenario runs the real exporter (config file, HTTP server) and times GET /metrics:
without added latency, with 100 ms per REST answer (one round trip is then ~0.1 s, one target
after the other would be 30 x 0.1 s, and every endpoint one after the other 90 x 0.1 s), and
with 3 targets that never answer (a scrape then waits one target timeout, 1 s, not three).
Prints a Markdown section on stdout, progress on stderr.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from exporters.patroni.cli import build  # noqa: E402

CLUSTERS, MEMBERS, TIMEOUT, ROUNDS = 10, 3, 1.0, 15
SCENARIOS = [
    ("common case, no added latency", 0.0, 0),
    ("common case, 100 ms per REST answer", 100.0, 0),
    ("3 targets hang, 100 ms per answer", 100.0, 3),
]


def base_port(n: int) -> int:
    """A run of `n` free consecutive ports."""
    for base in range(23000, 30000, 100):
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise OSError("no free port range")


def scenario(latency_ms: float, hang: int) -> dict[str, float]:
    n = CLUSTERS * MEMBERS
    base = base_port(n)
    fake = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("fake_patroni.py")),
            f"--base-port={base}",
            f"--clusters={CLUSTERS}",
            f"--members={MEMBERS}",
            f"--latency-ms={latency_ms}",
            f"--hang={hang}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "patroni.yml"
        targets = [
            {"name": f"node-{i}", "address": f"http://127.0.0.1:{base + i}", "timeout": TIMEOUT}
            for i in range(n)
        ]
        cfg.write_text(yaml.safe_dump({"targets": targets}))
        collector, server, scraper = build(
            ["--config.file", str(cfg), "--web.listen-address=127.0.0.1:0", "--log.level=error"]
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        times: list[float] = []
        up = lines = 0
        try:
            with httpx.Client(timeout=30) as client:
                client.get(url)  # warm-up: connections and thread pools
                for _ in range(ROUNDS):
                    t0 = time.perf_counter()
                    text = client.get(url).text
                    times.append(time.perf_counter() - t0)
            up = sum(1 for ln in text.splitlines() if ln.startswith("patroni_up{") and ln.endswith(" 1"))
            lines = sum(1 for ln in text.splitlines() if not ln.startswith("#"))
        finally:
            server.shutdown()
            server.server_close()
            collector.close()
            scraper.close()
            fake.stdin.close()  # type: ignore[union-attr]
            fake.wait(10)
    return {
        "median": statistics.median(times),
        "max": max(times),
        "up": up,
        "lines": lines,
    }


def main() -> int:
    rows = []
    for title, latency, hang in SCENARIOS:
        print(f"patroni bench: {title} ...", file=sys.stderr, flush=True)
        r = scenario(latency, hang)
        one_trip = latency / 1000
        rows.append(
            f"| {title} | {CLUSTERS * MEMBERS} | {r['up']:.0f} | {r['lines']:.0f} | "
            f"{r['median']:.3f} | {r['max']:.3f} | "
            f"{one_trip + (TIMEOUT if hang else 0):.1f} | "
            f"{CLUSTERS * MEMBERS * 3 * one_trip + hang * TIMEOUT:.1f} |"
        )
    print(
        "Patroni exporter, 30 targets (10 clusters of 3 nodes) served by a fake Patroni REST API "
        f"(`bench/patroni/fake_patroni.py`), target timeout {TIMEOUT:g} s, GET /metrics timed "
        f"{ROUNDS} times after one warm-up. Each target's `/patroni`, `/cluster` and `/history` "
        "are read at once and all targets in parallel, so a scrape takes about one REST round "
        "trip, and one timeout when targets hang. The rest is CPU: 90 HTTP requests, parsing "
        "and rendering on a machine that also runs the fake server.\n"
    )
    print(
        "| scenario | targets | up | series | median s | max s | network wait, parallel s "
        "| network wait, all requests in sequence s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
