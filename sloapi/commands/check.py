"""`sloapi check DIR`: validate specs; list every problem of every file, then exit 2.

Each problem is one line on stderr: `FILE[:LINE]: SLO ID: FIELD REASON`. With Prometheus
reachable, every query of every valid SLO is sent to it (evaluated now, results ignored) and its
own message is shown for each query it rejects. Queries go to the configured backend, so a
VictoriaMetrics URL accepts MetricsQL.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloapi.config import Settings
from sloapi.errors import PrometheusUnavailableError, QueryError, SpecError
from sloapi.prometheus import PromClient
from sloapi.specs import SLOSpec, read_dir

_BYTES_BODY = re.compile(r"""\((b(['"]).*\2)\)\s*$""", re.DOTALL)
_ERROR_FIELD = re.compile(r'"error":"(.*?)(?:"\}|$)', re.DOTALL)


def prometheus_message(text: str) -> str:
    """Prometheus's own `error` text out of a client error quoting the raw body (maybe cut short)."""
    match = _BYTES_BODY.search(text)
    if match is not None:
        try:
            body = ast.literal_eval(match.group(1))
            error = json.loads(body.decode("utf-8", "replace")).get("error")
        except (ValueError, SyntaxError, AttributeError):
            error = None
        if error:
            return str(error)
    field = _ERROR_FIELD.search(text)
    if field is None:
        return text
    return field.group(1).replace("\\\\", "\\").replace('\\"', '"')


def check_promql(prom: PromClient, specs: list[SLOSpec]) -> list[SpecError]:
    """Have Prometheus parse every query of every spec; one error per rejected query.

    Raises:
        PrometheusUnavailableError: Prometheus is not reachable.
    """
    now = datetime.now(UTC)
    errors = []
    for spec in specs:
        for kind, query in spec.queries("5m").items():
            try:
                prom.instant(query, now)
            except QueryError as exc:
                reason = f"{kind} query rejected by Prometheus: {prometheus_message(str(exc))}"
                errors.append(SpecError(spec.source, spec.id, reason))
    return errors


def _promql_note(
    args: argparse.Namespace, settings: Settings, specs: list[SLOSpec]
) -> tuple[str, list[SpecError]]:
    if args.offline:
        return "PromQL not checked (--offline)", []
    prom = PromClient.from_settings(settings)
    try:
        errors = check_promql(prom, specs)
    except PrometheusUnavailableError as exc:
        return f"PromQL not checked: Prometheus at {settings.prometheus_url} is unreachable ({exc})", []
    finally:
        prom.close()
    return f"PromQL accepted by {settings.prometheus_url}", errors


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Validate; print `OK: N SLOs ...`, or every problem and exit 2."""
    directory = Path(args.dir) if args.dir else settings.slos_dir
    specs, errors = read_dir(directory)
    note, rejected = _promql_note(args, settings, specs)
    errors += rejected
    if errors:
        for error in errors:
            print(f"sloapi check: {error}", file=sys.stderr)
        files = len({e.file for e in errors})
        print(f"sloapi check: {len(errors)} problem(s) in {files} file(s); {note}", file=sys.stderr)
        return 2
    print(f"OK: {len(specs)} SLOs in {directory}; {note}")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `check`."""
    parser = subparsers.add_parser("check", parents=[common], help="validate SLO specs")
    parser.add_argument("dir", nargs="?", help="spec directory (default: --slos / settings)")
    parser.add_argument("--offline", action="store_true", help="do not ask Prometheus")
    parser.set_defaults(func=run)
