"""`sloapi explain ID`: where an SLO's budget went (incidents and label values, with shares)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloapi.config import Settings
from sloapi.engine.durations import parse_time
from sloapi.engine.windows import parse_window
from sloapi.errors import PrometheusUnavailableError, QueryError, SpecError, UnknownSLOError, WindowError
from sloapi.prometheus import PromClient
from sloapi.service import declared_exclusions
from sloapi.specs import load_dir
from sloapi.status import StatusOptions, compute_explain, pin
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade


def _percent(value: float) -> str:
    return f"{100 * value:7.2f}%"


def explain_text(result: dict[str, Any]) -> str:
    """The explanation as a plain-text table."""
    lines = [
        f"{result['id']}  window {result['window']} from {result['window_start']} to {result['at']}",
        f"budget consumed {_percent(result['consumed_ratio']).strip()} ({result['verdict']})",
        "",
        "periods                                                     budget   share",
    ]
    for row in result["periods"]:
        name = f"incident {row['start']} .. {row['end']}" if row["kind"] == "incident" else row["kind"]
        lines.append(f"  {name:<56} {_percent(row['consumed_ratio'])} {_percent(row['share'])}")
    if result["labels"] is not None:
        lines += ["", f"error events by {', '.join(result['breakdown_labels']) or '(no label)'}"]
        for row in result["labels"]:
            name = "other" if row["other"] else ", ".join(f"{k}={v}" for k, v in row["labels"].items())
            lines.append(
                f"  {name or '(all)':<56} {_percent(row['consumed_ratio'])} {_percent(row['share'])}"
            )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the explanation. Exit codes: 0 done; 1 Prometheus unreachable or a query rejected;
    2 invalid spec, unknown SLO, bad window or time."""
    try:
        specs = {spec.id: spec for spec in load_dir(Path(settings.slos_dir))}
        if args.id not in specs:
            raise UnknownSLOError(f"no SLO with id {args.id!r}")
        spec = specs[args.id]
        now = datetime.now(UTC)
        at = pin(parse_time(args.at, now), now)
        window = parse_window(args.window, settings.report_timezone) if args.window else spec.window
    except (SpecError, UnknownSLOError, WindowError) as exc:
        print(f"sloapi explain: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    prom = PromClient.from_settings(settings)
    try:
        upgrade(engine)
        every = declared_exclusions(Path(settings.slos_dir), make_session_factory(engine), set(specs))()
        options = StatusOptions(
            step_seconds=settings.raw_step_seconds,
            missing=settings.missing_data,
            exclusions=tuple(item for item in every if item.applies_to(spec.id)),
        )
        result = compute_explain(prom.batch(), spec, window, at, options)
    except SpecError as exc:
        print(f"sloapi explain: {exc}", file=sys.stderr)
        return 2
    except (PrometheusUnavailableError, QueryError) as exc:
        print(f"sloapi explain: {exc}", file=sys.stderr)
        return 1
    finally:
        prom.close()
        engine.dispose()
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else explain_text(result))
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `explain`."""
    parser = subparsers.add_parser(
        "explain", parents=[common], help="where an SLO's error budget went (incidents, label values)"
    )
    parser.add_argument("id", help="the SLO id, e.g. web-availability")
    parser.add_argument("--window", help="30d, week, month or quarter (default: the spec's window)")
    parser.add_argument("--at", help="evaluation time, RFC 3339 or unix seconds (default: now)")
    parser.add_argument("--json", action="store_true", help="print JSON as the API answers")
    parser.set_defaults(func=run)
