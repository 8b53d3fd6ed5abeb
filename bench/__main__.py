"""Run every benchmark side by side with its peer tools and rewrite bench/README.md.

Each part's script prints a Markdown section on stdout (progress on stderr); this runner sets up
the peer tools' own virtualenvs when missing, runs each script in turn, and writes the sections
under a header that names the machine. `python -m bench haproxy pgbouncer` runs only those.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable


@dataclass
class Bench:
    """One benchmark: its script, and the peer-tool virtualenvs it needs."""

    name: str
    title: str
    script: str
    venvs: dict[str, list[list[str]]] = field(default_factory=dict)


BENCHES = [
    Bench("haproxy", "HAProxy exporter: full scrape vs the Go exporter and promex", "haproxy/bench.py"),
    Bench(
        "pgbouncer",
        "PgBouncer exporter: 1,000 pools vs spreaker's exporter",
        "pgbouncer/run.py",
        {
            ".venv-spreaker": [
                [
                    "psycopg2-binary",
                    "prometheus_client==0.8.0",
                    "python-json-logger==0.1.11",
                    "PyYAML>=5.4.1",
                ],
                ["--no-deps", "prometheus-pgbouncer-exporter==2.1.2"],
            ],
        },
    ),
    Bench("patroni", "Patroni exporter: 30 targets in parallel", "patroni/run.py"),
    Bench(
        "sloapi",
        "SLO service vs slo-generator",
        "sloapi/run.py",
        {
            ".venv-slogen": [["slo-generator[prometheus]==2.6.0", "setuptools<81"]],
        },
    ),
    Bench("reports", "Monthly report: 100 SLOs at 1-minute resolution", "reports/run.py"),
    Bench("tsdb", "SLO service on Prometheus and on VictoriaMetrics", "tsdb/run.py"),
    Bench("tests", "`make test`: lint, types and every test against the real stack", "tests/run.py"),
]


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.machine(),
    )
    mem_kb = int(
        next(
            ln.split()[1]
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
    )
    distro = next(
        (
            ln.split("=", 1)[1].strip('"')
            for ln in Path("/etc/os-release").read_text().splitlines()
            if ln.startswith("PRETTY_NAME=")
        ),
        "unknown OS",
    )
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {mem_kb / 1024 / 1024:.0f} GiB RAM, {distro}, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def ensure_venv(name: str, installs: list[list[str]]) -> None:
    """Create bench/<name> with the peer tool, once."""
    venv = HERE / name
    marker = venv / ".installed"
    if marker.exists():
        return
    print(f"bench: creating {venv.relative_to(REPO)} for a peer tool", file=sys.stderr, flush=True)
    subprocess.run([PY, "-m", "venv", str(venv)], check=True)
    for args in installs:
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *args], check=True)
    marker.touch()


def run(bench: Bench) -> str:
    """Run one benchmark script and return its Markdown section."""
    script = HERE / bench.script
    if not script.exists():
        return f"_not available in this checkout ({bench.script})_\n"
    for name, installs in bench.venvs.items():
        ensure_venv(name, installs)
    print(f"bench: {bench.name} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    out = subprocess.run([PY, str(script)], cwd=REPO, stdout=subprocess.PIPE, text=True, check=False)
    took = time.monotonic() - started
    print(f"bench: {bench.name} done in {took:.0f}s (exit {out.returncode})", file=sys.stderr, flush=True)
    if out.returncode != 0:
        return f"_failed (exit {out.returncode}); rerun `python {bench.script}` to see why_\n"
    return out.stdout.strip() + "\n"


def usage() -> str:
    """What the runner accepts."""
    names = " ".join(b.name for b in BENCHES)
    return f"usage: python -m bench [NAME ...]   (names: {names}; none: all of them)"


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(usage())
        return 0
    unknown = [a for a in argv if a not in {b.name for b in BENCHES}]
    if unknown:
        print(f"bench: unknown benchmark {', '.join(unknown)}\n{usage()}", file=sys.stderr)
        return 2
    wanted = [b for b in BENCHES if not argv or b.name in argv]
    sections = [(b, run(b)) for b in wanted]
    readme = HERE / "README.md"
    kept = _existing_sections(readme) if argv else {}
    for b, text in sections:
        kept[b.name] = text
    parts = [
        "# Benchmarks\n",
        "Rerun with `make bench` (or `python -m bench NAME ...` for some). Each table comes from one run "
        "in which our tool and its peers measured the same target on the same machine. "
        "Figures are medians unless a column says otherwise; ratios are ours divided by the peer's.\n",
        f"Machine: {machine()}.  \nRun: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n",
    ]
    for b in BENCHES:
        if b.name in kept:
            parts.append(f"<!-- bench:{b.name} -->\n## {b.title}\n\n{kept[b.name]}<!-- /bench:{b.name} -->\n")
    readme.write_text("\n".join(parts))
    print(f"bench: wrote {readme.relative_to(REPO)}", file=sys.stderr)
    return 0


def _existing_sections(readme: Path) -> dict[str, str]:
    if not readme.exists():
        return {}
    text = readme.read_text()
    out = {}
    for b in BENCHES:
        start, end = f"<!-- bench:{b.name} -->\n", f"<!-- /bench:{b.name} -->"
        if start in text and end in text:
            body = text.split(start, 1)[1].split(end, 1)[0]
            out[b.name] = body.split("\n\n", 1)[1] if "\n\n" in body else body
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
