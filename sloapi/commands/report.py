"""`sloapi report YYYY-MM`: print, save or mail a month's availability report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
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

#: Exit codes of ``--send``, for cron: the worst outcome over the recipients decides.
EXIT_SENT, EXIT_FAILED, EXIT_USAGE, EXIT_ALREADY_SENT, EXIT_DELAYED, EXIT_UNCONFIRMED = 0, 1, 2, 3, 4, 5
#: Worst first: a failure outranks an unconfirmed copy, which outranks a delay, and so on.
_SEND_CODES = (
    ("failed", EXIT_FAILED),
    ("unconfirmed", EXIT_UNCONFIRMED),
    ("delayed", EXIT_DELAYED),
    ("sent", EXIT_SENT),
    ("already_sent", EXIT_ALREADY_SENT),
)


def send_exit_code(statuses: Iterable[str]) -> int:
    """The exit code of ``--send`` for the recipients' outcomes.

    0 at least one copy sent by this run and the others already sent; 3 every copy had been
    sent before (by another run or instance), nothing sent now; 4 a copy is delayed (another
    instance is sending it, or its retry is not due: ``next_attempt_at``); 5 a copy went out
    without the server's final reply (it may have arrived; retried later, same Message-ID);
    1 a copy failed (retried at ``next_attempt_at``). Mixed outcomes give the first of 1, 5, 4,
    0, 3 that applies.
    """
    seen = set(statuses)
    return next((code for status, code in _SEND_CODES if status in seen), EXIT_ALREADY_SENT)


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
        return _fail("no recipients: set SLOAPI_REPORT_RECIPIENTS, spec recipients, or --to", EXIT_USAGE)
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        retry = f" next attempt at {outcome.next_attempt_at.isoformat()}" if outcome.next_attempt_at else ""
        print(f"{outcome.recipient}: {outcome.status}{detail}{retry}", file=sys.stderr)
        if outcome.status == "already_sent":
            print("  already delivered; --force sends it again", file=sys.stderr)
    return send_exit_code(o.status for o in outcomes)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute (or load) the report, write it, and mail it with ``--send``.

    Exit codes: 0 done; 1 Prometheus unreachable or a mail failed; 2 malformed or future
    month, invalid spec, month not final for ``--send``; with ``--send`` also 3 already sent
    before, 4 delayed, 5 unconfirmed (see ``send_exit_code``).
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
            report, _ = service.report(month, refresh=args.refresh, keep=args.send or args.refresh)
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
