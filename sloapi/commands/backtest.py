"""`sloapi backtest --from T --to T [--slo ID ...] [--format text|json]`: how the generated
burn-rate alerts would have fired over the recorded history, per SLO and per tier."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from sloapi.config import Settings
from sloapi.engine.durations import parse_time
from sloapi.errors import PrometheusUnavailableError, QueryError, SpecError, WindowError
from sloapi.prometheus import PromClient
from sloapi.specs import SLOSpec, load_dir
from sloapi.status.backtest import BacktestOptions, compute_backtest


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def to_text(results: list[dict[str, Any]]) -> str:
    """One block per SLO, one line per tier."""
    out: list[str] = []
    for result in results:
        out.append(
            f"{result['id']}: {len(result['incidents'])} incidents from {result['from']} to {result['to']}"
        )
        for tier in result["tiers"]:
            delays = ", ".join(_minutes(d["delay_seconds"]) for d in tier["detections"]) or "-"
            out.append(
                f"  {tier['name']:<16} caught {tier['incidents_caught']}, missed {tier['incidents_missed']}, "
                f"delays {delays}; {tier['alerts_without_incident']} alerts without incident; "
                f"firing {_minutes(tier['firing_seconds'])}"
            )
    return "\n".join(out) + "\n"


def _select(specs: list[SLOSpec], wanted: list[str] | None) -> list[SLOSpec]:
    if not wanted:
        return specs
    known = {s.id: s for s in specs}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SpecError("--slo", unknown[0], "no such SLO")
    return [known[w] for w in wanted]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the backtest. Exit codes: 0 done; 1 Prometheus unreachable or a query refused;
    2 invalid input (times, range, spec, unknown SLO)."""
    now = datetime.now(UTC)
    try:
        start, end = parse_time(args.start, now), parse_time(args.end, now)
        specs = _select(load_dir(settings.slos_dir), args.slo)
    except (WindowError, SpecError) as exc:
        print(f"sloapi backtest: {exc}", file=sys.stderr)
        return 2
    prom = PromClient.from_settings(settings)
    try:
        results = [
            compute_backtest(prom.batch(), s, start, end, BacktestOptions.from_settings(settings))
            for s in specs
        ]
    except WindowError as exc:
        print(f"sloapi backtest: {exc}", file=sys.stderr)
        return 2
    except (PrometheusUnavailableError, QueryError) as exc:
        print(f"sloapi backtest: {exc}", file=sys.stderr)
        return 1
    finally:
        prom.close()
    text = json.dumps({"slos": results}, indent=2) + "\n" if args.format == "json" else to_text(results)
    sys.stdout.write(text)
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `backtest`."""
    parser = subparsers.add_parser(
        "backtest", parents=[common], help="replay the burn-rate alerts over recorded history"
    )
    parser.add_argument("--from", dest="start", required=True, help="start, RFC 3339 or unix seconds")
    parser.add_argument("--to", dest="end", required=True, help="end, RFC 3339 or unix seconds")
    parser.add_argument("--slo", action="append", metavar="ID", help="only this SLO (repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)
