"""`sloapi check DIR`: validate specs; exit 2 naming file, SLO and reason."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloapi.config import Settings
from sloapi.errors import PrometheusUnavailableError, QueryError, SpecError
from sloapi.prometheus import PromClient
from sloapi.specs import SLOSpec, load_dir


def check_promql(prom: PromClient, specs: list[SLOSpec]) -> None:
    """Have Prometheus parse every query of every spec (evaluated at now, results ignored).

    Raises:
        SpecError: a query Prometheus rejects (file, SLO, Prometheus's reason).
        PrometheusUnavailableError: Prometheus is not reachable.
    """
    now = datetime.now(UTC)
    for spec in specs:
        for kind, query in spec.queries("5m").items():
            try:
                prom.instant(query, now)
            except QueryError as exc:
                raise SpecError(spec.source, spec.id, f"{kind} query rejected: {exc}") from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Validate; print `OK: N SLOs` or `FILE: SLO ID: reason` and exit 2."""
    directory = Path(args.dir) if args.dir else settings.slos_dir
    try:
        specs = load_dir(directory)
    except SpecError as exc:
        print(f"sloapi check: {exc}", file=sys.stderr)
        return 2
    note = "PromQL not checked (Prometheus unreachable)"
    if not args.offline:
        prom = PromClient.from_settings(settings)
        try:
            check_promql(prom, specs)
            note = f"PromQL accepted by {settings.prometheus_url}"
        except SpecError as exc:
            print(f"sloapi check: {exc}", file=sys.stderr)
            return 2
        except PrometheusUnavailableError:
            pass
        finally:
            prom.close()
    else:
        note = "PromQL not checked (--offline)"
    print(f"OK: {len(specs)} SLOs in {directory}; {note}")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `check`."""
    parser = subparsers.add_parser("check", parents=[common], help="validate SLO specs")
    parser.add_argument("dir", nargs="?", help="spec directory (default: --slos / settings)")
    parser.add_argument("--offline", action="store_true", help="do not ask Prometheus")
    parser.set_defaults(func=run)
