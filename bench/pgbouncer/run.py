"""Benchmark: scrape time of our PgBouncer exporter vs spreaker's prometheus-pgbouncer-exporter.

Starts a throwaway PostgreSQL 15 and one PgBouncer with DATABASES x USERS pools (default
100 x 10 = 1,000), opens the pools and keeps some clients connected, then scrapes both
exporters over HTTP in alternation and prints a markdown table (median of N scrapes).

Run as root (the daemons run as the `postgres` user), ideally in a network namespace:
    python bench/pgbouncer/run.py [--databases 100] [--users 10] [--scrapes 21]
spreaker's exporter must be installed in bench/.venv-spreaker (see bench/pgbouncer/README.md).
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

import psycopg
from stages import stages

from stack.throwaway import as_postgres, chown_postgres, free_port, stop, wait_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SPREAKER = REPO / "bench" / ".venv-spreaker" / "bin" / "pgbouncer-exporter"
STATS_PASSWORD = "bench-stats"


def start(
    cmd: list[str], log: Path, postgres: bool = False, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        kwargs: dict[str, object] = as_postgres() if postgres else {}
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            **kwargs,  # type: ignore[arg-type]
        )


def scrape(url: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as resp:
        body = resp.read()
    return time.perf_counter() - t0, body


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--databases", type=int, default=100)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--clients", type=int, default=200, help="idle client connections kept open")
    ap.add_argument("--scrapes", type=int, default=21)
    args = ap.parse_args()
    if not SPREAKER.exists():
        raise SystemExit(f"missing {SPREAKER}: see bench/pgbouncer/README.md")

    work = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    work.chmod(0o755)
    chown_postgres(work)
    procs: list[subprocess.Popen[bytes]] = []
    clients: list[psycopg.Connection] = []
    try:
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(work / "pg"), "-U", "postgres", "--auth=trust"],
            check=True, capture_output=True, cwd=work, **as_postgres(),  # type: ignore[arg-type]
        )  # fmt: skip
        pg_port = free_port()
        pg = start(
            [str(PG_BIN / "postgres"), "-D", str(work / "pg"), "-p", str(pg_port), "-k", str(work),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
            work / "pg.log", postgres=True,
        )  # fmt: skip
        procs.append(pg)
        pg_dsn = f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres"
        wait_for(
            lambda: psycopg.connect(pg_dsn, connect_timeout=2).close() or True,
            60,
            "postgres",
            ignore=(Exception,),
        )
        users = [f"u{i:02d}" for i in range(args.users)]
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            for u in users:
                c.execute(f"CREATE ROLE {u} LOGIN")

        pb_port = free_port()
        userlist = work / "userlist.txt"
        userlist.write_text("".join(f'"{u}" ""\n' for u in users) + f'"nines_stats" "{STATS_PASSWORD}"\n')
        dbs = [f"d{i:03d}" for i in range(args.databases)]
        (work / "pgbouncer.ini").write_text(
            "[databases]\n"
            + "".join(f"{d} = host=127.0.0.1 port={pg_port} dbname=postgres\n" for d in dbs)
            + "[pgbouncer]\nlisten_addr = 127.0.0.1\n"
            + f"listen_port = {pb_port}\nunix_socket_dir =\nauth_type = trust\n"
            + f"auth_file = {userlist}\nstats_users = nines_stats\npool_mode = transaction\n"
            + "max_client_conn = 5000\ndefault_pool_size = 20\nmax_db_connections = 2\n"
            + f"logfile = {work / 'pgbouncer.log'}\nlog_connections = 0\nlog_disconnections = 0\n"
        )
        for f in (userlist, work / "pgbouncer.ini"):
            chown_postgres(f)
        procs.append(start(["pgbouncer", str(work / "pgbouncer.ini")], work / "pgbouncer.out", postgres=True))
        stats_dsn = f"postgresql://nines_stats@127.0.0.1:{pb_port}/pgbouncer"
        wait_for(
            lambda: psycopg.connect(stats_dsn, password=STATS_PASSWORD, connect_timeout=2).close() or True,
            60,
            "pgbouncer",
            ignore=(Exception,),
        )
        print(f"opening {len(dbs) * len(users)} pools ...", file=sys.stderr)
        for d in dbs:
            for u in users:
                conn = psycopg.connect(f"host=127.0.0.1 port={pb_port} dbname={d} user={u}", autocommit=True)
                conn.execute("SELECT 1")
                if len(clients) < args.clients:
                    clients.append(conn)
                else:
                    conn.close()

        ours_port, theirs_port = free_port(), free_port()
        env = {**os.environ, "PB_STATS_PASSWORD": STATS_PASSWORD}
        ours = start(
            [sys.executable, "-m", "exporters.pgbouncer.cli", "--pgbouncer.dsn", stats_dsn,
             "--pgbouncer.password-env", "PB_STATS_PASSWORD", "--web.listen-address",
             f"127.0.0.1:{ours_port}", "--log.level", "warn"],
            work / "ours.log", env=env,
        )  # fmt: skip
        procs.append(ours)
        (work / "spreaker.yml").write_text(
            f"exporter_host: 127.0.0.1\nexporter_port: {theirs_port}\npgbouncers:\n"
            f"  - dsn: postgresql://nines_stats:{STATS_PASSWORD}@127.0.0.1:{pb_port}/pgbouncer\n"
            "    connect_timeout: 5\n"
        )
        theirs = start([str(SPREAKER), "--config", str(work / "spreaker.yml")], work / "spreaker.log")
        procs.append(theirs)
        urls = {
            "nines pgbouncer-exporter": f"http://127.0.0.1:{ours_port}/metrics",
            "spreaker prometheus-pgbouncer-exporter 2.1.2": f"http://127.0.0.1:{theirs_port}/metrics",
        }
        pids = {
            "nines pgbouncer-exporter": ours.pid,
            "spreaker prometheus-pgbouncer-exporter 2.1.2": theirs.pid,
        }
        for url in urls.values():
            wait_for(lambda url=url: scrape(url), 60, url, ignore=(Exception,))
        times: dict[str, list[float]] = {name: [] for name in urls}
        cpu: dict[str, float] = dict.fromkeys(urls, 0.0)
        bodies: dict[str, bytes] = {}
        for url in urls.values():  # warm-up
            scrape(url)
        for _ in range(args.scrapes):
            for name, url in urls.items():
                used = cpu_seconds(pids[name])
                took, body = scrape(url)
                cpu[name] += cpu_seconds(pids[name]) - used
                times[name].append(took)
                bodies[name] = body
        ours_body = bodies["nines pgbouncer-exporter"].decode()
        assert "pgbouncer_up 1" in ours_body, ours_body[-2000:]
        pools = sum(
            1
            for line in ours_body.splitlines()
            if line.startswith("pgbouncer_pools_client_active_connections{")
        )
        version = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True, check=False)
        cpu_model = next(
            (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
             if ln.startswith("model name")),
            platform.machine(),
        )  # fmt: skip
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"\n{pools} pools ({len(dbs)} databases x {len(users)} users), {len(clients)} idle clients, "
            f"PgBouncer {version.stdout.split()[1]}, {args.scrapes} scrapes each after one warm-up, the "
            f"exporters alternating; {cpu_model}, {os.cpu_count()} CPUs (`nproc`), Python "
            f"{platform.python_version()}, shared with other work: load average {load} at the end.\n"
        )
        print(
            "| exporter | median scrape (ms) | p90 (ms) | CPU per scrape (ms) | samples | bytes "
            "| peak RSS (MB) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, ts in times.items():
            body = bodies[name]
            samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            p90 = statistics.quantiles(ts, n=10)[-1]
            print(
                f"| {name} | {statistics.median(ts) * 1000:.1f} | {p90 * 1000:.1f} "
                f"| {cpu[name] / args.scrapes * 1000:.1f} | {samples} | "
                f"{len(body)} | {rss_mb(pids[name]):.0f} |"
            )
        ours_ms = statistics.median(times["nines pgbouncer-exporter"]) * 1000
        verdict = "met" if ours_ms < 30 else f"missed by {ours_ms - 30:.1f} ms"
        print(f"\nGoal (issue 18), median under 30 ms at 1,000 pools: {verdict} ({ours_ms:.1f} ms).")
        print(
            "\nWhere our scrape's time goes (`stages.py`: one console connection in this process, "
            "queries in wall time; parsing and rendering in CPU time, best of five):\n"
        )
        print("| stage | ms |\n|---|---:|")
        for stage, took in stages(f"{stats_dsn}?password={STATS_PASSWORD}").items():
            print(f"| {stage} | {took * 1000:.1f} |")
    finally:
        for c in clients:
            c.close()
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
