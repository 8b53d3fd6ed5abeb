"""Build the nines Grafana dashboards into dashboards/json/ (or check that they are current).

Usage: python dashboards/build.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import board_etcd
import board_haproxy
import board_keepalived
import board_overview
import board_patroni
import board_pgbouncer
import board_slo
from builders import to_json
from grafana_foundation_sdk.models.dashboard import Dashboard

OUT = Path(__file__).resolve().parent / "json"
BOARDS: dict[str, Callable[[], Dashboard]] = {
    "overview": board_overview.build,
    "haproxy": board_haproxy.build,
    "pgbouncer": board_pgbouncer.build,
    "patroni": board_patroni.build,
    "etcd": board_etcd.build,
    "slo": board_slo.build,
    "keepalived": board_keepalived.build,
}


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {f"{name}.json": to_json(build()) for name, build in BOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards, or with --check report the stale ones and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = [n for n, text in files.items() if not (OUT / n).is_file() or (OUT / n).read_text() != text]
        extra = sorted(p.name for p in OUT.glob("*.json") if p.name not in files)
        for name in [*stale, *extra]:
            print(f"dashboards/json/{name} is out of date: run python dashboards/build.py")
        return 1 if stale or extra else 0
    OUT.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
