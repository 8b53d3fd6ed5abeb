"""`sloapi report YYYY-MM`: print, save or mail a month's availability report."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloapi.config import Settings
from sloapi.errors import PrometheusUnavailableError, QueryError, SpecError
from sloapi.prometheus import PromClient
from sloapi.reports.charts import render_charts
from sloapi.reports.errors import MonthError
from sloapi.reports.html import data_uris, to_html
from sloapi.reports.model import MonthReport
from sloapi.reports.month import parse_month
from sloapi.reports.render import to_csv, to_json, to_text
from sloapi.reports.service import ReportService
from sloapi.service import declared_exclusions
from sloapi.specs import load_dir
from sloapi.specs.exclusions import load_dir_exclusions
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade

FORMATS = ("json", "html", "csv", "text")


def render(report: MonthReport, fmt: str) -> str:
    """The report in ``fmt`` (``json``, ``html`` with embedded charts, ``csv`` or ``text``)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "html":
        return to_html(report, data_uris(render_charts(report.slos)))
    return to_text(report)


def _fail(message: str, code: int) -> int:
    print(f"sloapi report: {message}", file=sys.stderr)
    return code


def _send(service: ReportService, args: argparse.Namespace) -> int:
    month = service.parse(args.month)
    outcomes = service.send(month, to=args.to or (), force=args.force)
    if not outcomes:
        return _fail("no recipients: set SLOAPI_REPORT_RECIPIENTS, spec recipients, or --to", 2)
    code = 0
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        print(f"{outcome.recipient}: {outcome.status}{detail}", file=sys.stderr)
        if outcome.status == "failed":
            code = 1
        elif outcome.status == "already_sent":
            code = code or 1
            print("  already delivered; --force sends it again", file=sys.stderr)
    return code


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute (or load) the report, write it, and mail it with ``--send``.

    Exit codes: 0 done; 1 Prometheus unreachable, a mail failed or was already delivered;
    2 malformed or future month, invalid spec, month not final for ``--send``.
    """
    try:
        parse_month(args.month, settings.report_timezone, now=datetime.now(UTC))
    except MonthError as exc:
        return _fail(str(exc), 2)
    try:
        specs = load_dir(Path(settings.slos_dir))
        load_dir_exclusions(Path(settings.slos_dir), {spec.id for spec in specs})
    except SpecError as exc:
        return _fail(str(exc), 2)
    engine = make_engine(settings.database_url)
    prom = PromClient.from_settings(settings)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        exclusions = declared_exclusions(Path(settings.slos_dir), sessions, {spec.id for spec in specs})
        service = ReportService(settings, specs, prom, sessions, exclusions=exclusions)
        try:
            month = service.parse(args.month)
            report, _ = service.report(month, refresh=args.refresh)
        except MonthError as exc:
            return _fail(str(exc), 2)
        except (PrometheusUnavailableError, QueryError) as exc:
            return _fail(str(exc), 1)
        if report.partial:
            print(f"sloapi report: {month.title} is still in progress: partial report", file=sys.stderr)
        text = render(report, args.format)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        elif not args.send or args.format != "text" or sys.stdout.isatty():
            sys.stdout.write(text)
        if args.send:
            try:
                return _send(service, args)
            except MonthError as exc:
                return _fail(str(exc), 2)
        return 0
    finally:
        prom.close()
        engine.dispose()


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``sloapi report``."""
    parser = subparsers.add_parser(
        "report",
        parents=[common],
        help="monthly availability report",
        description="Report one calendar month (in SLOAPI_REPORT_TIMEZONE) for every SLO.",
    )
    parser.add_argument("month", help="the month, YYYY-MM")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--out", metavar="FILE", help="write the report to FILE")
    parser.add_argument("--send", action="store_true", help="mail it (once per recipient)")
    parser.add_argument(
        "--to", nargs="+", metavar="ADDRESS", help="recipients instead of the configured ones"
    )
    parser.add_argument("--refresh", action="store_true", help="recompute a kept month (old snapshot kept)")
    parser.add_argument("--force", action="store_true", help="with --send: mail again if already sent")
    parser.set_defaults(func=run)
